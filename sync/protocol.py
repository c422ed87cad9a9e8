"""The wire contract between terminals and the ledger server: one source of truth for both.

Everything a terminal sends or receives is a pydantic model here. A transaction's digest (what
the card signs) is defined once, by :func:`canonical_bytes` and :func:`transaction_digest`, and
both sides call these functions. Points are integers; dates are JST calendar dates.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_BATCH = 500
MAX_POINTS = 10_000_000
#: Upper bound of database ids on the wire (a 32-bit integer column).
MAX_ID = 2**31 - 1
#: The signature label terminals use for RFC 9421 request signatures.
SIGNATURE_LABEL = "mykey"
#: Components every signed terminal request covers (plus ``created``, ``keyid``, ``nonce``).
COVERED_COMPONENTS = ("@method", "@path", "@query", "content-digest")

MYKEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9]{4,16}$")
VOUCHER_NUMBER_PATTERN = re.compile(r"^[0-9]{13}$")
#: Free text: anything but U+0000, which PostgreSQL cannot store (refused on SQLite too).
NO_NUL_TEXT = r"^[^\x00]*$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _b64decode(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise ValueError("not valid base64") from exc


def b64encode(data: bytes) -> str:
    """Standard base64 text of ``data`` (how bytes travel on the wire)."""
    return base64.b64encode(data).decode("ascii")


def is_uuid7(value: uuid.UUID) -> bool:
    """True for an RFC 9562 version 7 UUID."""
    return value.version == 7 and value.variant == uuid.RFC_4122


def uuid7(at: datetime | None = None) -> uuid.UUID:
    """A new UUIDv7 (48-bit Unix milliseconds, then random bits)."""
    moment = at or datetime.now(UTC)
    millis = int(moment.timestamp() * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(uuid.uuid4().bytes, "big") & ((1 << 74) - 1)
    rand_a = rand >> 62
    rand_b = rand & ((1 << 62) - 1)
    value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return uuid.UUID(int=value)


def voucher_check_digit(first12: str) -> str:
    """The EAN-13 check digit for a 12-digit string."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def is_valid_voucher_number(number: str) -> bool:
    """13 digits whose last digit is the EAN-13 check digit of the first twelve."""
    return (
        bool(VOUCHER_NUMBER_PATTERN.match(number))
        and voucher_check_digit(number[:12]) == number[12]
    )


def municipality_check_digit(first5: str) -> str:
    """Check digit of a 5-digit local government code (weights 6,5,4,3,2; mod 11)."""
    remainder = sum(int(d) * w for d, w in zip(first5, (6, 5, 4, 3, 2), strict=True)) % 11
    return str((11 - remainder) % 10)


def is_valid_municipality_code(code: str) -> bool:
    """Six ASCII digits whose last digit is the check digit (Kawasaki 141305, Toshima 131164)."""
    return (
        len(code) == 6
        and code.isascii()
        and code.isdigit()
        and municipality_check_digit(code[:5]) == code[5]
    )


# --- enums -------------------------------------------------------------------------------


class TransactionKind(StrEnum):
    """What a terminal transaction does."""

    POINT_USE = "point_use"
    VOUCHER_ISSUE = "voucher_issue"
    VOUCHER_REDEEM = "voucher_redeem"
    GRANT = "grant"
    SERVICE_ID_LINK = "service_id_link"
    MYKEY_SETUP = "mykey_setup"


#: Kinds that need the card's signature over the transaction digest (PIN entered).
CARD_SIGNED_KINDS = frozenset(
    {
        TransactionKind.POINT_USE,
        TransactionKind.VOUCHER_ISSUE,
        TransactionKind.SERVICE_ID_LINK,
        TransactionKind.MYKEY_SETUP,
    }
)


class Role(StrEnum):
    """What an enrolled terminal may do (DOMAIN.md §2)."""

    SHOP = "shop"
    OFFICE = "office"
    LIBRARY = "library"
    MUNICIPAL = "municipal"


#: Which roles may send which transaction kind.
KIND_ROLES: dict[TransactionKind, frozenset[Role]] = {
    TransactionKind.POINT_USE: frozenset({Role.SHOP, Role.OFFICE}),
    TransactionKind.VOUCHER_ISSUE: frozenset({Role.OFFICE}),
    TransactionKind.VOUCHER_REDEEM: frozenset({Role.SHOP, Role.OFFICE}),
    TransactionKind.GRANT: frozenset({Role.MUNICIPAL}),
    TransactionKind.SERVICE_ID_LINK: frozenset({Role.OFFICE, Role.LIBRARY, Role.SHOP}),
    TransactionKind.MYKEY_SETUP: frozenset({Role.OFFICE}),
}


