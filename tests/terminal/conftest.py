"""Terminal-core fixtures: the real ledger app in process (SQLite), enrolled counters with their
own local store, a fake clock, and virtual cards reached through the in-process transport."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from cardio.auth import TrustStore
from cardio.jpki import JpkiSession
from cardio.transport import InProcessConnection
from cardio.virtual.ca import TestCA
from cardio.virtual.card import VirtualJpkiCard
from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from server_stub.db.migrate import migrate
from sync.protocol import Role
from terminal.config import TerminalIdentity
from terminal.services.counter import Counter
from terminal.store import TerminalStore
from tests.ledger.conftest import (  # noqa: F401 - fixtures re-used from the ledger tests
    TestClient,
    cards,
    client,
    settings,
    test_ca,
    world,
)
from tests.ledger.support import SigningTerminal, raw_public
from tests.terminal.support import FakeClock, InProcessLedger


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The terminal tests need one ledger database: a migrated SQLite file."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    migrate(url)
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


MakeCounter = Callable[[str, list[str]], tuple[Counter, InProcessLedger]]


@pytest.fixture
def make_counter(
    client: TestClient,  # noqa: F811 - the imported fixture
    engine: Engine,
    test_ca: TestCA,  # noqa: F811 - the imported fixture
    clock: FakeClock,
    tmp_path: Path,
) -> Iterator[MakeCounter]:
    """Enroll a terminal of ``business_id`` with ``roles`` and open its local store."""
    stores: list[TerminalStore] = []

    def make(business_id: str, roles: list[str]) -> tuple[Counter, InProcessLedger]:
        with engine.begin() as conn:
            code = op.create_enrollment_code(conn, business_id, roles).code
        key = Ed25519PrivateKey.generate()
        body = client.post("/v1/enroll", json={"code": code, "public_key": raw_public(key)}).json()
        identity = TerminalIdentity(
            terminal_id=body["terminal_id"],
            business_id=business_id,
            street_id=body["street_id"],
            roles=frozenset(Role(r) for r in body["roles"]),
            server_url="http://testserver",
            server_public_key=body["server_public_key"],
        )
        ledger = InProcessLedger(SigningTerminal(client, identity.terminal_id, business_id, key))
        store = TerminalStore.open(tmp_path / f"{identity.terminal_id}.sqlite3")
        stores.append(store)
        trust = TrustStore.from_directory(test_ca.trust_directory)
        return Counter(identity, store, ledger, trust, clock=clock), ledger

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def session_for() -> Iterator[Callable[[CardProfile], JpkiSession]]:
    """A JPKI session on a fresh in-process power-up of the card (as placing it on a reader)."""
    connections: list[InProcessConnection] = []

    def open_session(card: CardProfile) -> JpkiSession:
        connection = InProcessConnection(VirtualJpkiCard(card))
        connections.append(connection)
        return JpkiSession(connection)

    yield open_session
    for connection in connections:
        connection.close()
