"""Parallel spenders on one account never overdraw it (row locks on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` serialises writers)."""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from sqlalchemy import Engine, insert

from cardio.auth import TrustStore
from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from server_stub.audit import audit
from server_stub.catalog import get_business
from server_stub.db.schema import terminals
from server_stub.posting import AccountKind, balance_of
from server_stub.processing import TerminalContext, process
from sync.protocol import Transaction, b64encode, uuid7
from tests.ledger.conftest import World
from tests.ledger.support import sign_with_card

SPENDERS = 16


def test_parallel_spenders_cannot_overdraw(
    engine: Engine, world: World, cards: list[CardProfile], test_ca: TestCA
) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        op.create_mykey_id(conn, "RACE0001", cards[0].auth_certificate)
        op.grant_points(conn, world.grant_program_id, "RACE0001", 1000)
        conn.execute(
            insert(terminals).values(
                id="TRACE",
                business_id="A0001",
                public_key=secrets.token_bytes(32),
                roles="shop",
                name="race",
                status="active",
                enrolled_at=now,
            )
        )
    trust = TrustStore.from_directory(test_ca.trust_directory)
    der = b64encode(cards[0].auth_certificate.public_bytes(serialization.Encoding.DER))
    txs = [
        sign_with_card(
            Transaction.model_validate(
                {
                    "id": str(uuid7()),
                    "terminal_id": "TRACE",
                    "business_id": "A0001",
                    "terminal_time": now.isoformat(),
                    "payload": {
                        "kind": "point_use",
                        "program_id": world.program_id,
                        "points": 150,
                    },
                    "card": {"certificate": der},
                }
            ),
            cards[0],
        )
        for _ in range(SPENDERS)
    ]
    start = threading.Barrier(SPENDERS)

    def spend(tx: Transaction) -> dict[str, Any]:
        start.wait()
        with engine.begin() as conn:
            ctx = TerminalContext("TRACE", get_business(conn, "A0001"), trust, datetime.now(UTC))
            return process(conn, ctx, tx).model_dump(mode="json")

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
    with engine.begin() as conn:
        op.create_mykey_id(conn, "RACE0002", cards[1].auth_certificate)
        op.grant_points(conn, world.grant_program_id, "RACE0002", 1000)
        conn.execute(
            insert(terminals).values(
                id="TRACE2",
                business_id="A0001",
                public_key=secrets.token_bytes(32),
                roles="shop",
                name="race",
                status="active",
                enrolled_at=now,
            )
        )
    trust = TrustStore.from_directory(test_ca.trust_directory)
    der = b64encode(cards[1].auth_certificate.public_bytes(serialization.Encoding.DER))
    tx = sign_with_card(
        Transaction.model_validate(
            {
                "id": str(uuid7()),
                "terminal_id": "TRACE2",
                "business_id": "A0001",
                "terminal_time": now.isoformat(),
                "payload": {"kind": "point_use", "program_id": world.program_id, "points": 300},
                "card": {"certificate": der},
            }
        ),
        cards[1],
    )
    copies = 6
    start = threading.Barrier(copies)

    def send(_: int) -> str:
        start.wait()
        with engine.begin() as conn:
            ctx = TerminalContext("TRACE2", get_business(conn, "A0001"), trust, datetime.now(UTC))
            return str(process(conn, ctx, tx).status)

    with ThreadPoolExecutor(copies) as pool:
        statuses = sorted(pool.map(send, range(copies)))
    assert statuses == ["applied"] + ["duplicate"] * (copies - 1)
    with engine.begin() as conn:
        assert balance_of(conn, AccountKind.RESIDENT, world.program_id, "RACE0002") == 700
        assert audit(conn) == []
