"""Operator actions as library functions: each takes a SQLAlchemy ``Connection`` (inside the
caller's transaction) and plain values, and raises ``server_stub.errors`` types.

The admin CLI, CSV imports and the admin API call these; none of them repeats ledger logic.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cryptography import x509
from sqlalchemy import Connection, insert, select, update

from cardio.auth import TrustStore
from server_stub import cards, ledger
from server_stub.catalog import get_business, get_grant_program, get_program
from server_stub.clock import as_utc, utc_now
from server_stub.db.schema import (
    businesses,
    crl_imports,
    enrollment_codes,
    grant_programs,
    municipalities,
    point_programs,
    program_businesses,
    revoked_certificates,
    service_ids,
    terminals,
)
from server_stub.db.upsert import insert_ignore
from server_stub.errors import (
    AlreadyExistsError,
    InvalidInputError,
    InvalidMunicipalityCodeError,
    UnknownMunicipalityError,
    UnknownTerminalError,
    UntrustedCrlError,
)
from server_stub.events import EventKind, record_event
from sync.protocol import Role, is_valid_municipality_code

log = logging.getLogger(__name__)

ENROLLMENT_CODE_TTL = timedelta(hours=24)
BUSINESS_KINDS = ("shop", "street", "library", "facility", "department")


@dataclass(frozen=True)
class OfflineDefaults:
    """DOMAIN.md §6 default offline limits of a point program."""

    max_per_transaction: int = 3_000
    max_per_card_per_day: int = 5_000
    max_per_terminal_since_sync: int = 50_000
    max_hours_without_sync: int = 72
    max_revocation_age_hours: int = 48


def _now(now: datetime | None) -> datetime:
    return utc_now() if now is None else as_utc(now)


def hash_enrollment_code(code: str) -> str:
    """How an enrollment code is stored: SHA-256 hex (the code itself is never stored)."""
    return hashlib.sha256(code.strip().encode("utf-8")).hexdigest()


def create_municipality(
    conn: Connection, code: str, name: str, *, now: datetime | None = None
) -> str:
    """Register a municipality by its 6-digit code (check digit validated)."""
    if not is_valid_municipality_code(code):
        raise InvalidMunicipalityCodeError(repr(code))
    if not name.strip():
        raise InvalidInputError("municipality name is empty")
    row = {"code": code, "name": name.strip(), "created_at": _now(now)}
    if not insert_ignore(conn, municipalities, row):
        raise AlreadyExistsError(f"municipality {code}")
    return code


def _require_municipality(conn: Connection, code: str) -> None:
    found = conn.execute(select(municipalities.c.code).where(municipalities.c.code == code)).first()
    if found is None:
        raise UnknownMunicipalityError(code)


def create_point_program(
    conn: Connection,
    municipality_code: str,
    name: str,
    *,
    kind: str = "municipal",
    lot_validity_days: int = 100,
    voucher_validity_days: int = 3,
    voucher_max_points: int = 10_000,
    offline: OfflineDefaults | None = None,
    accepted_business_ids: Sequence[str] = (),
    now: datetime | None = None,
) -> int:
    """Create a point program; a special support event names the businesses accepting it."""
    _require_municipality(conn, municipality_code)
    if kind not in ("municipal", "special_event"):
        raise InvalidInputError(f"program kind {kind!r}")
    if lot_validity_days < 1 or voucher_validity_days < 1 or voucher_max_points < 1:
        raise InvalidInputError("validity days and voucher maximum must be positive")
    limits = offline or OfflineDefaults()
    program_id = int(
        conn.execute(
            insert(point_programs)
            .values(
                municipality_code=municipality_code,
                name=name,
                kind=kind,
                lot_validity_days=lot_validity_days,
                voucher_validity_days=voucher_validity_days,
                voucher_max_points=voucher_max_points,
                offline_max_per_transaction=limits.max_per_transaction,
                offline_max_per_card_per_day=limits.max_per_card_per_day,
                offline_max_per_terminal_since_sync=limits.max_per_terminal_since_sync,
                offline_max_hours_without_sync=limits.max_hours_without_sync,
                offline_max_revocation_age_hours=limits.max_revocation_age_hours,
                created_at=_now(now),
            )
            .returning(point_programs.c.id)
        ).scalar_one()
    )
    for business_id in accepted_business_ids:
        accept_program_at(conn, program_id, business_id)
    return program_id


def accept_program_at(conn: Connection, program_id: int, business_id: str) -> None:
    """Name a business (or a whole street) as accepting a special support event's points."""
    get_program(conn, program_id)
    get_business(conn, business_id)
    insert_ignore(conn, program_businesses, {"program_id": program_id, "business_id": business_id})


