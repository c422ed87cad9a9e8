"""The counter as the use cases see it, and the first steps every card flow shares:
read and check the card, prove the PIN, and resolve who it is (online, else from the cache).

No Qt and no HTTP here: the card session, the ledger client and the clock are handed in.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cardio.auth import (
    AuthenticatedCard,
    CheckedCard,
    PinPrompt,
    TrustStore,
    inspect_card,
    prove_possession,
)
from cardio.jpki import JpkiSession
from cardio.secrets import Pin
from sync.protocol import (
    Balance,
    LedgerRefusedError,
    LedgerUnreachableError,
    LookupResponse,
    OfflineLimits,
    Role,
)
from terminal.config import TerminalIdentity
from terminal.errors import (
    MyKeyNotActiveError,
    RoleNotAllowedError,
    ServerRefusedError,
    UnknownCardError,
)
from terminal.offline import DEFAULT_LIMITS
from terminal.ports import LedgerPort
from terminal.revocation import SnapshotRevocation
from terminal.store import TerminalStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The terminal's clock: now, aware, UTC."""
    return datetime.now(UTC)


def _nothing() -> None:
    return None


@dataclass
class Counter:
    """One enrolled terminal: who it is, its local store, its ledger client, its trust anchors."""

    identity: TerminalIdentity
    store: TerminalStore
    ledger: LedgerPort
    trust: TrustStore
    clock: Clock = utc_now
    #: called after a row was written that the sync engine should push (wakes it)
    on_new_row: Callable[[], None] = field(default=_nothing)

    def require_role(self, *roles: Role) -> None:
        """Raise ``RoleNotAllowedError`` unless this terminal has one of ``roles``."""
        if not any(self.identity.has_role(role) for role in roles):
            raise RoleNotAllowedError(f"{self.identity.terminal_id} lacks {roles}")

    def revocation(self) -> SnapshotRevocation | None:
        """The cached revocation snapshot as a card-check source (None before the first sync)."""
        state = self.store.sync_state()
        if state.revocation is None or state.revocation_received_at is None:
            return None
        return SnapshotRevocation(state.revocation, state.revocation_received_at)

    def offline_limits(self, program_id: int) -> OfflineLimits:
        """The program's offline limits (DOMAIN.md §6 defaults when never synced)."""
        program = self.store.program(program_id)
        return DEFAULT_LIMITS if program is None else program.offline


@dataclass(frozen=True)
class CardHolder:
    """The resident at the counter: their checked card and what this business knows of them."""

    card: CheckedCard
    authenticated: AuthenticatedCard | None
    mykey_id: str | None
    status: str
    balances: list[Balance]
    customer_id: str | None
    #: True when the server answered the look-up; False when resolved from the local cache
    online: bool

    @property
    def certificate_der(self) -> bytes:
        """The card's user-authentication certificate."""
        return self.card.certificate_der

    def balance(self, program_id: int) -> Balance | None:
        """The usable balance of one program, if the card has one here."""
        return next((b for b in self.balances if b.program_id == program_id), None)

    def require_active(self) -> str:
        """The MyKey ID; raises when the card has none or it is not active."""
        if self.mykey_id is None or self.status == "unregistered":
            raise UnknownCardError(self.card.ref.fingerprint_sha256[:16])
        if self.status != "active":
            raise MyKeyNotActiveError(f"{self.mykey_id} is {self.status}")
        return self.mykey_id


def read_card(counter: Counter, session: JpkiSession) -> CheckedCard:
    """Read the certificate and check chain, validity, usage and the cached revocation list."""
    return inspect_card(
        session, trust=counter.trust, clock=counter.clock, revocation=counter.revocation()
    )


def prove_pin(session: JpkiSession, card: CheckedCard, pin: Pin | PinPrompt) -> AuthenticatedCard:
    """Verify the PIN and have the card sign a fresh challenge (typed CardError on failure)."""
    return prove_possession(session, card, pin, os.urandom(32))


def resolve_holder(
    counter: Counter, card: CheckedCard, authenticated: AuthenticatedCard | None = None
) -> CardHolder:
    """Who this card is here: an online look-up (cached for offline use), else the cache."""
    ref = card.ref
    try:
        lookup = counter.ledger.lookup(card.certificate_der)
    except LedgerUnreachableError as error:
        log.info("look-up offline (%s); using the cache", error)
        return _from_cache(counter, card, authenticated)
    except LedgerRefusedError as error:
        raise ServerRefusedError(error.code, error.title_ja, error.title_en) from error
    counter.store.remember_lookup(
        card.certificate_der,
        ref.fingerprint_sha256,
        ref.issuer,
        str(ref.serial),
        lookup,
        at=counter.clock(),
    )
    return _holder(counter, card, authenticated, lookup)


def _holder(
    counter: Counter,
    card: CheckedCard,
    authenticated: AuthenticatedCard | None,
    lookup: LookupResponse,
) -> CardHolder:
    return CardHolder(
        card=card,
        authenticated=authenticated,
        mykey_id=lookup.mykey_id,
        status=lookup.status,
        balances=_with_pending(counter, lookup.mykey_id, lookup.balances),
        customer_id=lookup.customer_id,
        online=True,
    )


def _from_cache(
    counter: Counter, card: CheckedCard, authenticated: AuthenticatedCard | None
) -> CardHolder:
    cached = counter.store.card_by_fingerprint(card.ref.fingerprint_sha256)
    if cached is None:
        return CardHolder(card, authenticated, None, "unknown", [], None, online=False)
    return CardHolder(
        card=card,
        authenticated=authenticated,
        mykey_id=cached.mykey_id,
        status=cached.status,
        balances=_with_pending(counter, cached.mykey_id, cached.balances),
        customer_id=cached.customer_id,
        online=False,
    )


def _with_pending(counter: Counter, mykey_id: str | None, balances: list[Balance]) -> list[Balance]:
    """Balances as the resident should see them: the server's plus this terminal's unsynced rows."""
    if mykey_id is None:
        return balances
    adjusted = []
    for balance in balances:
        delta = counter.store.pending_delta(mykey_id, balance.program_id)
        adjusted.append(
            balance if delta == 0 else balance.model_copy(update={"points": balance.points + delta})
        )
    return adjusted
