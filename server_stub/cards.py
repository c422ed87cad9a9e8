"""Cards and MyKey IDs: certificate checks, certificate -> MyKey ID resolution (following
renewal links), MyKey ID creation with case-insensitive uniqueness and candidate suggestions."""

from __future__ import annotations

import logging
import secrets
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography import x509
from sqlalchemy import Connection, bindparam, insert, select

from cardio.auth import (
    CardError,
    CertificateRef,
    TrustStore,
    validate_certificate,
    verify_card_signature,
)
from server_stub.clock import as_utc
from server_stub.db.raw import RawStatement
from server_stub.db.schema import (
    certificate_bindings,
    mykey_ids,
    renewal_links,
    revoked_certificates,
)
from server_stub.db.upsert import insert_ignore
from server_stub.errors import (
    AlreadyExistsError,
    CardAlreadyBoundError,
    CardSignatureError,
    CertificateRejectedError,
    CertificateRevokedError,
    InvalidInputError,
    InvalidMyKeyIdError,
    MyKeyIdTakenError,
    MyKeyNotActiveError,
    UnknownMyKeyIdError,
)
from server_stub.events import EventKind, record_event
from sync.protocol import MYKEY_ID_PATTERN

log = logging.getLogger(__name__)

MAX_RENEWAL_HOPS = 16
#: How many distinct card certificates the process keeps parsed and validated.
CERTIFICATE_CACHE_SIZE = 4096


@dataclass(frozen=True)
class CardRef:
    """A certificate reference as the ledger stores it (serial as decimal text)."""

    issuer: str
    serial: str
    fingerprint_sha256: str

    @classmethod
    def of(cls, ref: CertificateRef) -> CardRef:
        """From cardio's reference."""
        return cls(ref.issuer, str(ref.serial), ref.fingerprint_sha256)

    @classmethod
    def of_certificate(cls, certificate: x509.Certificate | bytes) -> CardRef:
        """From a certificate (object or DER)."""
        try:
            return cls.of(CertificateRef.of(certificate))
        except ValueError as exc:
            raise InvalidInputError("the certificate is not DER X.509") from exc


_REVOKED_AT = select(revoked_certificates.c.revoked_at).where(
    (revoked_certificates.c.issuer == bindparam("issuer"))
    & (revoked_certificates.c.serial == bindparam("serial"))
)
_BOUND_TO_PRINT = select(certificate_bindings.c.mykey_id).where(
    certificate_bindings.c.fingerprint_sha256 == bindparam("fingerprint")
)
_MYKEY_STATUS = select(mykey_ids.c.status).where(mykey_ids.c.id == bindparam("mykey_id"))


def is_revoked(conn: Connection, ref: CardRef, at: datetime | None = None) -> bool:
    """Whether an imported CRL lists the certificate (revoked at or before ``at`` if given)."""
    row = conn.execute(_REVOKED_AT, {"issuer": ref.issuer, "serial": ref.serial}).first()
    if row is None:
        return False
    return _revoked_by(row.revoked_at, at)


def _revoked_by(revoked_at: datetime | None, at: datetime | None) -> bool:
    return revoked_at is not None and (at is None or as_utc(revoked_at) <= as_utc(at))


@lru_cache(maxsize=CERTIFICATE_CACHE_SIZE)
def parsed_certificate(certificate_der: bytes) -> x509.Certificate:
    """The certificate parsed from DER (cached: parsing is pure); ValueError when unreadable
    (an unknown X.509 version too: cryptography raises InvalidVersion for it)."""
    try:
        return x509.load_der_x509_certificate(certificate_der)
    except x509.InvalidVersion as exc:
        raise ValueError(f"unknown certificate version {exc.parsed_version}") from exc


@lru_cache(maxsize=CERTIFICATE_CACHE_SIZE)
def card_ref(certificate_der: bytes) -> CardRef:
    """:meth:`CardRef.of_certificate` of a DER certificate, cached (it is pure)."""
    try:  # fields are parsed lazily: a malformed one raises ValueError or TypeError on access
        return CardRef.of_certificate(parsed_certificate(certificate_der))
    except (ValueError, TypeError) as exc:
        raise InvalidInputError("the certificate is not DER X.509") from exc


