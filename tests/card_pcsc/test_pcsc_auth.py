"""Authentication through the real PC/SC stack: pyscard -> pcscd -> vpcd -> our emulator.

Each test places its own card in 'Virtual PCD 00 00' through the session's bridge; the other
vpcd reader ('Virtual PCD 00 01') stays empty all along and must never be chosen.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from cardio.auth import AuthenticatedCard, TrustStore, authenticate, verify_card_signature
from cardio.errors import CardError, CardRemovedError
from cardio.jpki import JpkiSession
from cardio.secrets import Pin
from cardio.transport import PcscConnection, list_readers
from cardio.virtual.card import Faults
from cardio.virtual.profile import CardProfile
from tests.card_pcsc.support import (
    EMPTY_READER,
    PIN,
    READER,
    WRONG_PIN,
    Reader,
    card_present,
    make_card,
    run_mykey,
    wait_for_card,
)

pytestmark = pytest.mark.pcsc


def _authenticate(trust_dir: Path, challenge: bytes) -> AuthenticatedCard:
    connection = PcscConnection.open()
    try:
        assert connection.reader == READER
        session = JpkiSession(connection)
        return authenticate(
            session, Pin(PIN), challenge, trust=TrustStore.from_directory(trust_dir)
        )
    finally:
        connection.close()


def _auth_cli(trust_dir: Path, pin: str) -> tuple[int, list[str]]:
    done = run_mykey("card", "auth", "--trust", str(trust_dir), "--pin-stdin", stdin=pin + "\n")
    assert pin not in done.stdout + done.stderr
    return done.returncode, done.stdout.splitlines()


def _auth_result(trust_dir: Path, pin: str) -> tuple[int, str]:
    """Exit code and the final ``result: …`` line of ``mykey card auth``."""
    code, lines = _auth_cli(trust_dir, pin)
    return code, lines[-1] if lines else ""


def test_authenticates_a_card_in_the_vpcd_reader(
    reader: Reader, shared_profile: CardProfile, trust_dir: Path
) -> None:
    reader.insert(make_card(shared_profile))
    challenge = os.urandom(32)

    card = _authenticate(trust_dir, challenge)

    certificate = shared_profile.auth_certificate
    assert card.certificate == certificate
    assert verify_card_signature(certificate, challenge, card.signature)
    assert card.ref.serial == certificate.serial_number


def test_the_empty_second_reader_is_listed_but_never_chosen(
    reader: Reader, shared_profile: CardProfile
) -> None:
    reader.insert(make_card(shared_profile))
    assert {READER, EMPTY_READER} <= set(list_readers())
    assert not card_present(EMPTY_READER)

    connection = PcscConnection.open()
    try:
        assert connection.reader == READER
    finally:
        connection.close()


def test_no_card_at_all_is_a_card_error_not_a_crash(reader: Reader) -> None:
    with pytest.raises(CardError) as raised:
        PcscConnection.open()
    assert raised.value.code in {"no-card", "not-my-number-card"}


def test_cli_auth_prints_the_certificate_ref_and_ok(
    reader: Reader, shared_profile: CardProfile, trust_dir: Path
) -> None:
    reader.insert(make_card(shared_profile))

    code, lines = _auth_cli(trust_dir, PIN)

    certificate = shared_profile.auth_certificate
    der = certificate.public_bytes(Encoding.DER)
    assert code == 0, lines
    assert lines[-1] == "result: ok"
    assert f"fingerprint: {hashlib.sha256(der).hexdigest()}" in lines
    assert any(line.startswith("issuer: ") and "JPKI-TEST" in line for line in lines)
    assert _shows_serial("\n".join(lines), certificate.serial_number)


def test_wrong_pin_twice_then_right_restores_three_tries(
    reader: Reader, issue_card: Callable[[], CardProfile], trust_dir: Path
) -> None:
    profile = issue_card()
    reader.insert(make_card(profile))

    assert _auth_result(trust_dir, WRONG_PIN) == (3, "result: wrong-pin tries-left=2")
    assert _auth_result(trust_dir, WRONG_PIN) == (3, "result: wrong-pin tries-left=1")
    assert _auth_result(trust_dir, PIN) == (0, "result: ok")

    info = run_mykey("card", "info")
    assert info.returncode == 0, info.stdout + info.stderr
    assert _tries_left(info.stdout) == 3
    assert CardProfile.load(profile.directory).pin_tries_left == 3


def test_three_wrong_pins_lock_the_card_even_for_the_right_pin(
    reader: Reader, issue_card: Callable[[], CardProfile], trust_dir: Path
) -> None:
    profile = issue_card()
    reader.insert(make_card(profile))

    assert _auth_result(trust_dir, WRONG_PIN)[0] == 3
    assert _auth_result(trust_dir, WRONG_PIN)[0] == 3
    assert _auth_result(trust_dir, WRONG_PIN) == (4, "result: pin-locked")
    assert _auth_result(trust_dir, PIN) == (4, "result: pin-locked")

    info = run_mykey("card", "info")
    assert _tries_left(info.stdout) == 0
    # the lock survives taking the card out and putting it back (it is the card's state)
    reader.insert(make_card(CardProfile.load(profile.directory)))
    assert _auth_result(trust_dir, PIN) == (4, "result: pin-locked")


def test_card_pulled_during_sign_is_card_removed_and_the_next_card_works(
    reader: Reader, shared_profile: CardProfile, trust_dir: Path
) -> None:
    reader.insert(make_card(shared_profile, faults=Faults(remove_on_ins=0x2A)))

    with pytest.raises(CardRemovedError):
        _authenticate(trust_dir, os.urandom(32))
    wait_for_card(READER, present=False)

    reader.insert(make_card(shared_profile))
    challenge = os.urandom(32)
    card = _authenticate(trust_dir, challenge)
    assert verify_card_signature(shared_profile.auth_certificate, challenge, card.signature)


def test_cli_says_card_removed_when_the_card_leaves_during_sign(
    reader: Reader, shared_profile: CardProfile, trust_dir: Path
) -> None:
    reader.insert(make_card(shared_profile, faults=Faults(remove_on_ins=0x2A)))

    assert _auth_result(trust_dir, PIN) == (1, "result: card-removed")


def test_cli_readers_lists_both_vpcd_readers(reader: Reader, shared_profile: CardProfile) -> None:
    card = reader.insert(make_card(shared_profile))

    done = run_mykey("card", "readers")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    with_card = [_squeeze(line) for line in lines if READER in line]
    empty = [_squeeze(line) for line in lines if EMPTY_READER in line]
    assert len(with_card) == 1 and len(empty) == 1
    assert card.atr.hex().upper() in with_card[0]  # the card's ATR shows on its reader only
    assert card.atr.hex().upper() not in empty[0]


def test_cli_info_shows_the_card_without_a_pin(reader: Reader, shared_profile: CardProfile) -> None:
    reader.insert(make_card(shared_profile))

    done = run_mykey("card", "info")

    assert done.returncode == 0, done.stdout + done.stderr
    certificate = shared_profile.auth_certificate
    text = done.stdout
    assert READER in text
    assert "JPKIAPICCTOKEN2" in text
    common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert isinstance(common_name, str)
    assert f"CN={common_name}" in text
    assert _shows_serial(text, certificate.serial_number)
    assert "O=JPKI-TEST" in text
    assert _tries_left(text) == 3


def test_no_pin_in_any_log_record_through_the_stack(
    reader: Reader,
    shared_profile: CardProfile,
    trust_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    reader.insert(make_card(shared_profile))
    caplog.set_level(logging.DEBUG)

    _authenticate(trust_dir, os.urandom(32))
    cli = run_mykey(
        "-vv", "card", "auth", "--trust", str(trust_dir), "--pin-stdin", stdin=PIN + "\n"
    )

    assert cli.returncode == 0
    assert any(r.name.startswith("cardio.virtual.vpcd") for r in caplog.records)
    assert PIN not in caplog.text
    assert PIN.encode().hex() not in caplog.text.replace(" ", "").lower()
    assert PIN not in cli.stderr + cli.stdout


def _tries_left(text: str) -> int:
    for line in text.splitlines():
        if "tries" in line.lower():
            digits = [c for c in line.split(":", 1)[-1] if c.isdigit()]
            if digits:
                return int(digits[0])
    raise AssertionError(f"no tries-left line in:\n{text}")


def _squeeze(line: str) -> str:
    return line.replace(" ", "").replace(":", "").upper()


def _shows_serial(text: str, serial: int) -> bool:
    """A ``serial:`` line with the serial in decimal or hex."""
    for line in text.splitlines():
        if line.startswith("serial:"):
            value = _squeeze(line.split(":", 1)[1])
            return value in {str(serial), f"{serial:X}", f"0X{serial:X}"}
    return False