def create_grant_program(
    conn: Connection,
    program_id: int,
    name: str,
    department: str,
    default_points: int,
    *,
    category: str = "ordinary",
    now: datetime | None = None,
) -> int:
    """Create a grant program (付与事業) under a point program."""
    get_program(conn, program_id)
    if category not in ("ordinary", "premium"):
        raise InvalidInputError(f"category {category!r}")
    if default_points < 1:
        raise InvalidInputError("default points must be positive")
    return int(
        conn.execute(
            insert(grant_programs)
            .values(
                program_id=program_id,
                name=name,
                department=department,
                default_points=default_points,
                category=category,
                created_at=_now(now),
            )
            .returning(grant_programs.c.id)
        ).scalar_one()
    )


def create_business(
    conn: Connection,
    business_id: str,
    municipality_code: str,
    name: str,
    kind: str,
    *,
    street_id: str | None = None,
    now: datetime | None = None,
) -> str:
    """Register a business; a shop may belong to a shopping street (a business of kind street)."""
    if not (1 <= len(business_id) <= 16 and business_id.isascii() and business_id.isalnum()):
        raise InvalidInputError(f"business id {business_id!r}")
    if kind not in BUSINESS_KINDS:
        raise InvalidInputError(f"business kind {kind!r}")
    _require_municipality(conn, municipality_code)
    if street_id is not None:
        street = get_business(conn, street_id)
        if street.kind != "street":
            raise InvalidInputError(f"{street_id} is not a shopping street")
    row = {
        "id": business_id,
        "municipality_code": municipality_code,
        "name": name,
        "kind": kind,
        "street_id": street_id,
        "created_at": _now(now),
    }
    if not insert_ignore(conn, businesses, row):
        raise AlreadyExistsError(f"business {business_id}")
    return business_id


def parse_roles(roles: Iterable[str]) -> list[Role]:
    """Validated, de-duplicated roles."""
    result: list[Role] = []
    for role in roles:
        try:
            value = Role(role.strip())
        except ValueError as exc:
            raise InvalidInputError(f"role {role!r}") from exc
        if value not in result:
            result.append(value)
    if not result:
        raise InvalidInputError("a terminal needs at least one role")
    return result


@dataclass(frozen=True)
class EnrollmentCode:
    """A one-time enrollment code (shown once; only its hash is stored)."""

    code: str
    business_id: str
    roles: list[Role]
    expires_at: datetime


def create_enrollment_code(
    conn: Connection, business_id: str, roles: Iterable[str], *, now: datetime | None = None
) -> EnrollmentCode:
    """Make a one-time code that enrolls one terminal for ``business_id`` with ``roles``."""
    get_business(conn, business_id)
    parsed = parse_roles(roles)
    moment = _now(now)
    # never starting with "-": typed after `--code`, that would read as an option
    code = "-"
    while code.startswith("-"):
        code = secrets.token_urlsafe(12)
    expires = moment + ENROLLMENT_CODE_TTL
    conn.execute(
        insert(enrollment_codes).values(
            code_hash=hash_enrollment_code(code),
            business_id=business_id,
            roles=",".join(r.value for r in parsed),
            created_at=moment,
            expires_at=expires,
        )
    )
    return EnrollmentCode(code, business_id, parsed, expires)


def revoke_terminal(conn: Connection, terminal_id: str, *, now: datetime | None = None) -> None:
    """Revoke a terminal's enrollment: all its later requests are refused."""
    result = conn.execute(
        update(terminals)
        .where(terminals.c.id == terminal_id)
        .values(status="revoked", revoked_at=_now(now))
    )
    if result.rowcount == 0:
        raise UnknownTerminalError(terminal_id)
    log.warning("terminal %s revoked", terminal_id)


def grant_points(
    conn: Connection,
    grant_program_id: int,
    mykey_id: str,
    points: int | None = None,
    *,
    reference: str | None = None,
    now: datetime | None = None,
) -> ledger.Movement:
    """Grant points (default: the grant program's default points) to a MyKey ID."""
    grant_program = get_grant_program(conn, grant_program_id)
    cards.mykey_status(conn, mykey_id)
    amount = grant_program.default_points if points is None else points
    if amount < 1:
        raise InvalidInputError("grant points must be positive")
    program = get_program(conn, grant_program.program_id)
    return ledger.grant(
        conn,
        program,
        mykey_id,
        amount,
        _now(now),
        grant_program_id=grant_program_id,
        reference=reference,
    )


