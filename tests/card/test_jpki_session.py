"""JpkiSession against a scripted card: the exact APDUs sent, labels, certificates, PIN, SIGN."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from cardio import errors
from cardio.jpki import CertificateCache, JpkiSession, PinStatus, der_length
from cardio.secrets import Pin, PinFormatError
from tests.card.fakes import ScriptedConnection

SELECT_AP = "00a4040c0ad392f000260100000001"
SELECT_0006 = "00a4020c020006"
SELECT_000A = "00a4020c02000a"
SELECT_0017 = "00a4020c020017"
SELECT_0018 = "00a4020c020018"
OK = "9000"


@pytest.fixture(scope="module")
def cert_der() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.COMMON_NAME, "A" * 23),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.DER)


def label_answer(label: str) -> str:
    return label.encode().ljust(32, b" ").hex() + OK


def read(offset: int, le: int) -> str:
    return f"00b0{offset:04x}{le & 0xFF:02x}"


def cert_script(der: bytes) -> list[tuple[str, str | None]]:
    """SELECT 000A, then 256-byte chunks, the last one exactly the remainder; EF padded."""
    padded = der + b"\xff" * 300
    steps: list[tuple[str, str | None]] = [(SELECT_000A, OK)]
    offset = 0
    while offset < len(der):
        le = 256 if offset == 0 else min(256, len(der) - offset)
        steps.append((read(offset, le), padded[offset : offset + le].hex() + OK))
        offset += le
    return steps


@pytest.mark.parametrize(
    ("header", "length"),
    [("3082048a", 0x48A + 4), ("30817f", 0x7F + 3), ("3010", 0x12)],
)
def test_der_length_from_header(header: str, length: int) -> None:
    assert der_length(bytes.fromhex(header)) == length


def test_blank_certificate_file_is_not_a_my_number_card() -> None:
    with pytest.raises(errors.NotMyNumberCardError):
        der_length(b"\xff\xff\xff\xff")


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([(SELECT_AP, "6a82")], errors.NotMyNumberCardError),
        (
            [(SELECT_AP, OK), (SELECT_0006, OK), (read(0, 32), label_answer("JPKIAPICCTOKEN"))],
            errors.NotMyNumberCardError,
        ),
        (
            [(SELECT_AP, OK), (SELECT_0006, OK), (read(0, 32), label_answer("SOMETHING ELSE"))],
            errors.NotMyNumberCardError,
        ),
        ([(SELECT_AP, OK), (SELECT_0006, "6a82")], errors.NotMyNumberCardError),
        (
            [(SELECT_AP, OK), (SELECT_0006, OK), (read(0, 32), label_answer("JPKIAPICCTOKEN2"))],
            None,
        ),
    ],
    ids=["no-jpki-ap", "juki-card", "foreign-label", "no-token-info", "my-number-card"],
)
def test_card_recognition(
    answers: list[tuple[str, str | None]], expected: type[Exception] | None
) -> None:
    conn = ScriptedConnection(answers)
    session = JpkiSession(conn)
    if expected is None:
        session.check_label()
    else:
        with pytest.raises(expected):
            session.check_label()
    assert conn.done()


def test_certificate_is_read_by_its_der_length_in_256_byte_chunks(cert_der: bytes) -> None:
    conn = ScriptedConnection([(SELECT_AP, OK), *cert_script(cert_der)])
    session = JpkiSession(conn)
    assert session.read_auth_certificate() == cert_der
    assert conn.done()
    assert session.apdu_count == 2 + (len(cert_der) + 255) // 256


def test_repeat_card_is_recognised_from_the_first_chunk(cert_der: bytes) -> None:
    cache = CertificateCache()
    first = JpkiSession(
        ScriptedConnection([(SELECT_AP, OK), *cert_script(cert_der)]), certificate_cache=cache
    )
    der = first.read_auth_certificate()
    assert not first.last_read_was_cached
    first.remember_certificate(der)

    conn = ScriptedConnection([(SELECT_AP, OK), *cert_script(cert_der)[:2]])
    repeat = JpkiSession(conn, certificate_cache=cache)
    assert repeat.read_auth_certificate() == cert_der
    assert repeat.last_read_was_cached and conn.done()
    assert repeat.apdu_count < first.apdu_count


def test_a_different_certificate_is_read_in_full_despite_the_cache(cert_der: bytes) -> None:
    cache = CertificateCache()
    cache.add(cert_der)
    other = bytearray(cert_der)
    other[100] ^= 0x01  # differs inside the first chunk
    conn = ScriptedConnection([(SELECT_AP, OK), *cert_script(bytes(other))])
    session = JpkiSession(conn, certificate_cache=cache)
    assert session.read_auth_certificate() == bytes(other)
    assert not session.last_read_was_cached and conn.done()


@pytest.mark.parametrize(
    ("sw", "tries"), [("63c3", 3), ("63c1", 1), ("63c0", 0), ("6984", 0), ("6983", 0)]
)
def test_tries_left_by_empty_verify(sw: str, tries: int) -> None:
    conn = ScriptedConnection([(SELECT_AP, OK), (SELECT_0018, OK), ("00200080", sw)])
    assert JpkiSession(conn).pin_tries_left() == tries
    assert conn.done()


@pytest.mark.parametrize(
    ("sw", "status", "tries", "error"),
    [
        (OK, PinStatus.OK, 3, None),
        ("63c2", PinStatus.WRONG, 2, errors.WrongPinError),
        ("63c1", PinStatus.WRONG, 1, errors.WrongPinError),
        ("63c0", PinStatus.LOCKED, 0, errors.PinLockedError),
        ("6983", PinStatus.LOCKED, 0, errors.PinLockedError),
        ("6984", PinStatus.LOCKED, 0, errors.PinLockedError),
    ],
)
def test_verify_pin_results(
    sw: str, status: PinStatus, tries: int, error: type[Exception] | None
) -> None:
    conn = ScriptedConnection([(SELECT_AP, OK), (SELECT_0018, OK), ("002000800431323334", sw)])
    result = JpkiSession(conn).verify_pin(Pin("1234"))
    assert (result.status, result.tries_left) == (status, tries)
    if error is None:
        result.raise_for_status()
    else:
        with pytest.raises(error) as excinfo:
            result.raise_for_status()
        if isinstance(excinfo.value, errors.WrongPinError):
            assert excinfo.value.tries_left == tries
            assert str(tries) in excinfo.value.message_ja
    assert conn.done()


@pytest.mark.parametrize("bad", ["1234", b"1234", 1234, None])
def test_verify_pin_sends_nothing_but_a_pin(bad: object) -> None:
    conn = ScriptedConnection([])
    with pytest.raises(TypeError):
        JpkiSession(conn).verify_pin(bad)  # type: ignore[arg-type]
    assert conn.sent == []


def test_verify_pin_refuses_a_wiped_or_malformed_pin() -> None:
    conn = ScriptedConnection([])
    pin = Pin("1234")
    pin.wipe()
    with pytest.raises(ValueError):
        JpkiSession(conn).verify_pin(pin)
    with pytest.raises(PinFormatError):
        Pin("12345")
    assert conn.sent == []


def test_sign_selects_the_key_and_returns_256_bytes() -> None:
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + bytes(32)
    conn = ScriptedConnection(
        [
            (SELECT_AP, OK),
            (SELECT_0017, OK),
            ("802a008033" + digest_info.hex() + "00", "5a" * 256 + OK),
        ]
    )
    assert JpkiSession(conn).sign(digest_info) == b"\x5a" * 256
    assert conn.done()


def test_sign_without_verified_pin_is_a_typed_error() -> None:
    conn = ScriptedConnection([(SELECT_AP, OK), (SELECT_0017, OK), ("802a00800101" + "00", "6982")])
    with pytest.raises(errors.PinNotVerifiedError):
        JpkiSession(conn).sign(b"\x01")


def test_oversized_digest_info_is_refused_before_sending() -> None:
    conn = ScriptedConnection([])
    with pytest.raises(ValueError):
        JpkiSession(conn).sign(bytes(246))
    assert conn.sent == []


def test_pin_then_sign_selects_each_file_once() -> None:
    conn = ScriptedConnection(
        [
            (SELECT_AP, OK),
            (SELECT_0018, OK),
            ("00200080", "63c3"),
            ("002000800431323334", OK),
            (SELECT_0017, OK),
            ("802a00800101" + "00", "00" * 256 + OK),
        ]
    )
    session = JpkiSession(conn)
    assert session.pin_tries_left() == 3
    assert session.verify_pin(Pin("1234")).ok
    session.sign(b"\x01")
    assert conn.done()
