"""The QR payload of a voucher: ``PV1:`` + Base45(body + Ed25519 signature over body).

Body (big-endian, 21 bytes + two short ASCII texts):

======  =====================================================================
bytes   field
======  =====================================================================
1       format version (1)
6       voucher number as an integer (13 digits, check digit included)
4       point program ID
4       points
2       first valid day, days since 2020-01-01 (JST calendar date)
2       last valid day, same unit
1 + n   issuing terminal ID (ASCII)
1 + n   issuing shopping street's business ID (ASCII; empty when not stated)
======  =====================================================================

A typical voucher is 107 bytes, 165 characters: QR version 7 at level M in alphanumeric mode.
:data:`MAX_BODY_BYTES` keeps every payload within version 7-M (178 characters).
:func:`decode_payload` never raises anything but :class:`VoucherFormatError`; it checks the
shape only. Whether the signature is right and the voucher usable is :mod:`verify`'s job.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import date, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.protocol import MAX_ID, MAX_POINTS, is_valid_voucher_number
from terminal.vouchers import base45
from terminal.vouchers.errors import VoucherFormatError

PAYLOAD_PREFIX = "PV1:"
FORMAT_VERSION = 1
EPOCH = date(2020, 1, 1)
SIGNATURE_BYTES = 64
_FIXED = struct.Struct(">B6sIIHH")
#: 178 alphanumeric characters fit QR 7-M: 4 for the prefix, 174 of Base45 = 116 bytes
MAX_BODY_BYTES = 116 - SIGNATURE_BYTES
_MAX_DAYS = 0xFFFF


@dataclass(frozen=True)
class VoucherData:
    """What a voucher says: number, program, points, JST validity dates and who issued it."""

    number: str
    program_id: int
    points: int
    valid_from: date
    valid_until: date
    issuer_terminal_id: str
    #: the issuing office's shopping street (business ID); "" when not stated
    issuer_street_id: str = ""


@dataclass(frozen=True)
class SignedVoucher:
    """A decoded payload: the data, the exact signed bytes and the signature (not yet checked)."""

    data: VoucherData
    body: bytes
    signature: bytes


def _days(day: date) -> int:
    days = (day - EPOCH).days
    if not 0 <= days <= _MAX_DAYS:
        raise ValueError(f"{day} is outside the payload's date range")
    return days


def _short_text(text: str, what: str) -> bytes:
    raw = text.encode("ascii")
    if not all(0x21 <= b <= 0x7E for b in raw) or len(raw) > 255:
        raise ValueError(f"{what} must be printable ASCII without spaces")
    return bytes([len(raw)]) + raw


def encode_body(data: VoucherData) -> bytes:
    """The body bytes of ``data`` (what the issuer signs); ValueError when it cannot be encoded."""
    if not is_valid_voucher_number(data.number):
        raise ValueError(f"{data.number!r} is not a valid voucher number")
    if not 1 <= data.program_id <= MAX_ID or not 1 <= data.points <= MAX_POINTS:
        raise ValueError("program ID or points out of range")
    if data.valid_until < data.valid_from:
        raise ValueError("the validity ends before it starts")
    if not data.issuer_terminal_id:
        raise ValueError("the issuing terminal ID is empty")
    body = (
        _FIXED.pack(
            FORMAT_VERSION,
            int(data.number).to_bytes(6, "big"),
            data.program_id,
            data.points,
            _days(data.valid_from),
            _days(data.valid_until),
        )
        + _short_text(data.issuer_terminal_id, "terminal ID")
        + _short_text(data.issuer_street_id, "street ID")
    )
    if len(body) > MAX_BODY_BYTES:
        raise ValueError(f"body of {len(body)} bytes would not fit QR version 7-M")
    return body


def encode_payload(data: VoucherData, key: Ed25519PrivateKey) -> str:
    """The QR text of ``data`` signed with the issuing terminal's voucher ``key``."""
    body = encode_body(data)
    return PAYLOAD_PREFIX + base45.encode(body + key.sign(body))


def _take_text(body: bytes, offset: int) -> tuple[str, int]:
    if offset >= len(body):
        raise VoucherFormatError("body ends before a text field")
    size = body[offset]
    raw = body[offset + 1 : offset + 1 + size]
    if len(raw) != size or not all(0x21 <= b <= 0x7E for b in raw):
        raise VoucherFormatError("a text field is cut short or not printable ASCII")
    return raw.decode("ascii"), offset + 1 + size


def parse_body(body: bytes) -> VoucherData:
    """The data of body bytes; :class:`VoucherFormatError` on any deviation."""
    if len(body) < _FIXED.size + 2 or len(body) > MAX_BODY_BYTES:
        raise VoucherFormatError(f"body of {len(body)} bytes")
    version, raw_number, program_id, points, first, last = _FIXED.unpack_from(body)
    if version != FORMAT_VERSION:
        raise VoucherFormatError(f"format version {version}")
    number = f"{int.from_bytes(raw_number, 'big'):013d}"
    if not is_valid_voucher_number(number):
        raise VoucherFormatError("the number is not 13 digits with a right check digit")
    if not 1 <= program_id <= MAX_ID or not 1 <= points <= MAX_POINTS or last < first:
        raise VoucherFormatError("program, points or dates out of range")
    terminal_id, offset = _take_text(body, _FIXED.size)
    street_id, offset = _take_text(body, offset)
    if not terminal_id or offset != len(body):
        raise VoucherFormatError("no issuer, or bytes after the last field")
    return VoucherData(
        number=number,
        program_id=program_id,
        points=points,
        valid_from=EPOCH + timedelta(days=first),
        valid_until=EPOCH + timedelta(days=last),
        issuer_terminal_id=terminal_id,
        issuer_street_id=street_id,
    )


def decode_payload(text: str) -> SignedVoucher:
    """The voucher in scanned ``text`` (surrounding whitespace, e.g. a wedge scanner's Enter, is
    ignored); raises only :class:`VoucherFormatError`, whatever the input."""
    if not isinstance(text, str):
        raise VoucherFormatError(f"expected text, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped.startswith(PAYLOAD_PREFIX):
        raise VoucherFormatError("no PV1: prefix")
    try:
        raw = base45.decode(stripped[len(PAYLOAD_PREFIX) :])
    except base45.Base45Error as exc:
        raise VoucherFormatError(str(exc)) from exc
    if len(raw) <= SIGNATURE_BYTES:
        raise VoucherFormatError(f"{len(raw)} bytes is too short")
    body, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    return SignedVoucher(parse_body(body), body, signature)
