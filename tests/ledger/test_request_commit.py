"""One commit per push: the request's nonce is stored with its transactions, large batches are
committed in chunks, and neither lets a signed request be replayed to a second effect."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select

from cardio.auth import TrustStore
from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from server_stub import processing
from server_stub.api import terminal as terminal_api
from server_stub.api.signatures import AuthenticatedTerminal, VerifiedRequest, record_request
from server_stub.catalog import get_business
from server_stub.db.engine import is_sqlite
from server_stub.db.schema import request_nonces, transactions, transfers
from server_stub.errors import ReplayError, TerminalRevokedError
from server_stub.posting import AccountKind, balance_of
from server_stub.processing import TerminalContext
from sync.protocol import Transaction
from tests.ledger.conftest import World, resident
from tests.ledger.support import SigningTerminal


class _InjectedCrashError(RuntimeError):
    """Stands for a crash of the server in the middle of a request."""


def _fail_at(monkeypatch: pytest.MonkeyPatch, tx: Transaction) -> None:
    """Make the server crash when it comes to apply ``tx`` (once)."""
    real = processing._apply
    failed: list[bool] = []

    def apply(conn: Connection, ctx: TerminalContext, item: Transaction, *args: Any) -> Any:
        if item.id == tx.id and not failed:
            failed.append(True)
            raise _InjectedCrashError(str(tx.id))
        return real(conn, ctx, item, *args)

    monkeypatch.setattr(processing, "_apply", apply)


def _balance(engine: Engine, world: World, name: str) -> int:
    with engine.begin() as conn:
        return balance_of(conn, AccountKind.RESIDENT, world.program_id, name)


def _count(engine: Engine, table: object) -> int:
    with engine.begin() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _use(world: World, points: int) -> dict[str, object]:
    return {"kind": "point_use", "program_id": world.program_id, "points": points}


def test_a_replayed_push_is_refused_and_applies_nothing(
    shop: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "ONCE0001", 1000)
    body = {"transactions": [shop.tx(_use(world, 100), cards[0]).model_dump(mode="json")]}
    request = shop.build("POST", "/v1/transactions/push", body)
    assert shop.send(request).json()["results"][0]["status"] == "applied"
    replay = shop.send(request)
    assert replay.status_code == 401
    assert replay.json()["code"] == "replayed-request"
    assert _balance(engine, world, "ONCE0001") == 900


def test_a_failed_request_keeps_nothing_so_its_resend_applies_exactly_once(
    shop: SigningTerminal,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resident(engine, world, cards[0], "ONCE0002", 1000)
    txs = [shop.tx(_use(world, 100), cards[0]) for _ in range(3)]
    request = shop.build(
        "POST", "/v1/transactions/push", {"transactions": [t.model_dump(mode="json") for t in txs]}
    )
    nonces, moved = _count(engine, request_nonces), _count(engine, transfers)
    _fail_at(monkeypatch, txs[2])
    with pytest.raises(_InjectedCrashError):
        shop.send(request)
    # the request's database transaction was undone whole: its nonce and its first two uses
    assert (_count(engine, request_nonces), _count(engine, transfers)) == (nonces, moved)
    assert _balance(engine, world, "ONCE0002") == 1000
    # the same signed request again (within its validity) has just the effect it was meant to
    results = shop.send(request).json()["results"]
    assert [r["status"] for r in results] == ["applied"] * 3
    assert _balance(engine, world, "ONCE0002") == 700
    assert shop.send(request).json()["code"] == "replayed-request"
    assert _balance(engine, world, "ONCE0002") == 700


def test_a_large_batch_commits_in_chunks_and_a_resend_completes_it(
    shop: SigningTerminal,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resident(engine, world, cards[1], "ONCE0003", 1000)
    chunk = terminal_api.POSTGRES_CHUNK_SIZE
    txs = [shop.tx(_use(world, 1), cards[1]) for _ in range(chunk + 20)]
    request = shop.build(
        "POST", "/v1/transactions/push", {"transactions": [t.model_dump(mode="json") for t in txs]}
    )
    _fail_at(monkeypatch, txs[chunk + 10])
    with pytest.raises(_InjectedCrashError):
        shop.send(request)
    # SQLite: one database transaction per batch; PostgreSQL: the first chunk (and with it the
    # request's nonce) is committed
    committed = 0 if is_sqlite(engine) else chunk
    assert _balance(engine, world, "ONCE0003") == 1000 - committed
    resent = shop.send(request)
    if committed:
        assert resent.json()["code"] == "replayed-request"
        resent = shop.push(*txs)  # the terminal signs its resend anew
    statuses = [r["status"] for r in resent.json()["results"]]
    assert statuses == ["duplicate"] * committed + ["applied"] * (len(txs) - committed)
    assert _balance(engine, world, "ONCE0003") == 1000 - len(txs)


def test_one_nonce_recorded_at_once_by_many_requests_passes_once(
    engine: Engine, shop: SigningTerminal
) -> None:
    terminal = AuthenticatedTerminal(shop.terminal_id, shop.business_id, frozenset(), None)
    verified = VerifiedRequest(
        terminal, "same-nonce-0001", datetime.now(UTC) + timedelta(minutes=10)
    )
    copies = 4
    start = threading.Barrier(copies)

    def record(_: int) -> str:
        start.wait()
        try:
            with engine.begin() as conn:
                record_request(conn, verified, datetime.now(UTC))
        except ReplayError:
            return "replay"
        return "stored"

    with ThreadPoolExecutor(copies) as pool:
        outcomes = sorted(pool.map(record, range(copies)))
    assert outcomes == ["replay"] * (copies - 1) + ["stored"]


def test_a_terminal_revoked_after_verification_is_refused_when_its_request_is_applied(
    engine: Engine, shop: SigningTerminal
) -> None:
    terminal = AuthenticatedTerminal(shop.terminal_id, shop.business_id, frozenset(), None)
    verified = VerifiedRequest(terminal, "late-revoke-01", datetime.now(UTC) + timedelta(minutes=5))
    with engine.begin() as conn:
        op.revoke_terminal(conn, shop.terminal_id)
    with pytest.raises(TerminalRevokedError), engine.begin() as conn:
        record_request(conn, verified, datetime.now(UTC))
    assert _count(engine, request_nonces) == 0


def test_every_result_of_a_chunk_is_stored_though_each_is_written_with_the_next_item(
    engine: Engine,
    shop: SigningTerminal,
    world: World,
    cards: list[CardProfile],
    test_ca: TestCA,
) -> None:
    resident(engine, world, cards[2], "ONCE0004", 300)
    first = shop.tx(_use(world, 100), cards[2])
    txs = [first, first, shop.tx(_use(world, 900), cards[2]), shop.tx(_use(world, 50), cards[2])]
    trust = TrustStore.from_directory(test_ca.trust_directory)
    with engine.begin() as conn:
        ctx = TerminalContext(
            shop.terminal_id, get_business(conn, "A0001"), trust, datetime.now(UTC)
        )
        results = processing.process_all(conn, ctx, txs)
    assert [r.status.value for r in results] == ["applied", "duplicate", "rejected", "applied"]
    with engine.begin() as conn:
        stored = dict(conn.execute(select(transactions.c.id, transactions.c.status)).all())
    assert [stored[str(t.id)] for t in txs] == ["applied", "applied", "rejected", "applied"]
    assert _balance(engine, world, "ONCE0004") == 150
