"""Crash safety with real processes: the terminal is killed with SIGKILL at each step of a point
use, restarted, and synced. Whatever the moment, the server applies the use at most once, exactly
once when the terminal had stored it, and the terminal's history agrees with the ledger.

Moments: before the local commit; right after it; while the authorisation is on the wire (the
request reaches the server only after the terminal died); after the server answered but before
the terminal recorded the answer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cardio.virtual.ca import TestCA
from cardio.virtual.card import VirtualJpkiCard
from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from server_stub.db.engine import make_engine
from server_stub.db.schema import transactions
from terminal.failpoints import CRASH_ENV
from tests.card_pcsc.support import PIN, READER, Reader
from tests.card_pcsc.test_terminal_e2e import KAWASAKI, _terminal
from tests.support.faulty_proxy import Fault, FaultyProxy
from tests.support.processes import ROOT, LedgerProcess, free_port, mykey, mykey_json

USE_POINTS = 100
START_POINTS = 1000


class World:
    """One ledger process for the module, a proxy in front of it, and its seed."""

    def __init__(self, ledger: LedgerProcess, proxy: FaultyProxy, program: int) -> None:
        self.ledger, self.proxy, self.program = ledger, proxy, program
        self.engine = make_engine(ledger.database_url)

    def code(self) -> str:
        with self.engine.begin() as conn:
            return op.create_enrollment_code(conn, "A0001", ["shop"]).code

    def resident(self, card: CardProfile, mykey_id: str) -> None:
        with self.engine.begin() as conn:
            op.create_mykey_id(conn, mykey_id, card.auth_certificate)
            grant = op.create_grant_program(conn, self.program, "献血", "健康福祉局", START_POINTS)
            op.grant_points(conn, grant, mykey_id)

    def uses_applied(self, terminal_id: str) -> int:
        with self.engine.connect() as conn:
            query = select(func.count()).where(
                (transactions.c.terminal_id == terminal_id)
                & (transactions.c.kind == "point_use")
                & (transactions.c.status.in_(("applied", "accepted_offline")))
            )
            return int(conn.execute(query).scalar_one())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, test_ca: TestCA) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("crash-ledger")
    url = f"sqlite:///{folder / 'ledger.db'}"
    assert mykey("ledger", "migrate", "--db", url).returncode == 0
    engine = make_engine(url)
    with engine.begin() as conn:
        op.create_municipality(conn, KAWASAKI, "川崎市")
        op.create_business(conn, "B0001", KAWASAKI, "元住吉商店街", "street")
        op.create_business(conn, "A0001", KAWASAKI, "パン屋", "shop", street_id="B0001")
        program = op.create_point_program(conn, KAWASAKI, "川崎市ポイント")
    engine.dispose()
    ledger = LedgerProcess(url, test_ca.trust_directory, folder, free_port())
    ledger.start()
    proxy = FaultyProxy(ledger.url, delay_s=2.0).start()
    try:
        yield World(ledger, proxy, program)
    finally:
        proxy.stop()
        ledger.stop()


def _use_command(data: Path) -> list[str]:
    return [
        sys.executable, "-m", "mykey", "terminal", "use", "--points", str(USE_POINTS),
        "--pin-stdin", "--reader", READER, "--data", str(data),
    ]  # fmt: skip


def _killed_use(data: Path, crash_at: str) -> int:
    done = subprocess.run(
        _use_command(data),
        input=PIN + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, CRASH_ENV: crash_at},
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.stdout == "", "a killed terminal never said done"
    return done.returncode


def _killed_on_the_wire(world: World, data: Path) -> int:
    """Kill the terminal while its authorisation waits in the (slow) network."""
    world.proxy.mode = Fault.DELAY
    before = world.proxy.count("/v1/transactions/authorize")
    process = subprocess.Popen(
        _use_command(data),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdin is not None
    process.stdin.write(PIN + "\n")
    process.stdin.flush()
    deadline = time.monotonic() + 30
    while world.proxy.count("/v1/transactions/authorize") == before:
        assert time.monotonic() < deadline and process.poll() is None, "no authorisation sent"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    stdout, _ = process.communicate()
    assert stdout == "", "a killed terminal never said done"
    time.sleep(world.proxy.delay_s + 0.5)  # the delayed request still reaches the server
    world.proxy.mode = Fault.PASS
    return process.returncode


@pytest.mark.pcsc
@pytest.mark.parametrize(
    ("moment", "stored", "mykey_id"),
    [
        ("before-local-commit", False, "CRASH001"),
        ("after-local-commit", True, "CRASH002"),
        ("on-the-wire", True, "CRASH003"),
        ("after-server-answer", True, "CRASH004"),
    ],
)
def test_a_killed_terminal_applies_the_use_exactly_once_after_restart(
    moment: str,
    stored: bool,
    mykey_id: str,
    world: World,
    tmp_path: Path,
    test_ca: TestCA,
    issue_card: Callable[[], CardProfile],
    reader: Reader,
) -> None:
    card = issue_card()
    world.resident(card, mykey_id)
    data = _terminal(tmp_path, "shop", world.proxy.url, world.code(), test_ca.trust_directory)
    terminal_id = mykey_json("terminal", "status", "--data", str(data))["terminal_id"]
    reader.insert(VirtualJpkiCard(card))

    if moment == "on-the-wire":
        code = _killed_on_the_wire(world, data)
    else:
        code = _killed_use(data, moment)
    assert code == -signal.SIGKILL

    synced = mykey_json("terminal", "sync", "--data", str(data))
    assert synced["ok"] and synced["unsynced"] == 0, synced
    expected = 1 if stored else 0
    assert world.uses_applied(terminal_id) == expected
    rows = mykey_json("terminal", "history", "--data", str(data))["rows"]
    assert [(r["kind"], r["state"]) for r in rows] == [("point_use", "applied")] * expected
    looked = mykey_json("terminal", "lookup", "--reader", READER, "--data", str(data))
    assert looked["balances"][0]["points"] == START_POINTS - USE_POINTS * expected

    again = mykey_json(*_use_command(data)[3:], stdin=PIN + "\n")  # the counter works on
    assert (again["status"], again["balance"]) == (
        "applied",
        START_POINTS - USE_POINTS * (expected + 1),
    )
