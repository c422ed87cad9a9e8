"""Through whole authentications (success and every PIN failure) with all logging at DEBUG,
the PIN's digits appear in no log line, exception text, traceback or repr."""

from __future__ import annotations

import logging
import traceback

import pytest

from cardio import errors
from cardio.auth import CertificateRef, TrustStore, authenticate
from cardio.jpki import CertificateCache, JpkiSession
from cardio.secrets import Pin
from cardio.transport import InProcessConnection
from tests.card.conftest import NOW, PIN, WRONG_PIN, MakeCard


def test_pin_digits_appear_nowhere(
    make_card: MakeCard, trust: TrustStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    card = make_card()
    cache = CertificateCache()

    def attempt(digits: str) -> None:
        pin = Pin(digits)
        texts.extend([repr(pin), str(pin), f"{pin}"])
        with InProcessConnection(card) as connection:
            session = JpkiSession(connection, certificate_cache=cache)
            try:
                result = authenticate(session, pin, b"c" * 32, trust=trust, clock=lambda: NOW)
                texts.append(repr(result))
            except errors.CardError as exc:
                texts.extend(
                    [
                        str(exc),
                        repr(exc),
                        *map(str, exc.args),
                        exc.message_ja,
                        exc.message_en,
                        *traceback.format_exception(exc),
                    ]
                )
            texts.append(repr(session.verify_pin(pin)) if not card.faults.remove_on_ins else "")

    attempt(PIN)  # success (then the same PIN again, ok)
    attempt(WRONG_PIN)  # wrong, 2 left
    attempt(PIN)
    card.faults.remove_on_ins = 0x20  # card pulled during VERIFY
    attempt(PIN)
    card.faults.remove_on_ins = None
    for _ in range(4):
        attempt(WRONG_PIN)  # wrong, wrong, locked (63C0), locked (6984)
    assert card.profile.pin_tries_left == 0

    cert = card.profile.auth_certificate
    text = caplog.text + "\n".join(texts)
    assert "wrong-pin" in text and "pin-locked" in text and "card-removed" in text
    # Certificate identifiers are public and random; drop them so they cannot match by chance.
    cn = cert.subject.rfc4514_string()
    for public in (str(cert.serial_number), CertificateRef.of(cert).fingerprint_sha256, cn):
        text = text.replace(public, "")
    for digits in (PIN, WRONG_PIN):
        assert digits not in text
        assert digits.encode().hex() not in text.lower()
        assert " ".join(f"{b:02x}" for b in digits.encode()) not in text.lower()
