"""Voucher numbers, Base45 and the signed payload: shape, size and robustness (no server)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import qrcode
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.protocol import is_valid_voucher_number
from terminal.store import TerminalStore
from terminal.vouchers import base45
from terminal.vouchers.errors import (
    VoucherFormatError,
    VoucherNumberError,
    VoucherNumbersExhaustedError,
)
from terminal.vouchers.layout import a4_sheet, receipt
from terminal.vouchers.numbers import normalise_number, reserve_numbers, voucher_number
from terminal.vouchers.payload import (
    MAX_BODY_BYTES,
    PAYLOAD_PREFIX,
    VoucherData,
    decode_payload,
    encode_body,
    encode_payload,
)

KEY = Ed25519PrivateKey.generate()
TYPICAL = VoucherData(
    number=voucher_number(100_001, 1),
    program_id=1,
    points=2420,
    valid_from=date(2026, 12, 15),
    valid_until=date(2026, 12, 17),
    issuer_terminal_id="T0123456789ABCDEF",  # the server's form: T + 16 hex digits
    issuer_street_id="S0001",
)


def qr_version(text: str) -> int:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    assert code.version is not None
    return int(code.version)


# --- numbers


def test_voucher_numbers_end_in_the_ean13_check_digit() -> None:
    assert voucher_number(400_638, 133_393) == "4006381333931"  # the textbook EAN-13 example
    number = voucher_number(123_456, 789)
    assert number.startswith("123456000789") and is_valid_voucher_number(number)
    with pytest.raises(ValueError):
        voucher_number(12_345, 1)


def test_a_typed_number_may_carry_spaces_and_hyphens_but_not_a_wrong_digit() -> None:
    assert normalise_number(" 4006-3813 33931 ") == "4006381333931"
    for wrong in ("4006381333932", "400638133393", "４００６３８１３３３９３１", "abc"):
        with pytest.raises(VoucherNumberError) as caught:
            normalise_number(wrong)
        assert caught.value.code == "voucher-number-invalid"


def test_reserved_numbers_are_never_handed_out_twice(tmp_path: Path) -> None:
    store = TerminalStore.open(tmp_path / "t.sqlite3")
    first = reserve_numbers(store, 100_002, 3)
    store.close()
    store = TerminalStore.open(tmp_path / "t.sqlite3")  # survives a restart
    second = reserve_numbers(store, 100_002, 2)
    assert [n[6:12] for n in first + second] == ["000001", "000002", "000003", "000004", "000005"]
    assert all(is_valid_voucher_number(n) for n in first + second)
    with pytest.raises(VoucherNumbersExhaustedError):
        reserve_numbers(store, 100_002, 999_995)
    assert reserve_numbers(store, 100_002, 1)[0][6:12] == "000006"  # the refusal used none
    with pytest.raises(VoucherNumbersExhaustedError):
        reserve_numbers(store, None, 1)
    store.close()


# --- Base45


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"AB", "BB8"),
        (b"Hello!!", "%69 VD92EX0"),
        (b"base-45", "UJCLQE7W581"),
        (b"ietf!", "QED8WEX0"),
    ],
)
def test_base45_matches_rfc_9285(raw: bytes, text: str) -> None:
    assert base45.encode(raw) == text
    assert base45.decode(text) == raw


@pytest.mark.parametrize("bad", ["GGW", "A", "abc", "ZZ"])
def test_base45_refuses_bad_text(bad: str) -> None:
    with pytest.raises(base45.Base45Error):
        base45.decode(bad)


# --- payload


def test_payload_round_trip_is_ascii_and_fits_qr_version_7_m() -> None:
    text = encode_payload(TYPICAL, KEY)
    assert text.startswith(PAYLOAD_PREFIX) and text.isascii()
    assert set(text[4:]) <= set(base45.ALPHABET)
    signed = decode_payload(text + "\r\n")  # a keyboard-wedge scanner's Enter is ignored
    assert signed.data == TYPICAL
    KEY.public_key().verify(signed.signature, signed.body)
    assert qr_version(text) <= 7


def test_the_largest_allowed_payload_still_fits_qr_version_7_m() -> None:
    fixed = len(encode_body(TYPICAL)) - len(TYPICAL.issuer_terminal_id) - 5
    room = MAX_BODY_BYTES - fixed
    biggest = VoucherData(
        number="9999999999994",
        program_id=2**31 - 1,
        points=10_000_000,
        valid_from=date(2026, 1, 1),
        valid_until=date(2199, 1, 1),
        issuer_terminal_id="T" * (room - 8),
        issuer_street_id="S" * 8,
    )
    assert len(encode_body(biggest)) == MAX_BODY_BYTES
    assert qr_version(encode_payload(biggest, KEY)) <= 7
    too_big = replace(biggest, issuer_street_id="S" * 9)
    with pytest.raises(ValueError):
        encode_payload(too_big, KEY)


@pytest.mark.parametrize(
    "text",
    ["", "PV1:", "PV2:" + encode_payload(TYPICAL, KEY)[4:], "pv1:ABC", "https://example.jp/"],
)
def test_non_payloads_are_a_format_error(text: str) -> None:
    with pytest.raises(VoucherFormatError) as caught:
        decode_payload(text)
    assert caught.value.code == "voucher-malformed"
    assert caught.value.message_ja and caught.value.message_en


def decode_or_format_error(text: str) -> None:
    """Decoding gives a well-formed voucher or VoucherFormatError; anything else fails the test."""
    try:
        signed = decode_payload(text)
    except VoucherFormatError as error:
        assert error.code == "voucher-malformed"
        return
    assert is_valid_voucher_number(signed.data.number) and len(signed.signature) == 64
    assert signed.data.valid_from <= signed.data.valid_until


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_arbitrary_text_raises_only_the_format_error(text: str) -> None:
    for candidate in (text, PAYLOAD_PREFIX + text):
        decode_or_format_error(candidate)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_the_format_error(raw: bytes) -> None:
    for candidate in (PAYLOAD_PREFIX + base45.encode(raw), raw.decode("latin-1")):
        decode_or_format_error(candidate)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=164), st.sampled_from(base45.ALPHABET + "a\x00é"))
def test_a_changed_character_gives_data_or_the_format_error(index: int, char: str) -> None:
    text = encode_payload(TYPICAL, KEY)
    changed = text[:index] + char + text[index + 1 :]
    decode_or_format_error(changed)


# --- layout


def test_paper_layouts_keep_every_voucher_on_the_page() -> None:
    for layout in (a4_sheet(), receipt(58), receipt(80)):
        width, height = layout.voucher_mm
        for x, y in layout.origins_mm:
            assert x >= 0 and x + width <= layout.page_mm[0]
            assert y >= 0 and y + height <= layout.page_mm[1]
    sheet = a4_sheet()
    assert sheet.per_page == 8 and sheet.cut_marks
    assert len(set(sheet.origins_mm)) == 8
    assert receipt(58).voucher_mm[0] == 48 and receipt(80).voucher_mm[0] == 72
