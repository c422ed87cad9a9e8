"""Voucher fixtures: the terminal-core fixtures (in-process ledger, fake clock, virtual cards)
plus desks enrolled WITH a voucher key and prefix, as a real enrollment makes them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from cardio.auth import TrustStore
from cardio.virtual.ca import TestCA
from server_stub import operator as op
from sync.engine import SyncEngine
from sync.protocol import Role
from terminal.config import TerminalIdentity, TerminalPaths, save_identity
from terminal.services.counter import Counter
from terminal.store import TerminalStore
from tests.ledger.conftest import TestClient
from tests.ledger.support import SigningTerminal, raw_public
from tests.terminal.conftest import (  # noqa: F401 - fixtures re-used from the terminal tests
    cards,
    client,
    clock,
    db_url,
    session_for,
    settings,
    test_ca,
    world,
)
from tests.terminal.support import FakeClock, InProcessLedger


@dataclass
class Desk:
    """An enrolled terminal: its counter, its network switches and its voucher key."""

    counter: Counter
    ledger: InProcessLedger
    voucher_key: Ed25519PrivateKey

    def sync(self) -> None:
        """Push and pull now (the test fails if sync reports an error)."""
        engine = SyncEngine(
            self.ledger,
            self.counter.store,
            self.counter.store,
            server_public_key=self.counter.identity.server_public_key,
        )
        report = engine.sync_now()
        assert report.error is None, report


MakeDesk = Callable[..., Desk]


@pytest.fixture
def make_desk(
    client: TestClient,  # noqa: F811 - the imported fixture
    engine: Engine,
    test_ca: TestCA,  # noqa: F811 - the imported fixture
    clock: FakeClock,  # noqa: F811 - the imported fixture
    tmp_path: Path,
) -> Iterator[MakeDesk]:
    """Enroll a terminal of ``business_id`` with ``roles``; ``data_dir`` puts its identity and
    database in a terminal data folder (as ``mykey`` finds them)."""
    stores: list[TerminalStore] = []

    def make(business_id: str, roles: list[str], data_dir: Path | None = None) -> Desk:
        with engine.begin() as conn:
            code = op.create_enrollment_code(conn, business_id, roles).code
        key, voucher_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        response = client.post(
            "/v1/enroll",
            json={
                "code": code,
                "public_key": raw_public(key),
                "voucher_public_key": raw_public(voucher_key),
            },
        )
        assert response.status_code == 200, response.text
        body = response.json()
        identity = TerminalIdentity(
            terminal_id=body["terminal_id"],
            business_id=business_id,
            street_id=body["street_id"],
            roles=frozenset(Role(r) for r in body["roles"]),
            server_url="http://testserver",
            server_public_key=body["server_public_key"],
            voucher_prefix=body["voucher_prefix"],
        )
        if data_dir is None:
            database = tmp_path / f"{identity.terminal_id}.sqlite3"
        else:
            paths = TerminalPaths.at(data_dir)
            save_identity(paths, identity)
            database = paths.database
        store = TerminalStore.open(database)
        stores.append(store)
        ledger = InProcessLedger(SigningTerminal(client, identity.terminal_id, business_id, key))
        trust = TrustStore.from_directory(test_ca.trust_directory)
        return Desk(Counter(identity, store, ledger, trust, clock=clock), ledger, voucher_key)

    yield make
    for store in stores:
        store.close()
