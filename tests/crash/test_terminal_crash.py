"""kill -9 of the terminal's sync process (`mykey terminal sync`, a real process) at random
moments while it pushes, with the counter recording more uses in the same store meanwhile; the
ledger is a real `mykey ledger serve` on SQLite and on PostgreSQL. After the last kill a full
sync must leave the invariants true (tests/crash/support.py). The kill of `mykey terminal use`
at each step of a point use is tests/card_pcsc/test_terminal_crash.py.

Cycles: ``MYKEY_CRASH_CYCLES`` (CI: 5; ``make crash CYCLES=100`` for the long run).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from server_stub.db.engine import make_engine
from sync.client import LedgerClient
from sync.protocol import EnrollResponse
from terminal.config import TerminalPaths, load_identity, load_key
from terminal.store import TerminalStore
from tests.crash.support import CYCLES, check_invariants, enrollment_code, record_use, seed
from tests.crash.test_server_crash import database_url  # noqa: F401 - the DB fixture
from tests.support.faulty_proxy import Fault, FaultyProxy
from tests.support.processes import ROOT, LedgerProcess, free_port, mykey, mykey_json
from tests.sync.support import EnrolledTerminal

USES_PER_CYCLE = 40


@dataclass
class ProcessTerminal:
    """A terminal enrolled by `mykey terminal enroll` in its data folder; the test writes its
    store as the counter would, and `mykey terminal sync` processes push it."""

    data: Path
    enrolled: EnrolledTerminal
    store: TerminalStore
    recorded: list[str] = field(default_factory=list)

    @property
    def terminal_id(self) -> str:
        """The server-assigned terminal ID."""
        return self.enrolled.terminal_id

    @classmethod
    def enroll(cls, data: Path, url: str, code: str, trust: Path) -> ProcessTerminal:
        (data / "trust").mkdir(parents=True)
        for pem in trust.iterdir():
            shutil.copy(pem, data / "trust" / pem.name)
        # "--code=…": a code may start with "-", which argparse takes for an option
        done = mykey_json(
            "terminal", "enroll", "--server", url, f"--code={code}", "--data", str(data)
        )
        assert done["ok"], done
        paths = TerminalPaths.at(data)
        identity = load_identity(paths)
        response = EnrollResponse(
            terminal_id=identity.terminal_id,
            business_id=identity.business_id,
            street_id=identity.street_id,
            roles=sorted(identity.roles),
            server_public_key=identity.server_public_key,
        )
        key = load_key(paths.terminal_key)
        enrolled = EnrolledTerminal(response, key, key)
        return cls(data, enrolled, TerminalStore.open(paths.database))

    def sync_process(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "mykey", "terminal", "sync", "--data", str(self.data)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
            env=os.environ.copy(),
        )


@pytest.mark.slow
def test_sync_process_killed_mid_push_loses_nothing_and_applies_nothing_twice(
    database_url: str,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    test_ca: TestCA,
    cards: list[CardProfile],
) -> None:
    assert mykey("ledger", "migrate", "--db", database_url).returncode == 0
    engine = make_engine(database_url)
    seeded = seed(engine, cards, "TKIL")
    ledger = LedgerProcess(database_url, test_ca.trust_directory, tmp_path, free_port())
    ledger.start()
    rng = random.Random(CYCLES)
    # the terminal talks through a proxy that holds each push a while: every kill lands while a
    # push is on the wire (the held request still reaches the server after the kill)
    proxy = FaultyProxy(ledger.url, delay_s=1.0).start()
    terminal = ProcessTerminal.enroll(
        tmp_path / "terminal", proxy.url, enrollment_code(engine), test_ca.trust_directory
    )
    killed = 0

    def record(count: int) -> None:
        for _ in range(count):
            resident = rng.choice(seeded.residents)
            terminal.recorded.append(
                record_use(terminal.store, terminal.enrolled, seeded.program_id, resident, 5)
            )

    try:
        record(USES_PER_CYCLE)
        for _ in range(CYCLES):
            proxy.mode = Fault.DELAY
            pushes = proxy.count("/v1/transactions/push")
            process = terminal.sync_process()
            record(USES_PER_CYCLE // 4)  # the counter goes on while sync runs
            deadline = time.monotonic() + 60
            while proxy.count("/v1/transactions/push") == pushes and process.poll() is None:
                assert time.monotonic() < deadline, "the sync process sent no push"
                time.sleep(0.02)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed += 1
            process.wait(timeout=30)
            time.sleep(proxy.delay_s + 0.5)  # the held push reaches the server
            proxy.mode = Fault.PASS
            record(USES_PER_CYCLE)
        synced = mykey_json("terminal", "sync", "--data", str(terminal.data))
        assert synced["ok"] and synced["unsynced"] == 0, synced
        client = LedgerClient(ledger.url, terminal.terminal_id, terminal.enrolled.key)
        try:
            checked = check_invariants(engine, [terminal], seeded, client)
        finally:
            client.close()
        assert checked == USES_PER_CYCLE * (1 + CYCLES) + USES_PER_CYCLE // 4 * CYCLES
        assert killed == CYCLES  # every kill hit a sync with a push on the wire
    finally:
        proxy.stop()
        ledger.stop()
        engine.dispose()
