"""Offline verification: every way a voucher can be wrong gives its own clear message."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.protocol import VoucherKey
from terminal.vouchers import base45
from terminal.vouchers.errors import (
    VoucherError,
    VoucherExpiredError,
    VoucherForgedError,
    VoucherFormatError,
    VoucherNotYetValidError,
    VoucherOtherStreetError,
    VoucherRedeemedElsewhereError,
    VoucherRedeemedHereError,
    VoucherUnknownIssuerError,
)
from terminal.vouchers.numbers import voucher_number
from terminal.vouchers.payload import PAYLOAD_PREFIX, VoucherData, encode_payload
from terminal.vouchers.verify import VerifiedVoucher, verify_voucher
from tests.ledger.support import raw_public

OFFICE_KEY = Ed25519PrivateKey.generate()
KEYS = [VoucherKey(terminal_id="TOFFICE", business_id="S0001", public_key=raw_public(OFFICE_KEY))]
DAY = date(2026, 12, 15)
GOOD = VoucherData(
    number=voucher_number(100_001, 7),
    program_id=1,
    points=500,
    valid_from=DAY,
    valid_until=DAY + timedelta(days=2),
    issuer_terminal_id="TOFFICE",
    issuer_street_id="S0001",
)


def check(
    text: str,
    *,
    today: date = DAY,
    redeemed: frozenset[str] = frozenset(),
    here: frozenset[str] = frozenset(),
) -> VerifiedVoucher:
    return verify_voucher(
        text,
        keys=KEYS,
        today=today,
        business_id="A0001",
        street_id="S0001",
        is_redeemed=lambda n: n in redeemed | here,
        redeemed_here=lambda n: n in here,
    )


def flip(text: str, byte_index: int, bit: int) -> str:
    raw = bytearray(base45.decode(text[len(PAYLOAD_PREFIX) :]))
    raw[byte_index] ^= 1 << bit
    return PAYLOAD_PREFIX + base45.encode(bytes(raw))


def test_a_genuine_voucher_verifies_on_each_valid_day() -> None:
    text = encode_payload(GOOD, OFFICE_KEY)
    for offset in range(3):
        verified = check(text, today=DAY + timedelta(days=offset))
        assert verified.data == GOOD and verified.issuer_business_id == "S0001"


def test_flipped_bits_in_the_points_or_signature_are_forgery() -> None:
    text = encode_payload(GOOD, OFFICE_KEY)
    for byte_index in (12, 13, -1, -40):  # points (bytes 11-14) and the signature
        with pytest.raises(VoucherForgedError):
            check(flip(text, byte_index, 0))


def test_no_single_flipped_bit_is_ever_accepted() -> None:
    text = encode_payload(GOOD, OFFICE_KEY)
    size = len(base45.decode(text[len(PAYLOAD_PREFIX) :]))
    for byte_index in range(size):
        for bit in range(8):
            with pytest.raises(VoucherError):
                check(flip(text, byte_index, bit))


def test_each_refusal_has_its_own_code_and_message() -> None:
    other_key = Ed25519PrivateKey.generate()
    stranger = VoucherData(**{**GOOD.__dict__, "issuer_terminal_id": "TSTRANGER"})
    elsewhere = VoucherData(
        **{**GOOD.__dict__, "issuer_terminal_id": "TS2", "issuer_street_id": "S0002"}
    )
    genuine = encode_payload(GOOD, OFFICE_KEY)
    cases: list[tuple[type[VoucherError], str, dict[str, object]]] = [
        (VoucherFormatError, "PV1:NOT-A-VOUCHER", {}),
        (VoucherForgedError, encode_payload(GOOD, other_key), {}),  # wrong key
        (VoucherUnknownIssuerError, encode_payload(stranger, other_key), {}),
        (VoucherOtherStreetError, encode_payload(elsewhere, other_key), {}),
        (VoucherNotYetValidError, genuine, {"today": DAY - timedelta(days=1)}),
        (VoucherExpiredError, genuine, {"today": DAY + timedelta(days=3)}),
        (VoucherRedeemedHereError, genuine, {"here": frozenset({GOOD.number})}),
        (VoucherRedeemedElsewhereError, genuine, {"redeemed": frozenset({GOOD.number})}),
    ]
    seen: list[tuple[str, str, str]] = []
    for expected, text, options in cases:
        with pytest.raises(VoucherError) as caught:
            check(text, **options)  # type: ignore[arg-type]
        error = caught.value
        assert type(error) is expected, (expected, error)
        assert error.message_ja and error.message_en
        seen.append((error.code, error.message_ja, error.message_en))
    for column in range(3):
        assert len({entry[column] for entry in seen}) == len(cases), seen


def test_date_messages_name_the_dates_in_jst_calendar_form() -> None:
    genuine = encode_payload(GOOD, OFFICE_KEY)
    with pytest.raises(VoucherExpiredError) as expired:
        check(genuine, today=date(2026, 12, 18))
    assert "2026年12月17日" in expired.value.message_ja and "2026-12-17" in expired.value.message_en
    with pytest.raises(VoucherNotYetValidError) as early:
        check(genuine, today=date(2026, 12, 14))
    assert "2026年12月15日" in early.value.message_ja


def test_a_business_outside_any_street_accepts_no_voucher() -> None:
    with pytest.raises(VoucherOtherStreetError):
        verify_voucher(
            encode_payload(GOOD, OFFICE_KEY),
            keys=[],
            today=DAY,
            business_id="T0001",
            street_id=None,
            is_redeemed=lambda n: False,
        )
