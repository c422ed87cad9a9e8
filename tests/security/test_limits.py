"""Oversized bodies and the per-terminal rate limit, over a real uvicorn server (TCP).

A body over the configured size is refused with 413 problem+json before it is read whole
(declared or chunked), whatever the endpoint; the server goes on serving. A terminal over its
rate (a token bucket per verified terminal ID) gets 429 problem+json with Retry-After, and
nothing of that request is kept; other terminals and forged requests naming it are unaffected;
the terminal's client treats 429 as "try again later"; after the wait the resend applies once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from server_stub.api.deps import TerminalRateLimiter
from server_stub.errors import RateLimitedError
from sync.protocol import LedgerUnreachableError, PointUse
from sync.signing import sign_request
from tests.ledger.conftest import TestClient, World, resident, use
from tests.ledger.support import SigningTerminal
from tests.security.conftest import assert_problem, stored_nonces, stored_transactions
from tests.sync.support import EnrolledTerminal, LedgerServer

LIMIT = 64 * 1024
BURST = 5


@pytest.fixture
def server(tmp_path: Path, test_ca: TestCA) -> Iterator[LedgerServer]:
    """A real uvicorn ledger with a small body limit and a slow rate (one token per 100 s, so
    nothing refills while the test runs)."""
    with LedgerServer(
        tmp_path / "ledger",
        test_ca.trust_directory,
        max_request_bytes=LIMIT,
        terminal_rate_per_second=0.01,
        terminal_rate_burst=BURST,
        operator_key="operator-key-limits",
    ) as running:
        yield running


def _signed(
    terminal: EnrolledTerminal, method: str, url: str, body: bytes = b"", **kw: object
) -> httpx.Request:
    headers = {"Content-Type": "application/json"} if body else {}
    request = httpx.Request(method, url, content=body, headers=headers)
    sign_request(request, terminal_id=terminal.terminal_id, key=terminal.key, body=body)
    return request


def test_oversized_bodies_are_refused_with_413_everywhere(
    server: LedgerServer, cards: list[CardProfile]
) -> None:
    shop = server.enroll()
    server.resident(cards[0], "LIMIT001", 100)
    tx = shop.transaction(PointUse(program_id=server.program_id, points=1), cards[0])
    one = tx.model_dump(mode="json")
    padded = {"transactions": [one], "padding": "x" * LIMIT}
    big = json.dumps(padded).encode("utf-8")
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        for path in ("/v1/transactions/push", "/v1/transactions/authorize", "/v1/lookup"):
            response = http.send(_signed(shop, "POST", server.base_url + path, big))
            assert_problem(response, 413, "payload-too-large")

        def chunks() -> Iterator[bytes]:
            for _ in range(LIMIT // 4096 + 2):
                yield b" " * 4096

        streamed = http.post("/v1/transactions/push", content=chunks())
        assert_problem(streamed, 413, "payload-too-large")
        csv = b"mykey_id,points\r\n" + b"LIMIT001,1\r\n" * (LIMIT // 10)
        admin = http.post(
            "/v1/admin/grants/import",
            params={"grant_program_id": server.grant_program_id},
            headers={"X-Operator-Key": "operator-key-limits", "Content-Type": "text/csv"},
            content=csv,
        )
        assert_problem(admin, 413, "payload-too-large")
        # nothing was applied, and the server still serves
        assert server.transaction_count() == 0
        pushed = shop.client(server.base_url).push([tx])
        assert pushed.results[0].status == "applied"


def test_a_terminal_over_its_rate_gets_429_and_others_do_not(
    server: LedgerServer, cards: list[CardProfile]
) -> None:
    busy, quiet = server.enroll(), server.enroll()
    server.resident(cards[0], "LIMIT002", 100)
    stranger = Ed25519PrivateKey.generate()
    pull = server.base_url + "/v1/pull"
    with httpx.Client(timeout=10) as http:
        for _ in range(BURST - 1):
            assert http.send(_signed(busy, "GET", pull)).status_code == 200
        for _ in range(3 * BURST):  # forged requests naming the busy terminal spend nothing
            forged = httpx.Request("GET", pull)
            sign_request(forged, terminal_id=busy.terminal_id, key=stranger, body=b"")
            assert_problem(http.send(forged), 401, "unauthenticated")
        assert http.send(_signed(busy, "GET", pull)).status_code == 200  # the last token
        limited = http.send(_signed(busy, "GET", pull))
        assert_problem(limited, 429, "rate-limited")
        retry_after = int(limited.headers["Retry-After"])
        assert 1 <= retry_after <= 100
        assert limited.json()["retry_after"] == retry_after
        assert http.send(_signed(quiet, "GET", pull)).status_code == 200

        before = server.transaction_count()
        tx = busy.transaction(PointUse(program_id=server.program_id, points=5), cards[0])
        body = json.dumps({"transactions": [tx.model_dump(mode="json")]}).encode()
        refused = http.send(_signed(busy, "POST", server.base_url + "/v1/transactions/push", body))
        assert_problem(refused, 429, "rate-limited")
        assert server.transaction_count() == before
    # the terminal's own client: "unreachable, try later" (never a final refusal)
    client = busy.client(server.base_url)
    with pytest.raises(LedgerUnreachableError):
        client.push([tx])
    client.close()
    assert server.transaction_count() == before


def test_after_the_wait_the_resent_push_applies_once(
    client: TestClient,
    shop: SigningTerminal,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
) -> None:
    """The limiter's clock moved by hand: refused at once, accepted after Retry-After."""
    now = [1000.0]
    client.app.state.terminal_rate_limiter = TerminalRateLimiter(0.5, 1, clock=lambda: now[0])  # type: ignore[attr-defined]
    resident(engine, world, cards[0], "LIMIT003", 100)
    tx = shop.tx(use(world, 30), cards[0])
    assert shop.call("GET", "/v1/pull").status_code == 200
    nonces = stored_nonces(engine)
    first = shop.push(tx)
    assert_problem(first, 429, "rate-limited")
    assert first.headers["Retry-After"] == "2"
    assert stored_transactions(engine) == 0
    assert stored_nonces(engine) == nonces
    now[0] += 2
    again = shop.push(tx).json()["results"][0]
    assert (again["status"], again["balance"]) == ("applied", 70)
    now[0] += 2
    duplicate = shop.push(tx).json()["results"][0]
    assert (duplicate["status"], duplicate["balance"]) == ("duplicate", 70)


def test_the_token_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    now = [0.0]
    limiter = TerminalRateLimiter(2.0, 3, clock=lambda: now[0])
    for _ in range(3):
        limiter.take("T1")
    with pytest.raises(RateLimitedError) as refused:
        limiter.take("T1")
    assert refused.value.retry_after == 1
    limiter.take("T2")  # another terminal has its own bucket
    now[0] += 0.5  # one token back
    limiter.take("T1")
    with pytest.raises(RateLimitedError):
        limiter.take("T1")
    now[0] += 100  # never more than the burst
    for _ in range(3):
        limiter.take("T1")
    with pytest.raises(RateLimitedError):
        limiter.take("T1")
    TerminalRateLimiter(0, 1).take("T1")  # rate 0: no limit