class ResultStatus(StrEnum):
    """The outcome of one pushed transaction."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    ACCEPTED_OFFLINE = "accepted_offline"
    REJECTED = "rejected"
    CONFLICT = "conflict"


# --- shared pieces -------------------------------------------------------------------------


class CertificateRefModel(_Model):
    """A card certificate's reference: issuer DN (RFC 4514), serial (decimal), SHA-256."""

    issuer: str = Field(min_length=1, max_length=500)
    serial: str = Field(pattern=r"^[0-9]{1,60}$")
    fingerprint_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class CardAuthorisation(_Model):
    """The card's certificate (DER, base64) and, for card-signed kinds, its signature
    (RSA PKCS#1 v1.5 SHA-256 over :func:`transaction_digest`, base64)."""

    certificate: str = Field(min_length=4, max_length=8000)
    signature: str | None = Field(default=None, max_length=2000)

    @field_validator("certificate", "signature")
    @classmethod
    def _base64(cls, value: str | None) -> str | None:
        if value is not None:
            _b64decode(value)
        return value

    def certificate_der(self) -> bytes:
        """The certificate bytes."""
        return _b64decode(self.certificate)

    def signature_bytes(self) -> bytes | None:
        """The signature bytes, if any."""
        return None if self.signature is None else _b64decode(self.signature)


Points = Annotated[int, Field(ge=1, le=MAX_POINTS)]
MyKeyIdText = Annotated[str, Field(min_length=1, max_length=16)]


class PointUse(_Model):
    """Spend points of one program at this business."""

    kind: Literal["point_use"] = "point_use"
    program_id: int = Field(ge=1, le=MAX_ID)
    points: Points


class VoucherSpec(_Model):
    """One printed voucher: its 13-digit number (EAN-13 check digit) and points."""

    number: str = Field(pattern=r"^[0-9]{13}$")
    points: Points

    @field_validator("number")
    @classmethod
    def _check_digit(cls, value: str) -> str:
        if not is_valid_voucher_number(value):
            raise ValueError("voucher number check digit is wrong")
        return value


class VoucherIssue(_Model):
    """Reserve points into vouchers valid from ``valid_from`` to ``valid_until`` (JST)."""

    kind: Literal["voucher_issue"] = "voucher_issue"
    program_id: int = Field(ge=1, le=MAX_ID)
    vouchers: list[VoucherSpec] = Field(min_length=1, max_length=50)
    valid_from: date
    valid_until: date


class VoucherRedeem(_Model):
    """Redeem (消込) one voucher at this business."""

    kind: Literal["voucher_redeem"] = "voucher_redeem"
    number: str = Field(pattern=r"^[0-9]{13}$")


class Grant(_Model):
    """Grant points under a grant program to the card's MyKey ID (default points if None).

    With ``event`` (an attendance tap at an event), a card is granted at most once per event.
    """

    kind: Literal["grant"] = "grant"
    grant_program_id: int = Field(ge=1, le=MAX_ID)
    points: Points | None = None
    event: str | None = Field(default=None, min_length=1, max_length=64, pattern=NO_NUL_TEXT)


class ServiceIdLink(_Model):
    """Link this business's customer ID (member / patron number) to the card's MyKey ID."""

    kind: Literal["service_id_link"] = "service_id_link"
    customer_id: str = Field(min_length=1, max_length=32, pattern=NO_NUL_TEXT)


class MyKeySetup(_Model):
    """Create a MyKey ID bound to the card, answering a server challenge."""

    kind: Literal["mykey_setup"] = "mykey_setup"
    mykey_id: MyKeyIdText
    challenge: str = Field(min_length=16, max_length=64)


Payload = Annotated[
    PointUse | VoucherIssue | VoucherRedeem | Grant | ServiceIdLink | MyKeySetup,
    Field(discriminator="kind"),
]


class Transaction(_Model):
    """One terminal transaction; ``id`` (UUIDv7, made by the terminal) is the idempotency key."""

    id: uuid.UUID
    terminal_id: str = Field(min_length=1, max_length=40)
    business_id: str = Field(min_length=1, max_length=16)
    terminal_time: datetime
    offline: bool = False
    payload: Payload
    card: CardAuthorisation | None = None

    @field_validator("id")
    @classmethod
    def _uuid7(cls, value: uuid.UUID) -> uuid.UUID:
        if not is_uuid7(value):
            raise ValueError("transaction id must be a UUIDv7")
        return value

    @field_validator("terminal_time")
    @classmethod
    def _aware_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("terminal_time must carry a time zone")
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("terminal_time is out of range") from exc

    @property
    def kind(self) -> TransactionKind:
        """The payload's kind."""
        return TransactionKind(self.payload.kind)


