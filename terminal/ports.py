"""What the terminal core needs from the outside, as interfaces it is handed.

``terminal`` may not import the HTTP client (``sync.client``); the composition root passes one
in. Its failures are the classes of ``sync.protocol``: ``LedgerUnreachableError`` (no answer: the
terminal may decide offline) and ``LedgerRefusedError`` (a final refusal).
"""

from __future__ import annotations

from typing import Protocol

from sync.protocol import (
    AvailabilityResponse,
    ChallengeResponse,
    LookupResponse,
    Transaction,
    TransactionResult,
)


class LedgerPort(Protocol):
    """The counter's online calls (short timeout, no retries: the customer is waiting)."""

    def authorize(self, transaction: Transaction) -> TransactionResult:
        """Apply one transaction now; the result carries the new balance."""
        ...

    def lookup(self, certificate_der: bytes) -> LookupResponse:
        """MyKey ID, status, balances usable here and the service ID here."""
        ...

    def mykey_challenge(self) -> ChallengeResponse:
        """A one-time challenge for a MyKey ID set-up."""
        ...

    def mykey_availability(self, mykey_id: str) -> AvailabilityResponse:
        """Whether a MyKey ID is free, with candidates when it is not."""
        ...
