"""The terminal's HTTP client for the ledger server: enrollment, then RFC 9421-signed requests.

Every request after enrollment is signed with the terminal's Ed25519 key (keyid = terminal ID)
over ``@method``, ``@path``, ``@query`` and ``content-digest``, with ``created`` and a fresh
``nonce`` (:class:`sync.signing.TerminalAuth`, built on requests-http-signature).

Failures come in two kinds (:mod:`sync.protocol`):

- :class:`LedgerUnreachableError`: no usable answer (connection refused or reset, timeout, a 5xx,
  408 or 429 answer, a body that is not JSON or does not match the protocol). The request may or
  may not have been applied; idempotent calls are retried by :class:`RetryPolicy`.
- :class:`LedgerRefusedError`: a 4xx answer, final; ``code`` is the server's stable code (its
  problem document) or ``"http-error"`` when the body is not a problem document.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, ValidationError

from sync.protocol import (
    AvailabilityResponse,
    ChallengeResponse,
    EnrollRequest,
    EnrollResponse,
    LedgerError,
    LedgerRefusedError,
    LedgerUnreachableError,
    LookupRequest,
    LookupResponse,
    Problem,
    PullResponse,
    PushRequest,
    PushResponse,
    Transaction,
    TransactionResult,
    b64encode,
)
from sync.signing import TerminalAuth, public_key_b64

__all__ = [
    "CLOCK_SKEW_CODE",
    "DEFAULT_TIMEOUT_S",
    "LedgerClient",
    "LedgerError",
    "LedgerRefusedError",
    "LedgerUnreachableError",
    "RetryPolicy",
    "enroll",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0
#: The server's code for a request whose signature time is too far from the server's clock.
CLOCK_SKEW_CODE = "clock-skew"
#: The code of a refusal whose body is not a problem document.
HTTP_ERROR_CODE = "http-error"
#: 4xx answers that say "try again later" rather than "no".
_TRANSIENT_4XX = frozenset({408, 429})

M = TypeVar("M", bound=BaseModel)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RetryPolicy:
    """How often a call is tried and how long to wait in between.

    ``attempts`` is the total number of tries (1 = no retry). The wait before retry ``n``
    (1-based) is drawn uniformly from 0 to ``min(max_delay, base_delay * 2 ** (n - 1))``:
    exponential backoff with full jitter, so many terminals coming back at once spread out.
    """

    attempts: int = 1
    base_delay: float = 0.2
    max_delay: float = 5.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays cannot be negative")

    def ceiling(self, retry: int) -> float:
        """The longest wait before retry number ``retry`` (1-based)."""
        exponent = min(max(retry, 1) - 1, 62)  # 2**62 is already past any cap
        return float(min(self.max_delay, self.base_delay * 2**exponent))

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """A wait before retry number ``retry``: uniform in [0, :meth:`ceiling`]."""
        return (rng or random).uniform(0.0, self.ceiling(retry))


def _problem(response: requests.Response) -> LedgerRefusedError:
    """The refusal a 4xx answer carries."""
    try:
        problem = Problem.model_validate_json(response.content)
    except ValidationError:
        return LedgerRefusedError(
            response.status_code,
            HTTP_ERROR_CODE,
            f"サーバーが要求を拒否しました（HTTP {response.status_code}）。",
            f"The server refused the request (HTTP {response.status_code} {response.reason}).",
        )
    return LedgerRefusedError(problem.status, problem.code, problem.title_ja, problem.title_en)


def _answer(response: requests.Response, model: type[M]) -> M:
    """The answer's body as ``model``, or the error the answer means."""
    status = response.status_code
    if status >= 500 or status in _TRANSIENT_4XX:
        raise LedgerUnreachableError(f"HTTP {status} {response.reason}")
    if status >= 400:
        raise _problem(response)
    if status >= 300 or status < 200:
        raise LedgerUnreachableError(f"unexpected answer HTTP {status}")
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        # not JSON, or JSON that is not the protocol: treated like no answer (never applied
        # half-understood); the body stays out of the message
        raise LedgerUnreachableError(
            f"the answer is not a valid {model.__name__} ({exc.error_count()} errors)"
        ) from exc