def canonical_bytes(transaction: Transaction) -> bytes:
    """The canonical serialisation of what the card holder agreed to: the whole transaction
    except the card's signature and the ``offline`` flag.

    Sorted-key, compact JSON (UTF-8). The certificate stays in, so the signature also binds
    which card was used. ``offline`` is the terminal's claim about how it decided, not part of
    the holder's agreement: a transaction signed for online authorisation whose answer never
    came is queued with ``offline`` set, keeps its digest and ID, and so is still deduplicated
    against the first attempt (a lost acknowledgement never applies it twice).
    """
    data: dict[str, Any] = transaction.model_dump(mode="json", exclude={"offline"})
    if data.get("card") is not None:
        data["card"] = {"certificate": data["card"]["certificate"]}
    return _canonical_json(data)


def _canonical_json(data: dict[str, Any]) -> bytes:
    """Sorted-key, compact JSON in UTF-8: the one form of anything signed."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def transaction_digest(transaction: Transaction) -> bytes:
    """SHA-256 of :func:`canonical_bytes`: the message the card signs (PKCS#1 v1.5 SHA-256)."""
    return hashlib.sha256(canonical_bytes(transaction)).digest()


# --- requests and responses -----------------------------------------------------------------


class EnrollRequest(_Model):
    """A terminal enrolling with an operator-made one-time code."""

    code: str = Field(min_length=8, max_length=64)
    public_key: str = Field(description="Ed25519 public key, raw 32 bytes, base64")
    voucher_public_key: str | None = Field(
        default=None, description="Ed25519 voucher-signing public key, raw 32 bytes, base64"
    )
    name: str = Field(default="", max_length=100, pattern=NO_NUL_TEXT)

    @field_validator("public_key", "voucher_public_key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is not None and len(_b64decode(value)) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        return value


class EnrollResponse(_Model):
    """The enrolled terminal's identity."""

    terminal_id: str
    business_id: str
    street_id: str | None
    roles: list[Role]
    server_public_key: str = Field(
        description="the server's Ed25519 key (raw, base64) that signs revocation snapshots"
    )
    voucher_prefix: int | None = Field(
        default=None,
        ge=100_000,
        le=999_999,
        description="the 6 digits that start this terminal's voucher numbers",
    )
    trust_anchors: list[str] = Field(
        default_factory=list,
        description="the JPKI CA certificates (PEM) the server trusts for card certificates",
    )


class PushRequest(_Model):
    """A batch of up to 500 transactions, in the terminal's order."""

    transactions: list[Transaction] = Field(min_length=1, max_length=MAX_BATCH)


class VoucherConflictSide(_Model):
    """One redemption of a voucher that was redeemed twice."""

    transaction_id: str
    business_id: str
    terminal_time: datetime | None


class VoucherConflict(_Model):
    """A voucher redeemed by two shops offline: both sides named."""

    voucher_number: str
    first: VoucherConflictSide
    second: VoucherConflictSide


class TransactionResult(_Model):
    """The server's answer for one transaction (replayed unchanged on a duplicate)."""

    id: uuid.UUID
    status: ResultStatus
    original_status: ResultStatus | None = None
    reason: str | None = None
    message_ja: str | None = None
    message_en: str | None = None
    mykey_id: str | None = None
    program_id: int | None = None
    balance: int | None = None
    overdraft: int = 0
    candidates: list[str] = Field(default_factory=list)
    conflict: VoucherConflict | None = None
    server_time: datetime


class PushResponse(_Model):
    """One result per pushed transaction, same order."""

    results: list[TransactionResult]


class LookupRequest(_Model):
    """Which card: its certificate (DER, base64) or its reference."""

    certificate: str | None = Field(default=None, max_length=8000)
    certificate_ref: CertificateRefModel | None = None

    @field_validator("certificate")
    @classmethod
    def _base64(cls, value: str | None) -> str | None:
        if value is not None:
            _b64decode(value)
        return value

    def certificate_der(self) -> bytes | None:
        """The certificate bytes, if given."""
        return None if self.certificate is None else _b64decode(self.certificate)


class Lot(_Model):
    """Part of a balance with one expiry date (JST)."""

    expires_on: date
    points: int


class Balance(_Model):
    """A balance usable at the caller's business."""

    program_id: int
    program_name: str
    points: int
    overdraft: int
    nearest_expiry: date | None
    lots: list[Lot]


class LookupResponse(_Model):
    """What the counter shows for a card."""

    mykey_id: str | None
    status: Literal["active", "invalid", "suspended", "unregistered"]
    balances: list[Balance]
    customer_id: str | None
    revoked: bool = False


class ChallengeResponse(_Model):
    """A one-time server challenge for a MyKey ID set-up."""

    challenge: str
    expires_at: datetime


class AvailabilityResponse(_Model):
    """Whether a MyKey ID can be created; candidates when it cannot."""

    mykey_id: str
    available: bool
    reason: str | None = None
    candidates: list[str]


class CardLink(_Model):
    """A cached card: certificate -> MyKey ID with its balances at this business."""

    fingerprint_sha256: str
    issuer: str
    serial: str
    mykey_id: str


class CardState(_Model):
    """A card seen at this business: its status, balances and certificate links."""

    mykey_id: str
    status: str
    balances: list[Balance]
    certificates: list[CardLink]


class ServiceIdEntry(_Model):
    """A member / patron number of this business."""

    mykey_id: str
    customer_id: str


class RevokedEntry(_Model):
    """One revoked certificate."""

    issuer: str
    serial: str


class RevocationSnapshot(_Model):
    """The revoked certificates, signed by the server (Ed25519 over :func:`snapshot_bytes`)."""

    generated_at: datetime
    data_as_of: datetime | None
    entries: list[RevokedEntry]
    server_key_id: str
    signature: str


class RevocationInfo(_Model):
    """The snapshot plus its age in seconds when sent (since the newest imported CRL)."""

    snapshot: RevocationSnapshot
    age_seconds: int | None


class VoucherKey(_Model):
    """A street office terminal's voucher-signing Ed25519 public key (raw, base64)."""

    terminal_id: str
    business_id: str
    public_key: str


class Redemption(_Model):
    """A voucher already redeemed in the street."""

    voucher_number: str
    business_id: str
    redeemed_at: datetime


class OfflineLimits(_Model):
    """Offline acceptance limits of a point program (DOMAIN.md §6)."""

    max_per_transaction: int
    max_per_card_per_day: int
    max_per_terminal_since_sync: int
    max_hours_without_sync: int
    max_revocation_age_hours: int


class ProgramSettings(_Model):
    """A point program usable at this business."""

    program_id: int
    municipality_code: str
    name: str
    kind: Literal["municipal", "special_event"]
    lot_validity_days: int
    voucher_validity_days: int
    voucher_max_points: int
    offline: OfflineLimits


class GrantProgramInfo(_Model):
    """A grant program (付与事業) of this business's municipality, for the grant desk."""

    grant_program_id: int
    program_id: int
    name: str
    department: str
    default_points: int
    category: Literal["ordinary", "premium"]


class BusinessInfo(_Model):
    """This terminal's business and its shopping street, by name (for screens and vouchers)."""

    business_id: str
    name: str
    kind: str
    municipality_code: str
    street_id: str | None
    street_name: str | None


class PullResponse(_Model):
    """Deltas since the terminal's cursor; pass ``cursor`` back next time."""

    cursor: str
    server_time: datetime
    cards: list[CardState]
    service_ids: list[ServiceIdEntry]
    revocation: RevocationInfo
    voucher_keys: list[VoucherKey]
    redemptions: list[Redemption]
    programs: list[ProgramSettings]
    grant_programs: list[GrantProgramInfo] = Field(default_factory=list)
    business: BusinessInfo | None = None


def snapshot_bytes(snapshot: RevocationSnapshot) -> bytes:
    """What the server signs in a revocation snapshot (everything but the signature)."""
    return _canonical_json(snapshot.model_dump(mode="json", exclude={"signature"}))


# --- failures, as both ends classify them --------------------------------------------------


class LedgerError(Exception):
    """A ledger request did not succeed."""


class LedgerUnreachableError(LedgerError):
    """No answer from the server (connection refused or reset, timeout, 5xx, garbage): the
    request may or may not have been applied; idempotent requests are safe to resend."""


class LedgerRefusedError(LedgerError):
    """The server answered with a problem document; ``code`` is its stable machine code.

    A refusal is final for that request: resending it unchanged gets the same answer.
    """

    def __init__(self, status: int, code: str, title_ja: str, title_en: str) -> None:
        super().__init__(f"{status} {code}: {title_en}")
        self.status, self.code, self.title_ja, self.title_en = status, code, title_ja, title_en


class Problem(BaseModel):
    """An RFC 9457 problem document with a stable machine ``code`` and Japanese/English text."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    code: str
    title_ja: str
    title_en: str
    detail_ja: str | None = None
    detail_en: str | None = None
