"""The demo world a newcomer starts from: made once, re-used, reset where a demo needs it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from cardio.virtual.profile import CardProfile
from mykey.demo_world import RESIDENTS, _accepts, running_world
from sync.protocol import Role
from terminal.config import load_identity


def test_the_demo_world_is_made_once_and_reset_on_every_start(tmp_path: Path) -> None:
    with running_world(tmp_path) as (world, _ledger):
        ids = {name: load_identity(paths).terminal_id for name, paths in world.terminals.items()}
        assert load_identity(world.terminals["office"]).roles == {Role.OFFICE, Role.SHOP}
        assert load_identity(world.terminals["office"]).voucher_prefix is not None
        last_try = world.cards["last-try"]
        last_try.pin_tries_left = 0  # a demo run used the last try
        last_try.save_counters()
    with running_world(tmp_path) as (world, second):
        again = {name: load_identity(paths) for name, paths in world.terminals.items()}
        assert {name: identity.terminal_id for name, identity in again.items()} == ids
        assert {identity.server_url for identity in again.values()} == {second.url}
        assert CardProfile.load(tmp_path / "cards" / "last-try").pin_tries_left == 1
        assert CardProfile.load(tmp_path / "cards" / "ordinary").pin_tries_left == 3
        revoked = world.ca.revoked()
        assert [e["serial"] for e in revoked] == [
            world.cards["revoked"].auth_certificate.serial_number
        ]
    assert set(RESIDENTS) == set(world.cards)


def test_the_demo_ledger_ends_when_the_demo_process_is_killed(tmp_path: Path) -> None:
    """A demo killed outright (Task Manager, kill -9) leaves no ledger server behind on its port."""
    with subprocess.Popen(
        [sys.executable, "-c", _DEMO_THAT_HANGS, str(tmp_path)], stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        port = int(parent.stdout.readline())
        assert _accepts(port)
        parent.kill()
    deadline = time.monotonic() + 30
    while _accepts(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _accepts(port), "the ledger server outlived the demo"


_DEMO_THAT_HANGS = """
import sys, time
from pathlib import Path
from mykey.demo_world import DemoLedger, prepare
ledger = DemoLedger(prepare(Path(sys.argv[1])))
ledger.start()
print(ledger.port, flush=True)
time.sleep(600)
"""
