"""RFC 9421 verification of terminal requests (Ed25519, keyid = terminal ID).

A request must cover ``@method``, ``@path``, ``@query`` and ``content-digest`` (checked against
the body, SHA-256), carry ``created`` within the allowed skew and a fresh ``nonce`` (stored until
it could no longer pass the skew check, so a replay is refused). Most endpoints verify and store
the nonce in one step (:func:`authenticate_request`); push and online authorisation verify first
(:func:`verify_request`) and store the nonce in the database transaction that applies the
request (:func:`record_request`), so a request costs one commit, and a request whose processing
fails leaves no nonce behind: sent again, it is applied once, by transaction ID as always.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)
from sqlalchemy import Connection, Engine, delete, select

from server_stub.clock import as_utc, utc_now
from server_stub.db.raw import RawStatement, run_together
from server_stub.db.schema import request_nonces, terminals
from server_stub.errors import (
    AuthenticationError,
    ClockSkewError,
    ReplayError,
    TerminalRevokedError,
)
from sync.protocol import COVERED_COMPONENTS, Role

log = logging.getLogger(__name__)

_purge_counter = 0


@dataclass(frozen=True)
class AuthenticatedTerminal:
    """The terminal a request was verified to come from."""

    id: str
    business_id: str
    roles: frozenset[Role]
    last_pull_at: datetime | None


@dataclass
class SignedMessage:
    """The request as the signature library reads it."""

    method: str
    url: str
    headers: Any


class _TerminalKeys(HTTPSignatureKeyResolver):
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.row: Any = None

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey | None:
        self.row = self.conn.execute(select(terminals).where(terminals.c.id == key_id)).first()
        if self.row is None:
            return None
        return Ed25519PublicKey.from_public_bytes(bytes(self.row.public_key))

    def resolve_private_key(self, key_id: str) -> None:
        raise AuthenticationError("the server holds no terminal private keys")


def _verifier(keys: _TerminalKeys, skew: timedelta) -> HTTPMessageVerifier:
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=keys)
    verifier.max_clock_skew = skew
    return verifier


@dataclass(frozen=True)
class VerifiedRequest:
    """A request whose signature verified, from an active terminal; its nonce is not yet
    recorded (:func:`record_request` does that, refusing a replay)."""

    terminal: AuthenticatedTerminal
    nonce: str
    nonce_expires_at: datetime


def authenticate_request(
    engine: Engine, message: SignedMessage, body: bytes, skew_seconds: int
) -> AuthenticatedTerminal:
    """Verify the request's signature and nonce; return the terminal or raise 401/403 errors."""
    with engine.begin() as conn:
        verified = verify_request(conn, message, body, skew_seconds)
        record_request(conn, verified, utc_now())
    return verified.terminal


def verify_request_alone(
    engine: Engine, message: SignedMessage, body: bytes, skew_seconds: int
) -> VerifiedRequest:
    """:func:`verify_request` in a database transaction of its own (it writes nothing)."""
    with engine.begin() as conn:
        return verify_request(conn, message, body, skew_seconds)


def verify_request(
    conn: Connection, message: SignedMessage, body: bytes, skew_seconds: int
) -> VerifiedRequest:
    """Verify the request's signature, its ``created`` time and its terminal (or raise 401/403
    errors); its nonce is checked and stored by :func:`record_request`."""
    names = {name.lower() for name, _ in message.headers.items()}
    if "signature" not in names or "signature-input" not in names:
        raise AuthenticationError("unsigned request")
    skew = timedelta(seconds=skew_seconds)
    keys = _TerminalKeys(conn)
    try:
        # max_age 0 plus the verifier's skew tolerance: ``created`` within ±skew of now
        results = _verifier(keys, skew).verify(
            message,
            max_age=timedelta(0),
            require_components=COVERED_COMPONENTS,
            body=body,
        )
    except (InvalidSignature, HTTPMessageSignaturesException) as exc:
        text = str(exc)
        if "created" in text or "maximum allowable age" in text:
            raise ClockSkewError(text) from exc
        raise AuthenticationError(text) from exc
    params = results[0].parameters
    nonce = params.get("nonce")
    if not isinstance(nonce, str) or not 8 <= len(nonce) <= 100:
        raise AuthenticationError("the signature needs a nonce of 8 to 100 characters")
    row = keys.row
    if row is None:  # pragma: no cover - verify() already refused an unknown key
        raise AuthenticationError("unknown terminal")
    if row.status != "active":
        raise TerminalRevokedError(str(row.id))
    created = datetime.fromtimestamp(int(params["created"]), tz=UTC)
    terminal = AuthenticatedTerminal(
        id=str(row.id),
        business_id=str(row.business_id),
        roles=frozenset(Role(r) for r in str(row.roles).split(",") if r),
        last_pull_at=None if row.last_pull_at is None else as_utc(row.last_pull_at),
    )
    # kept until it could no longer pass the skew check
    return VerifiedRequest(terminal, nonce, created + 2 * skew)


_STORE_NONCE = RawStatement(
    "INSERT INTO request_nonces (terminal_id, nonce, expires_at)"
    " VALUES (:terminal_id, :nonce, :expires_at) ON CONFLICT DO NOTHING RETURNING nonce"
)
#: the terminal's last request time, while it is still active (read again under the row lock,
#: so a revocation that committed since :func:`verify_request` refuses the request)
_SEEN = RawStatement(
    "UPDATE terminals SET last_seen_at = :now WHERE id = :terminal_id AND status = 'active'"
    " RETURNING id"
)


def record_request(conn: Connection, request: VerifiedRequest, now: datetime) -> None:
    """Store the request's nonce and the terminal's last request time, in the caller's database
    transaction; ReplayError (401) when the nonce was already used, TerminalRevokedError (403)
    when the terminal was revoked after :func:`verify_request`. A concurrent request with
    the same nonce waits for this transaction: it is refused once this one commits, and goes
    ahead only if this one rolls back (then nothing of this one was kept)."""
    terminal_id = request.terminal.id
    stored, active = run_together(
        conn,
        [
            (
                _STORE_NONCE,
                {
                    "terminal_id": terminal_id,
                    "nonce": request.nonce,
                    "expires_at": request.nonce_expires_at,
                },
            ),
            (_SEEN, {"now": now, "terminal_id": terminal_id}),
        ],
    )
    if active is None:
        raise TerminalRevokedError(terminal_id)
    if stored is None:
        raise ReplayError(f"nonce {request.nonce!r} of {terminal_id}")
    _maybe_purge(conn, now)


def _maybe_purge(conn: Connection, now: datetime) -> None:
    global _purge_counter
    _purge_counter += 1
    if _purge_counter % 200 == 1:
        conn.execute(delete(request_nonces).where(request_nonces.c.expires_at < now))
