"""Crash-test harness: a seeded ledger database, terminals that record point uses in their real
durable store (TerminalStore) and push them with the real sync engine and signed client, a load
of such terminals in threads, and the invariants every crash must leave true."""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select

from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from server_stub.audit import audit
from server_stub.db.schema import transactions
from sync.client import LedgerClient, RetryPolicy, enroll
from sync.engine import SyncEngine
from sync.protocol import PointUse
from terminal.store import TerminalStore
from terminal.store.outbox import LocalDecision, OutboxState
from tests.sync.support import EnrolledTerminal

log = logging.getLogger(__name__)

KAWASAKI = "141305"
STREET, SHOP = "S0001", "A0001"
START_POINTS = 1_000_000
#: crash cycles per test: a few in CI, ``make crash CYCLES=100`` for the long run
CYCLES = int(os.environ.get("MYKEY_CRASH_CYCLES", "5"))
APPLIED = ("applied", "accepted_offline")


@dataclass(frozen=True)
class Resident:
    """A card with its MyKey ID."""

    mykey_id: str
    card: CardProfile


@dataclass(frozen=True)
class Seeded:
    """What :func:`seed` registered."""

    program_id: int
    residents: list[Resident]


def seed(engine: Engine, cards: list[CardProfile], prefix: str) -> Seeded:
    """Kawasaki, a street with a shop, a program, and one resident per card with many points."""
    with engine.begin() as conn:
        op.create_municipality(conn, KAWASAKI, "川崎市")
        op.create_business(conn, STREET, KAWASAKI, "元住吉商店街", "street")
        op.create_business(conn, SHOP, KAWASAKI, "パン屋", "shop", street_id=STREET)
        program = op.create_point_program(conn, KAWASAKI, "川崎市ポイント")
        grant = op.create_grant_program(conn, program, "献血", "健康福祉局", START_POINTS)
        residents = []
        for i, card in enumerate(cards):
            mykey_id = f"{prefix}{i:04d}"
            op.create_mykey_id(conn, mykey_id, card.auth_certificate)
            op.grant_points(conn, grant, mykey_id)
            residents.append(Resident(mykey_id, card))
    return Seeded(program, residents)


def enrollment_code(engine: Engine) -> str:
    """A one-time code for a shop terminal."""
    with engine.begin() as conn:
        return op.create_enrollment_code(conn, SHOP, ["shop"]).code


@dataclass
class PushingTerminal:
    """A shop terminal: its durable store, signed client and sync engine (all real)."""

    enrolled: EnrolledTerminal
    store: TerminalStore
    client: LedgerClient
    engine: SyncEngine
    recorded: list[str] = field(default_factory=list)

    @classmethod
    def enroll(cls, url: str, code: str, folder: Path) -> PushingTerminal:
        """Enroll through ``POST /v1/enroll`` and open a fresh store in ``folder``."""
        key, voucher_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        identity = enroll(url, code, key, voucher_key=voucher_key, name="crash test")
        enrolled = EnrolledTerminal(identity, key, voucher_key)
        folder.mkdir(parents=True, exist_ok=True)
        store = TerminalStore.open(folder / "terminal.sqlite3")
        client = enrolled.client(url, timeout=3.0, retry=RetryPolicy(attempts=1))
        engine = SyncEngine(
            client,
            store,
            store,
            server_public_key=identity.server_public_key,
            batch_size=25,
            backoff=RetryPolicy(base_delay=0.05, max_delay=0.2),
        )
        return cls(enrolled, store, client, engine)

    @property
    def terminal_id(self) -> str:
        """The server-assigned terminal ID."""
        return self.enrolled.terminal_id

    def record_use(self, program_id: int, resident: Resident, points: int) -> None:
        """A point use decided offline, stored durably (as the counter does) before sync."""
        self.recorded.append(record_use(self.store, self.enrolled, program_id, resident, points))

    def drain(self, attempts: int = 40) -> None:
        """Sync until nothing is left unsynced (the server is up by now)."""
        for _ in range(attempts):
            report = self.engine.sync_now()
            if report.error is None and self.store.unsynced_count() == 0:
                return
            time.sleep(0.1)
        raise AssertionError(f"{self.enrolled.terminal_id}: still unsynced after {attempts} tries")

    def close(self) -> None:
        """Close the client (the store stays on disk)."""
        self.client.close()