def _send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    content: bytes,
    params: Mapping[str, str] | None,
    auth: requests.auth.AuthBase | None,
    timeout: float,
) -> requests.Response:
    """One HTTP exchange; transport failures become :class:`LedgerUnreachableError`."""
    headers = {"Accept": "application/json"}
    if content:
        headers["Content-Type"] = "application/json"
    try:
        return session.request(
            method,
            url,
            params=params,
            data=content or None,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.Timeout as exc:
        raise LedgerUnreachableError(f"no answer within {timeout:g} s") from exc
    except (
        requests.ConnectionError,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    ) as exc:
        raise LedgerUnreachableError(f"connection failed: {type(exc).__name__}") from exc


def enroll(
    base_url: str,
    code: str,
    key: Ed25519PrivateKey,
    *,
    voucher_key: Ed25519PrivateKey | None = None,
    name: str = "",
    timeout: float = DEFAULT_TIMEOUT_S,
    session: requests.Session | None = None,
) -> EnrollResponse:
    """Exchange a one-time enrollment code and this terminal's public key (and, for a street
    office, its voucher-signing key) for a terminal ID. Not retried: the code is single-use."""
    request = EnrollRequest(
        code=code,
        public_key=public_key_b64(key),
        voucher_public_key=None if voucher_key is None else public_key_b64(voucher_key),
        name=name,
    )
    http = session or requests.Session()
    try:
        response = _send(
            http,
            "POST",
            f"{base_url.rstrip('/')}/v1/enroll",
            content=request.model_dump_json().encode("utf-8"),
            params=None,
            auth=None,
            timeout=timeout,
        )
        return _answer(response, EnrollResponse)
    finally:
        if session is None:
            http.close()


class LedgerClient:
    """Signed requests of one enrolled terminal.

    Safe to share between threads (the counter's and the sync engine's): unless a ``session``
    is given, each thread gets its own connection pool. ``clock`` is the terminal's clock: it
    dates the signatures, and :attr:`last_clock_offset` (seconds, server minus terminal, from
    the ``Date`` header of the last answer) tells how far off it is.
    """

    def __init__(
        self,
        base_url: str,
        terminal_id: str,
        key: Ed25519PrivateKey,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy = RetryPolicy(),
        session: requests.Session | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.terminal_id = terminal_id
        self.timeout = timeout
        self.retry = retry
        self.last_clock_offset: float | None = None
        self._clock = clock
        self._auth = TerminalAuth(terminal_id, key, clock=clock)
        self._session = session
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self._rng = random.Random()  # noqa: S311 - jitter, not a secret

    def __repr__(self) -> str:
        return f"LedgerClient({self.base_url!r}, terminal {self.terminal_id})"

    def close(self) -> None:
        """Close the HTTP connection pools this client opened."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def _http(self) -> requests.Session:
        if self._session is not None:
            return self._session
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _note_date(self, response: requests.Response) -> None:
        header = response.headers.get("Date")
        if not header:
            return
        try:
            server_time = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return
        if server_time.tzinfo is None:
            server_time = server_time.replace(tzinfo=UTC)
        self.last_clock_offset = (server_time - self._clock()).total_seconds()

    def _once(
        self, method: str, path: str, body: BaseModel | None, params: Mapping[str, str] | None
    ) -> requests.Response:
        content = b"" if body is None else body.model_dump_json().encode("utf-8")
        response = _send(
            self._http(),
            method,
            self.base_url + path,
            content=content,
            params=params,
            auth=self._auth,
            timeout=self.timeout,
        )
        self._note_date(response)
        return response

    def _call(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        body: BaseModel | None = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> M:
        """Send (signed again on each try), retrying idempotent calls while unreachable."""
        attempts = self.retry.attempts if idempotent else 1
        for attempt in range(1, attempts + 1):
            try:
                return _answer(self._once(method, path, body, params), model)
            except LedgerUnreachableError as error:
                if attempt >= attempts:
                    raise
                delay = self.retry.delay(attempt, self._rng)
                log.info(
                    "%s %s: %s; try %d of %d in %.2f s",
                    method,
                    path,
                    error,
                    attempt + 1,
                    attempts,
                    delay,
                )
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def push(self, transactions: list[Transaction]) -> PushResponse:
        """Push a batch (at most 500, in order); one result per transaction, same order.

        Idempotent by transaction ID: a resent transaction gets its first answer back
        (``duplicate`` with the original status)."""
        answer = self._call(
            "POST",
            "/v1/transactions/push",
            PushResponse,
            body=PushRequest(transactions=transactions),
        )
        if [r.id for r in answer.results] != [t.id for t in transactions]:
            raise LedgerUnreachableError("the push answer does not match the batch")
        return answer

    def authorize(self, transaction: Transaction) -> TransactionResult:
        """Online authorisation of one transaction; the result carries the new balance."""
        result = self._call(
            "POST", "/v1/transactions/authorize", TransactionResult, body=transaction
        )
        if result.id != transaction.id:
            raise LedgerUnreachableError("the answer is for another transaction")
        return result

    def lookup(self, certificate_der: bytes) -> LookupResponse:
        """MyKey ID, status, balances usable here and the service ID here for a certificate."""
        body = LookupRequest(certificate=b64encode(certificate_der))
        return self._call("POST", "/v1/lookup", LookupResponse, body=body)

    def pull(self, cursor: str | None) -> PullResponse:
        """Deltas since ``cursor`` (everything when None); pass the answer's cursor next time."""
        params = {"cursor": cursor} if cursor else None
        return self._call("GET", "/v1/pull", PullResponse, params=params)

    def mykey_challenge(self) -> ChallengeResponse:
        """A one-time challenge for a MyKey ID set-up (never retried: each call makes one)."""
        return self._call("POST", "/v1/mykey/challenge", ChallengeResponse, idempotent=False)

    def mykey_availability(self, mykey_id: str) -> AvailabilityResponse:
        """Whether ``mykey_id`` can be created, with suggestions when it cannot."""
        return self._call(
            "GET", "/v1/mykey/availability", AvailabilityResponse, params={"mykey_id": mykey_id}
        )