@dataclass(frozen=True)
class _Validated:
    """A certificate that passed every time-independent check against one trust store, and
    the window (its own and its issuer's validity) inside which the time checks pass too."""

    ref: CardRef
    valid_from: datetime
    valid_until: datetime


class _ValidatedCache:
    """Bounded LRU of validated certificates per trust store, keyed by the DER bytes.

    Only successes are kept, so every refusal is judged afresh; a hit is used only when the
    check time falls inside the cached validity window (else the full check runs and says why).
    Revocation is never cached: the caller checks imported CRLs on every use.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._by_trust: weakref.WeakKeyDictionary[TrustStore, OrderedDict[bytes, _Validated]]
        self._by_trust = weakref.WeakKeyDictionary()

    def get(self, trust: TrustStore, der: bytes, at: datetime) -> CardRef | None:
        with self._lock:
            entries = self._by_trust.get(trust)
            hit = None if entries is None else entries.get(der)
            if hit is None or not hit.valid_from <= at <= hit.valid_until:
                return None
            entries.move_to_end(der)  # type: ignore[union-attr]
            return hit.ref

    def put(self, trust: TrustStore, der: bytes, ref: CardRef) -> None:
        certificate = parsed_certificate(der)
        issuer = trust.issuer_of(certificate)
        if issuer is None:  # pragma: no cover - validation just found it
            return
        entry = _Validated(
            ref,
            max(certificate.not_valid_before_utc, issuer.not_valid_before_utc),
            min(certificate.not_valid_after_utc, issuer.not_valid_after_utc),
        )
        with self._lock:
            entries = self._by_trust.setdefault(trust, OrderedDict())
            entries[der] = entry
            entries.move_to_end(der)
            while len(entries) > self.size:
                entries.popitem(last=False)


_validated = _ValidatedCache(CERTIFICATE_CACHE_SIZE)


def validate_card_certificate(
    trust: TrustStore | None, certificate_der: bytes, at: datetime
) -> CardRef:
    """Validate the card's certificate (chain, validity at ``at``, usage); no CRL check."""
    if trust is None:
        raise CertificateRejectedError("no JPKI trust anchors are configured on the server")
    at = as_utc(at)
    cached = _validated.get(trust, certificate_der, at)
    if cached is not None:
        return cached
    try:
        certificate = parsed_certificate(certificate_der)
        ref = CardRef.of(validate_certificate(certificate, trust, at))
    except (ValueError, TypeError) as exc:
        raise CertificateRejectedError(f"unreadable certificate: {exc}") from exc
    except CardError as exc:
        raise CertificateRejectedError(exc.code) from exc
    _validated.put(trust, certificate_der, ref)
    return ref


def check_card(
    conn: Connection,
    trust: TrustStore | None,
    certificate_der: bytes,
    at: datetime,
) -> CardRef:
    """Validate the card's certificate (chain, validity at ``at``, usage, imported CRLs)."""
    ref = validate_card_certificate(trust, certificate_der, at)
    if is_revoked(conn, ref, at):
        raise CertificateRevokedError(f"serial {ref.serial}")
    return ref


@dataclass(frozen=True)
class CardHolder:
    """A checked card: its reference, and the MyKey ID bound to its fingerprint (with that
    ID's status) when there is one."""

    ref: CardRef
    mykey_id: str | None
    status: str | None


_CARD_STATE = RawStatement(
    "SELECT (SELECT 1 FROM revoked_certificates WHERE issuer = :issuer AND serial = :serial),"
    " (SELECT mykey_id FROM certificate_bindings WHERE fingerprint_sha256 = :fingerprint),"
    " (SELECT status FROM mykey_ids WHERE id = (SELECT mykey_id FROM certificate_bindings"
    " WHERE fingerprint_sha256 = :fingerprint))"
)


def card_state_query(certificate_der: bytes) -> tuple[RawStatement, dict[str, str]] | None:
    """The statement (and its parameters) that reads what :func:`check_card_holder` needs
    from the database, for running it early in one round trip with others; None when the
    certificate is unreadable."""
    try:
        ref = card_ref(certificate_der)
    except InvalidInputError:
        return None
    return _CARD_STATE, _card_state_params(ref)