def record_use(
    store: TerminalStore,
    terminal: EnrolledTerminal,
    program_id: int,
    resident: Resident,
    points: int,
) -> str:
    """Store a card-signed point use decided offline (as the counter does); its ID."""
    tx = terminal.transaction(
        PointUse(program_id=program_id, points=points), resident.card, offline=True
    )
    store.add_transaction(
        tx,
        mykey_id=resident.mykey_id,
        program_id=program_id,
        points=points,
        decision=LocalDecision.OFFLINE,
    )
    return str(tx.id)


class Load:
    """Terminals in threads, each recording a use and syncing, over and over, until stopped."""

    def __init__(self, terminals: list[PushingTerminal], seeded: Seeded, seed: int) -> None:
        self.terminals, self.seeded = terminals, seeded
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(t, seed + i), daemon=True, name=f"load{i}")
            for i, t in enumerate(terminals)
        ]
        self.errors: list[BaseException] = []

    def _run(self, terminal: PushingTerminal, seed: int) -> None:
        rng = random.Random(seed)
        try:
            while not self._stop.is_set():
                for _ in range(rng.randint(1, 4)):
                    resident = rng.choice(self.seeded.residents)
                    terminal.record_use(self.seeded.program_id, resident, rng.randint(1, 9))
                terminal.engine.sync_now()  # ledger failures come back in the report
                self._stop.wait(rng.uniform(0.01, 0.05))  # a busy counter, not a spin loop
        except BaseException as error:  # the test fails on any local error
            self.errors.append(error)
            raise

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def certificate_der(card: CardProfile) -> bytes:
    """The card's certificate (DER)."""
    return card.auth_certificate.public_bytes(serialization.Encoding.DER)


class TerminalRecord(Protocol):
    """What the invariants need of a terminal: its ID, its store and the IDs it recorded."""

    @property
    def terminal_id(self) -> str: ...

    store: TerminalStore
    recorded: list[str]


def check_invariants(
    engine: Engine, terminals: Sequence[TerminalRecord], seeded: Seeded, client: LedgerClient
) -> int:
    """After the crashes and a full sync: the audit is clean; every use a terminal stored is on
    the ledger exactly once with the terminal's final state matching; every balance equals its
    start minus the uses the ledger applied. Returns how many uses were checked."""
    with engine.begin() as conn:
        assert audit(conn) == [], "the ledger audit found violations"
        stored = {
            row.id: row
            for row in conn.execute(
                select(transactions.c.id, transactions.c.status, transactions.c.mykey_id,
                       transactions.c.canonical, transactions.c.terminal_id)
            )
        }  # fmt: skip
    recorded = [tx_id for t in terminals for tx_id in t.recorded]
    assert len(recorded) == len(set(recorded))
    missing = [tx_id for tx_id in recorded if tx_id not in stored]
    assert missing == [], f"{len(missing)} stored uses never reached the ledger"
    ours = {t.terminal_id for t in terminals}
    extra = [i for i, row in stored.items() if row.terminal_id in ours and i not in recorded]
    assert extra == [], f"the ledger holds {len(extra)} uses no terminal recorded"
    spent: dict[str, int] = {r.mykey_id: 0 for r in seeded.residents}
    for terminal in terminals:
        assert terminal.store.unsynced_count() == 0
        for row in terminal.store.rows():
            server = stored[str(row.id)]
            assert row.state.value == server.status or (
                row.state is OutboxState.ACCEPTED_OFFLINE and server.status in APPLIED
            ), (row.id, row.state, server.status)
            if server.status in APPLIED:
                spent[server.mykey_id] += row.points
    for resident in seeded.residents:
        balance = resident_balance(client, resident)
        assert balance == START_POINTS - spent[resident.mykey_id], resident.mykey_id
    return len(recorded)


def resident_balance(client: LedgerClient, resident: Resident) -> int:
    """The resident's balance as the ledger's look-up shows it."""
    answer = client.lookup(certificate_der(resident.card))
    assert all(b.overdraft == 0 for b in answer.balances)
    return sum(b.points for b in answer.balances)
