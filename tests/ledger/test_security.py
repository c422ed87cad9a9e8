"""Terminal authentication (RFC 9421) and authorisation: the security matrix."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from tests.ledger.conftest import OPERATOR_KEY, TestClient, World, use
from tests.ledger.support import SigningTerminal


def _problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def test_signed_request_is_accepted(shop: SigningTerminal) -> None:
    assert shop.call("GET", "/v1/pull").status_code == 200


def test_unsigned_and_wrongly_signed_requests_are_refused(
    shop: SigningTerminal, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="server_stub"):
        _problem(shop.call("GET", "/v1/pull", sign=False), 401, "unauthenticated")
    assert any("refused GET /v1/pull" in r.getMessage() for r in caplog.records)
    wrong = Ed25519PrivateKey.generate()
    _problem(shop.call("GET", "/v1/pull", key=wrong), 401, "unauthenticated")
    _problem(shop.call("GET", "/v1/pull", key_id="TNOSUCHTERMINAL"), 401, "unauthenticated")


def test_tampered_body_query_or_path_is_refused(shop: SigningTerminal, world: World) -> None:
    request = shop.build("POST", "/v1/lookup", {"certificate_ref": None, "certificate": None})
    tampered = shop.client.build_request(
        "POST", "/v1/lookup", content=b'{"certificate": "AAAA"}', headers=dict(request.headers)
    )
    del tampered.headers["content-length"]
    _problem(shop.send(tampered), 401, "unauthenticated")
    signed = shop.build("GET", "/v1/pull?cursor=1")
    moved = shop.client.build_request("GET", "/v1/pull?cursor=2", headers=dict(signed.headers))
    _problem(shop.send(moved), 401, "unauthenticated")
    other_path = shop.client.build_request(
        "GET", "/v1/mykey/availability?mykey_id=ABCD", headers=dict(signed.headers)
    )
    _problem(shop.send(other_path), 401, "unauthenticated")


def test_replayed_request_is_refused(shop: SigningTerminal) -> None:
    request = shop.build("GET", "/v1/pull", nonce="fixed-nonce-0001")
    assert shop.send(request).status_code == 200
    again = shop.client.build_request("GET", "/v1/pull", headers=dict(request.headers))
    _problem(shop.send(again), 401, "replayed-request")


@pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_clock_skew_over_five_minutes_is_refused(shop: SigningTerminal, offset: timedelta) -> None:
    _problem(shop.call("GET", "/v1/pull", created=datetime.now(UTC) + offset), 401, "clock-skew")
    assert shop.call("GET", "/v1/pull", created=datetime.now(UTC) - timedelta(minutes=4)).is_success


def test_revoked_terminal_is_refused(shop: SigningTerminal, engine: Engine) -> None:
    with engine.begin() as conn:
        op.revoke_terminal(conn, shop.terminal_id)
    _problem(shop.call("GET", "/v1/pull"), 403, "terminal-revoked")


def test_acting_for_another_business_is_refused(
    shop: SigningTerminal, shop2: SigningTerminal, world: World, cards: list[CardProfile]
) -> None:
    as_other = shop.tx(use(world, 10), cards[0]).model_copy(update={"business_id": "A0002"})
    _problem(
        shop.call("POST", "/v1/transactions/authorize", as_other.model_dump(mode="json")),
        403,
        "wrong-business",
    )
    other_terminal = shop2.tx(use(world, 10), cards[0])
    _problem(shop.push(other_terminal), 403, "wrong-business")


def test_outside_its_roles_is_refused(
    shop: SigningTerminal, library: SigningTerminal, world: World, cards: list[CardProfile]
) -> None:
    _problem(library.push(library.tx(use(world, 10), cards[0])), 403, "wrong-role")
    grant = shop.tx({"kind": "grant", "grant_program_id": world.grant_program_id}, cards[0])
    _problem(shop.push(grant), 403, "wrong-role")
    _problem(shop.call("POST", "/v1/mykey/challenge"), 403, "wrong-role")


def test_operator_endpoints_need_the_operator_key(client: TestClient) -> None:
    admin_paths = [
        path
        for path, methods in client.get("/openapi.json").json()["paths"].items()
        if path.startswith("/v1/admin") and "get" in methods and "{" not in path
    ]
    assert admin_paths, "the admin router is mounted"
    for path in admin_paths:
        _problem(client.get(path), 401, "operator-key-invalid")
        _problem(client.get(path, headers={"X-Operator-Key": "wrong"}), 401, "operator-key-invalid")
    response = client.get(admin_paths[0], headers={"X-Operator-Key": OPERATOR_KEY})
    assert response.status_code != 401