def _card_state_params(ref: CardRef) -> dict[str, str]:
    return {"issuer": ref.issuer, "serial": ref.serial, "fingerprint": ref.fingerprint_sha256}


def check_card_holder(
    conn: Connection,
    trust: TrustStore | None,
    certificate_der: bytes,
    at: datetime,
    state: tuple[Any, ...] | None = None,
) -> CardHolder:
    """:func:`check_card` plus the MyKey ID bound to the certificate's fingerprint and its
    status, read fresh in one query (a renewed certificate not yet bound gives no ID here:
    :func:`resolve_card` follows the renewal links). ``state``: the row of
    :func:`card_state_query`, when it was already read in this database transaction."""
    ref = validate_card_certificate(trust, certificate_der, at)
    if state is None:
        state = _CARD_STATE.first(conn, _card_state_params(ref))
    listed, mykey_id, status = state or (None, None, None)
    if listed is not None and is_revoked(conn, ref, at):
        raise CertificateRevokedError(f"serial {ref.serial}")
    return CardHolder(
        ref, None if mykey_id is None else str(mykey_id), None if status is None else str(status)
    )


def check_card_signature(certificate_der: bytes, message: bytes, signature: bytes | None) -> None:
    """Raise CardSignatureError unless the card signed ``message``."""
    try:
        certificate: x509.Certificate | bytes = parsed_certificate(certificate_der)
    except ValueError:
        certificate = certificate_der
    if not signature or not verify_card_signature(certificate, message, signature):
        raise CardSignatureError("card signature does not verify")


def _binding(conn: Connection, issuer: str, serial: str) -> str | None:
    value = conn.execute(
        select(certificate_bindings.c.mykey_id).where(
            (certificate_bindings.c.issuer == issuer) & (certificate_bindings.c.serial == serial)
        )
    ).scalar_one_or_none()
    return None if value is None else str(value)


def resolve_card(conn: Connection, ref: CardRef, now: datetime) -> str | None:
    """The MyKey ID bound to the certificate; a renewed certificate whose predecessor (through
    imported renewal links) is bound resolves to the same ID and is bound on the way."""
    by_print = conn.execute(
        _BOUND_TO_PRINT, {"fingerprint": ref.fingerprint_sha256}
    ).scalar_one_or_none()
    if by_print is not None:
        return str(by_print)
    found = _binding(conn, ref.issuer, ref.serial)
    if found is not None:
        return found
    issuer, serial = ref.issuer, ref.serial
    for _ in range(MAX_RENEWAL_HOPS):
        link = conn.execute(
            select(renewal_links.c.old_issuer, renewal_links.c.old_serial).where(
                (renewal_links.c.new_issuer == issuer) & (renewal_links.c.new_serial == serial)
            )
        ).first()
        if link is None:
            return None
        issuer, serial = link.old_issuer, link.old_serial
        found = _binding(conn, issuer, serial)
        if found is not None:
            bind_certificate(conn, found, ref, now, renewed_from=(issuer, serial))
            return found
    return None


def bind_certificate(
    conn: Connection,
    mykey_id: str,
    ref: CardRef,
    now: datetime,
    *,
    renewed_from: tuple[str, str] | None = None,
) -> None:
    """Bind a certificate to a MyKey ID; it becomes the ID's one active certificate."""
    old_print = None
    if renewed_from is not None:
        old_print = conn.execute(
            select(certificate_bindings.c.fingerprint_sha256).where(
                (certificate_bindings.c.issuer == renewed_from[0])
                & (certificate_bindings.c.serial == renewed_from[1])
            )
        ).scalar_one_or_none()
    conn.execute(
        certificate_bindings.update()
        .where(certificate_bindings.c.mykey_id == mykey_id)
        .values(active=False)
    )
    conn.execute(
        insert(certificate_bindings).values(
            fingerprint_sha256=ref.fingerprint_sha256,
            issuer=ref.issuer,
            serial=ref.serial,
            mykey_id=mykey_id,
            active=True,
            renewed_from=old_print,
            bound_at=now,
        )
    )
    record_event(conn, EventKind.CARD, now, mykey_id=mykey_id)


