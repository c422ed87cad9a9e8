"""Typed dependencies: the app state, the authenticated terminal, the operator key."""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader
from sqlalchemy import Engine

from server_stub.api.signatures import (
    AuthenticatedTerminal,
    SignedMessage,
    VerifiedRequest,
    authenticate_request,
    verify_request_alone,
)
from server_stub.api.state import LedgerState
from server_stub.errors import OperatorKeyError, RateLimitedError, WrongRoleError
from sync.protocol import Role

OPERATOR_KEY_HEADER = "X-Operator-Key"
_operator_header = APIKeyHeader(name=OPERATOR_KEY_HEADER, auto_error=False)
T = TypeVar("T")


def get_state(request: Request) -> LedgerState:
    """The running app's state."""
    state: LedgerState = request.app.state.ledger
    return state


State = Annotated[LedgerState, Depends(get_state)]


class TerminalRateLimiter:
    """A token bucket per terminal ID: ``burst`` requests at once, refilled at ``rate`` per
    second. Keyed by verified terminal IDs only (a forged keyid never spends a real terminal's
    tokens), so it holds at most one small entry per enrolled terminal."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # id -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, terminal_id: str) -> None:
        """Spend one token of ``terminal_id`` or raise RateLimitedError (with Retry-After)."""
        if self.rate <= 0:
            return
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(terminal_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if tokens < 1.0:
                self._buckets[terminal_id] = (tokens, now)
                wait = math.ceil((1.0 - tokens) / self.rate)
                raise RateLimitedError(f"{terminal_id} over {self.rate:g}/s", retry_after=wait)
            self._buckets[terminal_id] = (tokens - 1.0, now)


def _rate_limiter(request: Request, state: LedgerState) -> TerminalRateLimiter:
    """The app's limiter, made on first use from the settings."""
    app_state = request.app.state
    limiter: TerminalRateLimiter | None = getattr(app_state, "terminal_rate_limiter", None)
    if limiter is None:
        settings = state.settings
        limiter = TerminalRateLimiter(
            settings.terminal_rate_per_second, settings.terminal_rate_burst
        )
        app_state.terminal_rate_limiter = limiter
    return limiter


def _message(request: Request) -> SignedMessage:
    scope = request.scope
    path = scope.get("raw_path") or scope["path"].encode("utf-8")
    url = "http://ledger" + path.decode("latin-1")
    query = scope.get("query_string", b"")
    if query:
        url += "?" + query.decode("latin-1")
    return SignedMessage(method=request.method, url=url, headers=request.headers)


async def _verified(
    request: Request, state: LedgerState, check: Callable[[Engine, SignedMessage, bytes, int], T]
) -> T:
    """``check`` (a verification of :mod:`server_stub.api.signatures`) of this request."""
    body = await request.body()
    return await run_in_threadpool(
        check, state.engine, _message(request), body, state.settings.max_skew_seconds
    )


async def require_terminal(request: Request, state: State) -> AuthenticatedTerminal:
    """The enrolled, active terminal that signed this request (RFC 9421), or 401/403; 429
    when it is over its rate limit."""
    terminal = await _verified(request, state, authenticate_request)
    _rate_limiter(request, state).take(terminal.id)
    return terminal


Terminal = Annotated[AuthenticatedTerminal, Depends(require_terminal)]


async def require_signed_request(request: Request, state: State) -> VerifiedRequest:
    """Like :func:`require_terminal`, but the nonce is left for the endpoint to store in its
    own database transaction (:func:`server_stub.api.signatures.record_request`): one commit
    per request instead of two. The endpoint must record it before it answers. 429 when the
    terminal is over its rate limit (nothing of the request is kept)."""
    verified = await _verified(request, state, verify_request_alone)
    _rate_limiter(request, state).take(verified.terminal.id)
    return verified


SignedRequest = Annotated[VerifiedRequest, Depends(require_signed_request)]


def require_role(terminal: AuthenticatedTerminal, *roles: Role) -> None:
    """Raise WrongRoleError unless the terminal has one of ``roles``."""
    if not terminal.roles.intersection(roles):
        raise WrongRoleError(f"{terminal.id} lacks {', '.join(r.value for r in roles)}")


def require_operator(
    state: State, key: Annotated[str | None, Depends(_operator_header)] = None
) -> None:
    """Refuse (401) unless the request carries the configured operator key (constant time)."""
    expected = state.settings.operator_key
    if expected is None or key is None:
        raise OperatorKeyError("missing operator key" if key is None else "no operator key set")
    if not hmac.compare_digest(key.encode("utf-8"), expected.get_secret_value().encode("utf-8")):
        raise OperatorKeyError("wrong operator key")


Operator = Annotated[None, Depends(require_operator)]
