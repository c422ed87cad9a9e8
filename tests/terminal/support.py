"""The real ledger server's code behind the terminal's ``LedgerPort``, in process.

Requests go through FastAPI's test client, signed as the enrolled terminal, so the server's
checks all run. Two switches stand for the network: ``down`` (no answer at all) and
``lose_answers`` (the server applies the request, then the answer is lost).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from sync.protocol import (
    AvailabilityResponse,
    ChallengeResponse,
    LedgerRefusedError,
    LedgerUnreachableError,
    LookupResponse,
    PullResponse,
    PushRequest,
    PushResponse,
    Transaction,
    TransactionResult,
    b64encode,
)
from tests.ledger.support import SigningTerminal


class InProcessLedger:
    """A ``LedgerPort`` (and the sync engine's port) over the real app, with network switches."""

    def __init__(self, terminal: SigningTerminal) -> None:
        self.terminal = terminal
        self.down = False
        self.lose_answers = False
        self.calls = 0

    def _call(self, method: str, path: str, body: BaseModel | None = None) -> Any:
        if self.down:
            raise LedgerUnreachableError("connection refused (test switch)")
        self.calls += 1
        data = None if body is None else body.model_dump(mode="json")
        response = self.terminal.call(method, path, data)
        if self.lose_answers:
            raise LedgerUnreachableError("answer lost (test switch)")
        if response.status_code >= 400:
            problem = response.json()
            raise LedgerRefusedError(
                response.status_code, problem["code"], problem["title_ja"], problem["title_en"]
            )
        return response.json()

    def authorize(self, transaction: Transaction) -> TransactionResult:
        return TransactionResult.model_validate(
            self._call("POST", "/v1/transactions/authorize", transaction)
        )

    def push(self, transactions: list[Transaction]) -> PushResponse:
        body = PushRequest(transactions=transactions)
        return PushResponse.model_validate(self._call("POST", "/v1/transactions/push", body))

    def pull(self, cursor: str | None) -> PullResponse:
        path = "/v1/pull" if cursor is None else f"/v1/pull?cursor={cursor}"
        return PullResponse.model_validate(self._call("GET", path))

    def lookup(self, certificate_der: bytes) -> LookupResponse:
        from sync.protocol import LookupRequest

        body = LookupRequest(certificate=b64encode(certificate_der))
        return LookupResponse.model_validate(self._call("POST", "/v1/lookup", body))

    def mykey_challenge(self) -> ChallengeResponse:
        return ChallengeResponse.model_validate(self._call("POST", "/v1/mykey/challenge"))

    def mykey_availability(self, mykey_id: str) -> AvailabilityResponse:
        return AvailabilityResponse.model_validate(
            self._call("GET", f"/v1/mykey/availability?mykey_id={mykey_id}")
        )


class FakeClock:
    """A clock the test moves by hand (aware UTC), starting a minute from now (so cards a test
    issues after the clock was made are already valid by it)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(minutes=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


Clock = Callable[[], datetime]