def mykey_status(conn: Connection, mykey_id: str) -> str:
    """The status of a MyKey ID, or UnknownMyKeyIdError."""
    status = conn.execute(_MYKEY_STATUS, {"mykey_id": mykey_id}).scalar_one_or_none()
    if status is None:
        raise UnknownMyKeyIdError(mykey_id)
    return str(status)


def require_active(conn: Connection, mykey_id: str) -> None:
    """Raise unless the MyKey ID exists and is active."""
    if mykey_status(conn, mykey_id) != "active":
        raise MyKeyNotActiveError(mykey_id)


def validate_mykey_id(mykey_id: str) -> str:
    """The ID itself when it is 4–16 ASCII letters/digits, else InvalidMyKeyIdError."""
    if not MYKEY_ID_PATTERN.match(mykey_id):
        raise InvalidMyKeyIdError(repr(mykey_id))
    return mykey_id


def is_taken(conn: Connection, mykey_id: str) -> bool:
    """Whether the ID is in use, case-insensitively."""
    found = conn.execute(
        select(mykey_ids.c.id).where(mykey_ids.c.id_folded == mykey_id.casefold())
    ).first()
    return found is not None


def suggest_candidates(conn: Connection, wanted: str, count: int = 3) -> list[str]:
    """Free IDs close to ``wanted`` (its letters plus digits), for the resident to pick."""
    base = "".join(ch for ch in wanted if ch.isascii() and ch.isalnum())[:12] or "MYKEY"
    if len(base) < 4:
        base = (base + "KEY")[:12]
    result: list[str] = []
    attempts = 0
    while len(result) < count and attempts < 200:
        attempts += 1
        digits = 2 if attempts < 50 else 4
        candidate = f"{base}{secrets.randbelow(10**digits):0{digits}d}"[:16]
        if candidate.casefold() in {c.casefold() for c in result}:
            continue
        if not is_taken(conn, candidate):
            result.append(candidate)
    return result


def create_mykey_id(conn: Connection, mykey_id: str, ref: CardRef, now: datetime) -> str:
    """Create ``mykey_id`` bound to the card; MyKeyIdTakenError (with candidates) when taken,
    CardAlreadyBoundError when the card already has one."""
    validate_mykey_id(mykey_id)
    if resolve_card(conn, ref, now) is not None:
        raise CardAlreadyBoundError(ref.fingerprint_sha256)
    if is_taken(conn, mykey_id):
        raise MyKeyIdTakenError(mykey_id, suggest_candidates(conn, mykey_id))
    row = {"id": mykey_id, "id_folded": mykey_id.casefold(), "status": "active", "created_at": now}
    if not insert_ignore(conn, mykey_ids, row):  # taken meanwhile by a concurrent set-up
        raise MyKeyIdTakenError(mykey_id, suggest_candidates(conn, mykey_id))
    bind_certificate(conn, mykey_id, ref, now)
    log.info("MyKey ID %s created", mykey_id)
    return mykey_id


def set_mykey_status(conn: Connection, mykey_id: str, status: str, now: datetime) -> None:
    """Set a MyKey ID active, invalid or suspended."""
    if status not in ("active", "invalid", "suspended"):
        raise InvalidInputError(f"status {status!r}")
    mykey_status(conn, mykey_id)
    conn.execute(mykey_ids.update().where(mykey_ids.c.id == mykey_id).values(status=status))
    record_event(conn, EventKind.CARD, now, mykey_id=mykey_id)


def add_renewal_link(conn: Connection, old: CardRef, new: CardRef, now: datetime) -> None:
    """Record that ``new`` renews ``old`` (the same person); binds ``new`` at once when ``old``
    is bound."""
    exists = conn.execute(
        select(renewal_links.c.old_serial).where(
            (renewal_links.c.new_issuer == new.issuer) & (renewal_links.c.new_serial == new.serial)
        )
    ).first()
    if exists is not None:
        if (exists.old_serial) != old.serial:
            raise AlreadyExistsError(f"certificate {new.serial} already renews another")
        return
    conn.execute(
        insert(renewal_links).values(
            new_issuer=new.issuer,
            new_serial=new.serial,
            old_issuer=old.issuer,
            old_serial=old.serial,
            new_fingerprint_sha256=new.fingerprint_sha256,
            imported_at=now,
        )
    )
    resolve_card(conn, new, now)
