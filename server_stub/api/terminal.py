"""The terminal API: push, online authorisation, look-up, pull, MyKey ID set-up."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError

from server_stub import cards, views
from server_stub.api.deps import SignedRequest, State, Terminal, require_role
from server_stub.api.problem import PROBLEM_RESPONSES
from server_stub.api.signatures import AuthenticatedTerminal, VerifiedRequest, record_request
from server_stub.api.state import LedgerState
from server_stub.catalog import get_business
from server_stub.clock import utc_now
from server_stub.db.engine import is_sqlite
from server_stub.db.schema import mykey_challenges
from server_stub.errors import InvalidMyKeyIdError, WrongBusinessError, WrongRoleError
from server_stub.posting import lock_business_settlements
from server_stub.processing import TerminalContext, process_all
from sync.protocol import (
    KIND_ROLES,
    AvailabilityResponse,
    ChallengeResponse,
    LookupRequest,
    LookupResponse,
    PullResponse,
    PushRequest,
    PushResponse,
    Role,
    Transaction,
    TransactionResult,
)

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["terminal"], responses=PROBLEM_RESPONSES)


def _check_rights(terminal: AuthenticatedTerminal, items: list[Transaction]) -> None:
    """Every item must be this terminal's, for its business, within its roles (else 403)."""
    for tx in items:
        if tx.terminal_id != terminal.id or tx.business_id != terminal.business_id:
            raise WrongBusinessError(
                f"{terminal.id}@{terminal.business_id} sent {tx.id} as "
                f"{tx.terminal_id}@{tx.business_id}"
            )
        if not terminal.roles.intersection(KIND_ROLES[tx.kind]):
            raise WrongRoleError(f"{terminal.id} may not send {tx.kind.value}")


#: PostgreSQL SQLSTATEs after which a chunk is safely retried (nothing of it was committed).
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
MAX_ATTEMPTS = 5
#: Items per database transaction on PostgreSQL. Each item has its own savepoint, and
#: PostgreSQL slows down once one transaction holds more than 64 of them (its subtransaction
#: cache overflows); so a large batch is committed in chunks. Earlier chunks stay committed if
#: a later one fails: the terminal resends the batch and gets ``duplicate`` for them
#: (idempotency by transaction ID). SQLite has no such limit and each commit costs a sync to
#: disk, so there a batch is one database transaction.
POSTGRES_CHUNK_SIZE = 50


def _retryable(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def _run(
    state: LedgerState, request: VerifiedRequest, items: list[Transaction]
) -> list[TransactionResult]:
    """Process the request's items; its nonce is stored with the first chunk (so a replay is
    refused once anything of the request was committed, and nothing else commits for it)."""
    terminal = request.terminal
    _check_rights(terminal, items)
    size = max(1, len(items)) if is_sqlite(state.engine) else POSTGRES_CHUNK_SIZE
    results: list[TransactionResult] = []
    for start in range(0, max(1, len(items)), size):  # an empty batch still stores its nonce
        chunk = items[start : start + size]
        results += _run_chunk(state, terminal, chunk, request if start == 0 else None)
    return results


def _run_chunk(
    state: LedgerState,
    terminal: AuthenticatedTerminal,
    items: list[Transaction],
    request: VerifiedRequest | None,
) -> list[TransactionResult]:
    """Process ``items`` (and record ``request``'s nonce, if given) in one database transaction,
    retried whole after a deadlock or a serialisation failure."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with state.engine.begin() as conn:
                now = utc_now()
                if request is not None:
                    record_request(conn, request, now)
                lock_business_settlements(conn, terminal.business_id)
                ctx = TerminalContext(
                    terminal_id=terminal.id,
                    business=get_business(conn, terminal.business_id),
                    trust=state.trust,
                    now=now,
                    last_pull_at=terminal.last_pull_at,
                )
                return process_all(conn, ctx, items)
        except DBAPIError as error:
            if attempt == MAX_ATTEMPTS or not _retryable(error):
                raise
            log.info("chunk of %s retried after %s", terminal.id, error.orig)
    raise AssertionError("unreachable")  # pragma: no cover


@router.post("/transactions/push", response_model=PushResponse, summary="Push a batch (最大500件)")
def push(batch: PushRequest, request: SignedRequest, state: State) -> PushResponse:
    """Apply up to 500 transactions; each is atomic and idempotent by its ID forever."""
    return PushResponse(results=_run(state, request, list(batch.transactions)))


@router.post(
    "/transactions/authorize",
    response_model=TransactionResult,
    summary="Online authorisation of one transaction",
)
def authorize(tx: Transaction, request: SignedRequest, state: State) -> TransactionResult:
    """Apply one transaction now and answer with the new balance."""
    return _run(state, request, [tx])[0]


@router.post("/lookup", response_model=LookupResponse, summary="Card look-up (照会)")
def lookup(request: LookupRequest, terminal: Terminal, state: State) -> LookupResponse:
    """Certificate -> MyKey ID, status, balances usable here, service ID here."""
    with state.engine.begin() as conn:
        business = get_business(conn, terminal.business_id)
        return views.lookup(conn, request, business, state.trust, utc_now())


@router.get("/pull", response_model=PullResponse, summary="Pull deltas since a cursor")
def pull(
    terminal: Terminal,
    state: State,
    cursor: Annotated[str | None, Query(max_length=18, pattern=r"^[0-9]*$")] = None,
) -> PullResponse:
    """Cached cards, service IDs, revocation snapshot, voucher keys, redemptions, programs."""
    with state.engine.begin() as conn:
        business = get_business(conn, terminal.business_id)
        return views.pull(
            conn,
            terminal.id,
            business,
            views.parse_cursor(cursor),
            state.signing_key,
            utc_now(),
            timedelta(seconds=state.settings.pull_cursor_lag_seconds),
        )


@router.post(
    "/mykey/challenge", response_model=ChallengeResponse, summary="MyKey ID set-up challenge"
)
def mykey_challenge(terminal: Terminal, state: State) -> ChallengeResponse:
    """A one-time challenge the card signs (inside the mykey_setup transaction)."""
    require_role(terminal, Role.OFFICE)
    now = utc_now()
    challenge = secrets.token_urlsafe(24)
    expires = now + timedelta(seconds=state.settings.challenge_ttl_seconds)
    with state.engine.begin() as conn:
        conn.execute(
            insert(mykey_challenges).values(
                challenge=challenge, terminal_id=terminal.id, expires_at=expires
            )
        )
    return ChallengeResponse(challenge=challenge, expires_at=expires)


@router.get(
    "/mykey/availability",
    response_model=AvailabilityResponse,
    summary="Is a MyKey ID free? (candidates when not)",
)
def mykey_availability(
    terminal: Terminal,
    state: State,
    mykey_id: Annotated[str, Query(min_length=1, max_length=64)],
) -> AvailabilityResponse:
    """Whether ``mykey_id`` can be created (case-insensitively unique), with suggestions."""
    require_role(terminal, Role.OFFICE)
    with state.engine.begin() as conn:
        try:
            cards.validate_mykey_id(mykey_id)
        except InvalidMyKeyIdError as error:
            return AvailabilityResponse(
                mykey_id=mykey_id,
                available=False,
                reason=error.code,
                candidates=cards.suggest_candidates(conn, mykey_id),
            )
        if cards.is_taken(conn, mykey_id):
            return AvailabilityResponse(
                mykey_id=mykey_id,
                available=False,
                reason="mykey-id-taken",
                candidates=cards.suggest_candidates(conn, mykey_id),
            )
    return AvailabilityResponse(mykey_id=mykey_id, available=True, candidates=[])
