"""Parallel spenders on one account never overdraw it (row locks on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` serialises writers)."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert, text

from cardio.auth import TrustStore
from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from server_stub.audit import audit
from server_stub.catalog import get_business
from server_stub.db.schema import terminals
from server_stub.posting import AccountKind, balance_of
from server_stub.processing import TerminalContext, process_all
from sync.protocol import Transaction
from tests.ledger.conftest import TestClient, World, enroll, resident, use
from tests.ledger.support import SigningTerminal, card_tx

SPENDERS = 16


def _racing_terminal(
    engine: Engine, world: World, card: CardProfile, mykey_id: str, terminal_id: str, now: datetime
) -> None:
    """A resident with 1000 points and an active shop terminal at A0001 (no enrollment)."""
    resident(engine, world, card, mykey_id, 1000)
    with engine.begin() as conn:
        conn.execute(
            insert(terminals).values(
                id=terminal_id,
                business_id="A0001",
                public_key=secrets.token_bytes(32),
                roles="shop",
                name="race",
                status="active",
                enrolled_at=now,
            )
        )


def test_parallel_spenders_cannot_overdraw(
    engine: Engine, world: World, cards: list[CardProfile], test_ca: TestCA
) -> None:
    now = datetime.now(UTC)
    _racing_terminal(engine, world, cards[0], "RACE0001", "TRACE", now)
    trust = TrustStore.from_directory(test_ca.trust_directory)
    txs = [card_tx("TRACE", "A0001", use(world, 150), cards[0], at=now) for _ in range(SPENDERS)]
    start = threading.Barrier(SPENDERS)

    def spend(tx: Transaction) -> dict[str, Any]:
        start.wait()
        with engine.begin() as conn:
            ctx = TerminalContext("TRACE", get_business(conn, "A0001"), trust, datetime.now(UTC))
            return process_all(conn, ctx, [tx])[0].model_dump(mode="json")

    with ThreadPoolExecutor(SPENDERS) as pool:
        results = list(pool.map(spend, txs))
    statuses = sorted(r["status"] for r in results)
    assert statuses.count("applied") == 6  # 6 x 150 = 900 <= 1000 < 7 x 150
    assert statuses.count("rejected") == SPENDERS - 6
    assert sorted(r["balance"] for r in results if r["status"] == "applied") == [
        100,
        250,
        400,
        550,
        700,
        850,
    ]
    with engine.begin() as conn:
        assert balance_of(conn, AccountKind.RESIDENT, world.program_id, "RACE0001") == 100
        assert balance_of(conn, AccountKind.SETTLEMENT, world.program_id, "A0001") == 900
        assert audit(conn) == []


def test_the_same_transaction_sent_twice_at_once_applies_once(
    engine: Engine, world: World, cards: list[CardProfile], test_ca: TestCA
) -> None:
    now = datetime.now(UTC)
    _racing_terminal(engine, world, cards[1], "RACE0002", "TRACE2", now)
    trust = TrustStore.from_directory(test_ca.trust_directory)
    tx = card_tx("TRACE2", "A0001", use(world, 300), cards[1], at=now)
    copies = 6
    start = threading.Barrier(copies)

    def send(_: int) -> str:
        start.wait()
        with engine.begin() as conn:
            ctx = TerminalContext("TRACE2", get_business(conn, "A0001"), trust, datetime.now(UTC))
            return str(process_all(conn, ctx, [tx])[0].status)

    with ThreadPoolExecutor(copies) as pool:
        statuses = sorted(pool.map(send, range(copies)))
    assert statuses == ["applied"] + ["duplicate"] * (copies - 1)
    with engine.begin() as conn:
        assert balance_of(conn, AccountKind.RESIDENT, world.program_id, "RACE0002") == 700
        assert audit(conn) == []


def test_two_terminals_of_one_shop_sharing_residents_do_not_deadlock(
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    client: TestClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two offline catch-up batches of one shop, each with the same two residents in crossing
    order. Each batch holds its items' row locks until it commits; without the shop's accounts
    locked first, one batch holds resident R2 and the shop, the other R0, and each waits for
    the other (PostgreSQL aborts one after a second and the server retries it)."""
    if engine.dialect.name == "sqlite":
        pytest.skip("row locks: PostgreSQL only (SQLite serialises writers)")
    for card, mykey_id in ((cards[0], "LOCK0000"), (cards[2], "LOCK0002")):
        resident(engine, world, card, mykey_id, 1000)  # resident accounts before the shop's
    first, second = (
        enroll(client, engine, "A0001", ["shop"]),
        enroll(client, engine, "A0001", ["shop"]),
    )
    resident(engine, world, cards[3], "LOCK0009", 100)
    first.authorize(first.tx(use(world, 10), cards[3]))  # the shop's settlement account now

    def batch(terminal: SigningTerminal, order: list[CardProfile]) -> list[str]:
        txs = [
            terminal.tx(use(world, 100), card, offline=True).model_dump(mode="json")
            for card in order
        ]
        answer = terminal.call("POST", "/v1/transactions/push", {"transactions": txs})
        assert answer.status_code == 200, answer.text
        return [r["status"] for r in answer.json()["results"]]

    def lock_waiters() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )).scalar_one())  # fmt: skip

    caplog.set_level(logging.INFO, logger="server_stub.api.terminal")
    with ThreadPoolExecutor(2) as pool, engine.connect() as holder:
        holder.execute(text(  # hold the shop's account so both batches line up behind it
            "SELECT id FROM accounts WHERE kind = 'settlement' AND owner = 'A0001' FOR UPDATE"
        ))  # fmt: skip
        crossing = pool.submit(batch, first, [cards[2], cards[0]])
        _wait_for(lambda: lock_waiters() == 1)
        crossed = pool.submit(batch, second, [cards[0], cards[2]])
        _wait_for(lambda: lock_waiters() == 2)
        holder.rollback()
        assert crossing.result(timeout=60) == ["applied", "applied"]
        assert crossed.result(timeout=60) == ["applied", "applied"]
    assert [r.getMessage() for r in caplog.records if "retried" in r.getMessage()] == []
    with engine.begin() as conn:
        assert balance_of(conn, AccountKind.RESIDENT, world.program_id, "LOCK0000") == 800
        assert balance_of(conn, AccountKind.RESIDENT, world.program_id, "LOCK0002") == 800
        assert audit(conn) == []


def _wait_for(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Poll ``condition`` until it holds (fails the test after ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)