def link_service_id(
    conn: Connection,
    mykey_id: str,
    business_id: str,
    customer_id: str,
    *,
    now: datetime | None = None,
) -> None:
    """Link (or re-link) a business's customer ID to a MyKey ID."""
    customer_id = customer_id.strip()
    if not 1 <= len(customer_id) <= 32:
        raise InvalidInputError("a customer ID is 1 to 32 characters")
    cards.mykey_status(conn, mykey_id)
    get_business(conn, business_id)
    moment = _now(now)
    row = {
        "mykey_id": mykey_id,
        "business_id": business_id,
        "customer_id": customer_id,
        "linked_at": moment,
    }
    if not insert_ignore(conn, service_ids, row):
        conn.execute(
            update(service_ids)
            .where(
                (service_ids.c.mykey_id == mykey_id) & (service_ids.c.business_id == business_id)
            )
            .values(customer_id=customer_id, linked_at=moment)
        )
    record_event(conn, EventKind.SERVICE_ID, moment, mykey_id=mykey_id, business_id=business_id)


def create_mykey_id(
    conn: Connection,
    mykey_id: str,
    certificate: x509.Certificate | bytes,
    *,
    now: datetime | None = None,
) -> str:
    """Create a MyKey ID bound to a certificate (operator path; terminals use the card flow)."""
    return cards.create_mykey_id(
        conn, mykey_id, cards.CardRef.of_certificate(certificate), _now(now)
    )


def set_mykey_status(
    conn: Connection, mykey_id: str, status: str, *, now: datetime | None = None
) -> None:
    """Mark a MyKey ID active, invalid or suspended."""
    cards.set_mykey_status(conn, mykey_id, status, _now(now))


@dataclass(frozen=True)
class CrlImport:
    """What a CRL import stored."""

    issuer: str
    this_update: datetime
    next_update: datetime | None
    entries: int


def import_crl(
    conn: Connection, crl_data: bytes, trust: TrustStore, *, now: datetime | None = None
) -> CrlImport:
    """Import a CRL (DER or PEM) signed by a trusted CA: its revoked serials join the
    revocation snapshot. An unsigned or foreign CRL is refused whole."""
    try:
        if b"-----BEGIN" in crl_data:
            crl = x509.load_pem_x509_crl(crl_data)
        else:
            crl = x509.load_der_x509_crl(crl_data)
    except ValueError as exc:
        raise InvalidInputError("not a CRL (DER or PEM)") from exc
    if trust.issuer_of_crl(crl) is None:
        raise UntrustedCrlError(crl.issuer.rfc4514_string())
    moment = _now(now)
    issuer = crl.issuer.rfc4514_string()
    count = 0
    for entry in crl:
        serial = str(entry.serial_number)
        exists = conn.execute(
            select(revoked_certificates.c.serial).where(
                (revoked_certificates.c.issuer == issuer)
                & (revoked_certificates.c.serial == serial)
            )
        ).first()
        if exists is None:
            conn.execute(
                insert(revoked_certificates).values(
                    issuer=issuer,
                    serial=serial,
                    revoked_at=entry.revocation_date_utc,
                    imported_at=moment,
                )
            )
        count += 1
    result = CrlImport(issuer, crl.last_update_utc, crl.next_update_utc, count)
    conn.execute(
        insert(crl_imports).values(
            issuer=issuer,
            this_update=result.this_update,
            next_update=result.next_update,
            entries=count,
            imported_at=moment,
        )
    )
    return result


def import_renewal_link(
    conn: Connection,
    old: x509.Certificate | bytes | cards.CardRef,
    new: x509.Certificate | bytes | cards.CardRef,
    *,
    now: datetime | None = None,
) -> None:
    """Record that the ``new`` certificate renews ``old``: it resolves to the same MyKey ID."""
    old_ref = old if isinstance(old, cards.CardRef) else cards.CardRef.of_certificate(old)
    new_ref = new if isinstance(new, cards.CardRef) else cards.CardRef.of_certificate(new)
    cards.add_renewal_link(conn, old_ref, new_ref, _now(now))


def run_expiry(
    conn: Connection, as_of: date, *, now: datetime | None = None
) -> ledger.ExpiryReport:
    """Expire lots and void vouchers that ended before ``as_of`` (JST date). Idempotent."""
    return ledger.run_expiry(conn, as_of, _now(now))
