"""Fixtures of the security suite: the ledger fixtures of tests/ledger (test CA, cards, reference
data, the app on SQLite and PostgreSQL, enrolled signing terminals) plus a few helpers."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine, func, select

from server_stub.audit import audit
from server_stub.db.schema import request_nonces, transactions
from tests.card_pcsc.conftest import bridge, issue_card, pcscd, reader  # noqa: F401
from tests.ledger.conftest import (  # noqa: F401 - fixtures re-used by this suite
    cards,
    client,
    library,
    municipal,
    office,
    settings,
    shop,
    shop2,
    test_ca,
    world,
)


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    """``response`` is an RFC 9457 problem document with this status and machine code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response
    body = response.json()
    assert (body["status"], body["code"]) == (status, code), body
    assert body["title_ja"] and body["title_en"]


def stored_transactions(engine: Engine) -> int:
    """How many transactions the ledger holds."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(transactions)).scalar_one())


def stored_nonces(engine: Engine) -> int:
    """How many request nonces the ledger holds."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(request_nonces)).scalar_one())


def assert_clean(engine: Engine) -> None:
    """The ledger's audit finds nothing (all accounts sum to zero, every leg accounted for)."""
    with engine.begin() as conn:
        assert audit(conn) == []
