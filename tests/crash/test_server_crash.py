"""kill -9 of the ledger server (`mykey ledger serve`, a real process) at random moments while
several terminals push signed batches under load, on SQLite and on PostgreSQL; after each kill
the server is started again. At the end every terminal syncs and the invariants hold: the audit
is clean, nothing a terminal stored is lost, nothing is applied twice, every balance equals its
start minus the uses the ledger applied (tests/crash/support.py).

Cycles: ``MYKEY_CRASH_CYCLES`` (CI: 5; ``make crash CYCLES=100`` for the long run).
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from server_stub.db.engine import make_engine
from tests.crash.support import (
    CYCLES,
    Load,
    PushingTerminal,
    check_invariants,
    enrollment_code,
    seed,
)
from tests.support.postgres import PostgresServer
from tests.support.processes import LedgerProcess, free_port, mykey

TERMINALS = 3


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"crash_{random.randrange(1 << 30)}"
    yield server.create_database(name)
    server.drop_database(name)


@pytest.mark.slow
def test_server_killed_under_load_loses_nothing_and_applies_nothing_twice(
    database_url: str, tmp_path: Path, test_ca: TestCA, cards: list[CardProfile]
) -> None:
    assert mykey("ledger", "migrate", "--db", database_url).returncode == 0
    engine = make_engine(database_url)
    seeded = seed(engine, cards, "CRSH")
    ledger = LedgerProcess(database_url, test_ca.trust_directory, tmp_path, free_port())
    ledger.start()
    terminals = [
        PushingTerminal.enroll(ledger.url, enrollment_code(engine), tmp_path / f"t{i}")
        for i in range(TERMINALS)
    ]
    rng = random.Random(CYCLES)
    try:
        with Load(terminals, seeded, seed=7) as load:
            for _ in range(CYCLES):
                time.sleep(rng.uniform(0.2, 1.2))  # pushes in flight, commits half done
                ledger.stop(signal.SIGKILL)
                time.sleep(rng.uniform(0.0, 0.3))  # terminals meet a dead server meanwhile
                ledger.start()
            time.sleep(0.5)
        assert load.errors == []
        for terminal in terminals:
            terminal.drain()
        checked = check_invariants(engine, terminals, seeded, terminals[0].client)
        assert checked > CYCLES  # the load really ran between the kills
    finally:
        for terminal in terminals:
            terminal.close()
        ledger.stop()
        engine.dispose()
