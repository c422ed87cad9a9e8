"""The terminal-auth matrix over EVERY terminal endpoint (SQLite and PostgreSQL).

Each endpoint is called once properly signed (it works), then unsigned, with a wrong key, as an
unknown terminal, with its body or query changed after signing (Content-Digest / signature
mismatch), with a stale signature, twice with one nonce, and from a revoked terminal. Every
refusal is a problem document with the right code, and a refused request leaves nothing behind:
no transaction, no nonce. Then the role and business matrix: every role against every endpoint
and transaction kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from sync.protocol import KIND_ROLES, Role, TransactionKind
from tests.ledger.conftest import TestClient, World, enroll, resident, use
from tests.ledger.support import SigningTerminal, certificate_b64, today_jst, voucher_number
from tests.security.conftest import assert_problem, stored_nonces, stored_transactions


@dataclass(frozen=True)
class Endpoint:
    """A terminal endpoint and how to make a valid request body for it."""

    method: str
    path: str
    body: Callable[[SigningTerminal, World, CardProfile], Any]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _tx(terminal: SigningTerminal, world: World, card: CardProfile) -> dict[str, Any]:
    return terminal.tx(use(world, 10), card).model_dump(mode="json")


ENDPOINTS = [
    Endpoint("POST", "/v1/transactions/push", lambda t, w, c: {"transactions": [_tx(t, w, c)]}),
    Endpoint("POST", "/v1/transactions/authorize", _tx),
    Endpoint("POST", "/v1/lookup", lambda t, w, c: {"certificate": certificate_b64(c)}),
    Endpoint("GET", "/v1/pull", lambda t, w, c: None),
    Endpoint("POST", "/v1/mykey/challenge", lambda t, w, c: None),
    Endpoint("GET", "/v1/mykey/availability?mykey_id=NEWID123", lambda t, w, c: None),
]


def _tampered(terminal: SigningTerminal, signed: httpx.Request) -> httpx.Request:
    """The signed request with its body (or, without a body, its query) changed afterwards."""
    headers = dict(signed.headers)
    headers.pop("content-length", None)
    if signed.content:
        content = signed.content.replace(b"10", b"11", 1)
        if content == signed.content:
            content = signed.content + b" "
        return terminal.client.build_request(
            signed.method, signed.url, content=content, headers=headers
        )
    url = str(signed.url) + ("&" if signed.url.query else "?") + "extra=1"
    return terminal.client.build_request(signed.method, url, headers=headers)


@pytest.fixture
def desk(client: TestClient, engine: Engine) -> SigningTerminal:
    """A street-office terminal that may call every terminal endpoint."""
    return enroll(client, engine, "S0001", ["office", "shop"])


def test_every_endpoint_refuses_every_kind_of_bad_signature(
    desk: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "AUTH0001", 1000)
    stranger = Ed25519PrivateKey.generate()
    long_ago = datetime.now(UTC) - timedelta(minutes=30)
    for endpoint in ENDPOINTS:
        before = (stored_transactions(engine), stored_nonces(engine))

        def body(endpoint: Endpoint = endpoint) -> Any:
            return endpoint.body(desk, world, cards[0])

        method, path = endpoint.method, endpoint.path
        unauthenticated = [
            desk.build(method, path, body(), sign=False),
            desk.build(method, path, body(), key=stranger),
            desk.build(method, path, body(), key_id="TFFFFFFFFFFFFFFFF"),
            desk.build(method, path, body(), key=stranger, key_id="'; --"),
            _tampered(desk, desk.build(method, path, body())),
        ]
        bad = [(request, 401, "unauthenticated") for request in unauthenticated]
        bad.append((desk.build(method, path, body(), created=long_ago), 401, "clock-skew"))
        for request, status, code in bad:
            assert_problem(desk.send(request), status, code)
        after = (stored_transactions(engine), stored_nonces(engine))
        assert after == before, f"{endpoint}: a refused request left something behind"

        signed = desk.build(endpoint.method, endpoint.path, body(), nonce=f"nonce-{endpoint.path}")
        replay = desk.client.build_request(
            signed.method, signed.url, content=signed.content, headers=dict(signed.headers)
        )
        assert desk.send(signed).status_code == 200, endpoint
        stored = stored_transactions(engine)
        assert_problem(desk.send(replay), 401, "replayed-request")
        assert stored_transactions(engine) == stored, f"{endpoint}: the replay was applied"


def test_a_revoked_terminal_is_refused_everywhere_and_a_live_one_is_not(
    desk: SigningTerminal,
    shop: SigningTerminal,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
) -> None:
    resident(engine, world, cards[0], "AUTH0002", 1000)
    with engine.begin() as conn:
        op.revoke_terminal(conn, desk.terminal_id)
    before = stored_transactions(engine)
    for endpoint in ENDPOINTS:
        response = desk.call(endpoint.method, endpoint.path, endpoint.body(desk, world, cards[0]))
        assert_problem(response, 403, "terminal-revoked")
    assert stored_transactions(engine) == before
    assert shop.authorize(shop.tx(use(world, 10), cards[0]))["status"] == "applied"


def test_a_terminal_cannot_act_for_another_business_or_terminal(
    shop: SigningTerminal,
    shop2: SigningTerminal,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
) -> None:
    resident(engine, world, cards[0], "AUTH0003", 1000)
    before = stored_transactions(engine)
    own = shop.tx(use(world, 10), cards[0])
    forged = [
        own.model_copy(update={"business_id": "A0002"}),  # another shop
        own.model_copy(update={"terminal_id": shop2.terminal_id}),  # another terminal
        own.model_copy(  # wholly the other terminal's, signed by this one
            update={"terminal_id": shop2.terminal_id, "business_id": shop2.business_id}
        ),
    ]
    for tx in forged:
        body = tx.model_dump(mode="json")
        assert_problem(shop.call("POST", "/v1/transactions/authorize", body), 403, "wrong-business")
        assert_problem(shop.push(own, tx), 403, "wrong-business")  # the whole batch is refused
    assert stored_transactions(engine) == before


# --- roles ------------------------------------------------------------------------------------

ROLE_BUSINESS = {
    Role.SHOP: "A0001",
    Role.OFFICE: "S0001",
    Role.LIBRARY: "L0001",
    Role.MUNICIPAL: "D0001",
}


def _payload(kind: TransactionKind, world: World, serial: int) -> dict[str, Any]:
    today = today_jst().isoformat()
    payloads: dict[TransactionKind, dict[str, Any]] = {
        TransactionKind.POINT_USE: use(world, 10),
        TransactionKind.VOUCHER_ISSUE: {
            "kind": "voucher_issue",
            "program_id": world.program_id,
            "vouchers": [{"number": voucher_number(serial), "points": 10}],
            "valid_from": today,
            "valid_until": today,
        },
        TransactionKind.VOUCHER_REDEEM: {"kind": "voucher_redeem", "number": voucher_number(1)},
        TransactionKind.GRANT: {"kind": "grant", "grant_program_id": world.grant_program_id},
        TransactionKind.SERVICE_ID_LINK: {"kind": "service_id_link", "customer_id": "M-1"},
        TransactionKind.MYKEY_SETUP: {
            "kind": "mykey_setup",
            "mykey_id": "ROLE0001",
            "challenge": "c" * 20,
        },
    }
    return payloads[kind]


def test_every_role_against_every_endpoint_and_kind(
    client: TestClient, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "AUTH0004", 1000)
    serial = 900_000_000
    for role, business in ROLE_BUSINESS.items():
        terminal = enroll(client, engine, business, [role.value])
        for path in ("/v1/pull", "/v1/lookup"):
            body = {"certificate": certificate_b64(cards[0])} if path == "/v1/lookup" else None
            method = "POST" if body else "GET"
            assert terminal.call(method, path, body).status_code == 200, (role, path)
        for method, path in (
            ("POST", "/v1/mykey/challenge"),
            ("GET", "/v1/mykey/availability?mykey_id=ROLE0002"),
        ):
            response = terminal.call(method, path)
            if role is Role.OFFICE:
                assert response.status_code == 200, (role, path, response.text)
            else:
                assert_problem(response, 403, "wrong-role")
        for kind in TransactionKind:
            serial += 1
            allowed = role in KIND_ROLES[kind]
            for send in ("push", "authorize"):
                tx = terminal.tx(_payload(kind, world, serial), cards[0])
                before = stored_transactions(engine)
                if send == "push":
                    response = terminal.push(tx)
                else:
                    body = tx.model_dump(mode="json")
                    response = terminal.call("POST", "/v1/transactions/authorize", body)
                if allowed:
                    assert response.status_code == 200, (role, kind, send, response.text)
                else:
                    assert_problem(response, 403, "wrong-role")
                    assert stored_transactions(engine) == before, (role, kind, send)
