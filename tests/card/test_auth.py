"""authenticate() against the emulator (in-process): success, the fast path, every failure."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from cardio import errors
from cardio.auth import (
    CertificateRef,
    TrustStore,
    authenticate,
    sign_message,
    validate_certificate,
    verify_card_signature,
)
from cardio.jpki import CertificateCache, JpkiSession
from cardio.revocation import CrlRevocationSource
from cardio.secrets import Pin
from cardio.transport import InProcessConnection
from cardio.virtual.ca import TestCA
from cardio.virtual.card import Faults, VirtualJpkiCard
from cardio.virtual.profile import CardProfile
from tests.card.conftest import NOW, PIN, WRONG_PIN, MakeCard
from tests.card.fakes import ScriptedConnection

CHALLENGE = b"challenge-" + bytes(range(22))


def clock() -> datetime:
    return NOW


def run(card: VirtualJpkiCard, trust: TrustStore, pin: str = PIN, **kwargs: object):  # type: ignore[no-untyped-def]
    with InProcessConnection(card) as connection:
        session = JpkiSession(connection, certificate_cache=kwargs.pop("cache", None))  # type: ignore[arg-type]
        return authenticate(session, Pin(pin), CHALLENGE, trust=trust, clock=clock, **kwargs)  # type: ignore[arg-type]


def test_authenticate_returns_the_certificate_ref_and_a_verified_signature(
    make_card: MakeCard, trust: TrustStore, ca: TestCA
) -> None:
    card = make_card()
    crl = CrlRevocationSource([ca.crl(now=NOW - timedelta(hours=2))])
    result = run(card, trust, revocation=crl)
    cert = card.profile.auth_certificate
    assert result.ref == CertificateRef.of(cert)
    assert result.ref.issuer == ca.certificate.subject.rfc4514_string()
    assert result.ref.serial == cert.serial_number
    from_der = CertificateRef.of(cert.public_bytes(Encoding.DER))
    assert result.ref.fingerprint_sha256 == from_der.fingerprint_sha256
    assert len(result.ref.fingerprint_sha256) == 64 and result.ref.fingerprint_sha256.islower()
    assert verify_card_signature(result.certificate_der, CHALLENGE, result.signature)
    assert result.revocation is not None and result.revocation.age == timedelta(hours=2)
    assert card.profile.pin_tries_left == 3


def test_issuer_is_chosen_by_signature_when_two_generations_share_a_name(
    make_card: MakeCard, ca: TestCA, other_ca_same_name: TestCA
) -> None:
    assert other_ca_same_name.certificate.subject == ca.certificate.subject
    both = TrustStore.from_certificates([other_ca_same_name.certificate, ca.certificate])
    assert run(make_card(), both).ref.serial > 0
    only_other = TrustStore.from_certificates([other_ca_same_name.certificate])
    with pytest.raises(errors.UnknownIssuerError):
        run(make_card(), only_other)


def test_pin_prompt_sees_tries_left_before_the_pin_is_asked(
    make_card: MakeCard, trust: TrustStore
) -> None:
    seen: list[int] = []

    def prompt(tries: int) -> Pin:
        seen.append(tries)
        return Pin(PIN)

    with InProcessConnection(make_card()) as connection:
        authenticate(JpkiSession(connection), prompt, CHALLENGE, trust=trust, clock=clock)
    assert seen == [3]


def test_repeat_card_reads_less_and_still_proves_its_key(
    make_card: MakeCard, trust: TrustStore
) -> None:
    cache = CertificateCache()
    card = make_card()
    first = run(card, trust, cache=cache)
    first_count = card.apdu_count
    card.reset_statistics()
    second = run(card, trust, cache=cache)
    assert second.ref == first.ref
    assert card.apdu_count <= first_count - 5  # 4 READ chunks and the label (2 APDUs) saved
    assert verify_card_signature(second.certificate, CHALLENGE, second.signature)


def test_impostor_with_a_cached_first_chunk_but_another_key_fails(
    make_card: MakeCard, trust: TrustStore, base_profile: CardProfile
) -> None:
    cache = CertificateCache()
    run(make_card(), trust, cache=cache)
    # Same certificate on the card, but the card's key is another one: the signature tells.
    impostor = make_card(auth_key=base_profile.sign_key)
    with pytest.raises(errors.BadSignatureError):
        run(impostor, trust, cache=cache)


def test_failed_authentication_does_not_fill_the_cache(
    make_card: MakeCard, trust: TrustStore
) -> None:
    cache = CertificateCache()
    with pytest.raises(errors.WrongPinError):
        run(make_card(), trust, pin=WRONG_PIN, cache=cache)
    assert len(cache) == 0


def test_6f00_after_power_up_is_survived(make_card: MakeCard, trust: TrustStore) -> None:
    card = make_card(faults=Faults(answer_6f00_after_power_up=True))
    assert run(card, trust).ref.serial == card.profile.auth_certificate.serial_number


def test_not_a_my_number_card_no_jpki_ap(trust: TrustStore) -> None:
    conn = ScriptedConnection([("00a4040c0ad392f000260100000001", "6a82")])
    with pytest.raises(errors.NotMyNumberCardError):
        authenticate(JpkiSession(conn), Pin(PIN), CHALLENGE, trust=trust, clock=clock)


def test_not_a_my_number_card_old_juki_label(make_card: MakeCard, trust: TrustStore) -> None:
    card = make_card(token_label="JPKIAPICCTOKEN")
    with pytest.raises(errors.NotMyNumberCardError):
        run(card, trust)
    assert card.profile.pin_tries_left == 3


@pytest.mark.parametrize(
    ("certificate_args", "error"),
    [
        (
            {"not_before": NOW - timedelta(days=1830), "not_after": NOW - timedelta(days=1)},
            errors.CertificateExpiredError,
        ),
        ({"not_before": NOW + timedelta(days=1)}, errors.CertificateNotYetValidError),
        ({"key_usage_digital_signature": False}, errors.CertificateUsageError),
        ({"policy": False}, errors.CertificateUsageError),
    ],
    ids=["expired", "not-yet-valid", "no-digital-signature", "foreign-policy"],
)
def test_bad_certificates_fail_before_the_pin_is_spent(
    make_card: MakeCard,
    trust: TrustStore,
    ca: TestCA,
    base_profile: CardProfile,
    certificate_args: dict[str, Any],
    error: type[errors.CardError],
) -> None:
    cert = ca.issue_auth_certificate(
        base_profile.auth_key.public_key(), now=NOW, **certificate_args
    )
    card = make_card(auth_certificate=cert)
    with pytest.raises(error):
        run(card, trust, pin=WRONG_PIN)
    assert card.profile.pin_tries_left == 3


def test_revoked_certificate(
    make_card: MakeCard, trust: TrustStore, ca: TestCA, base_profile: CardProfile
) -> None:
    key = base_profile.auth_key.public_key()
    cert = ca.issue_auth_certificate(key, now=NOW - timedelta(days=1))
    ca.revoke(cert, now=NOW - timedelta(hours=3))
    crl = CrlRevocationSource([ca.crl(now=NOW - timedelta(hours=1))])
    card = make_card(auth_certificate=cert)
    with pytest.raises(errors.CertificateRevokedError):
        run(card, trust, revocation=crl)
    assert card.profile.pin_tries_left == 3
    # the same CRL does not stop a card that is not on it
    assert run(make_card(), trust, revocation=crl).ref.serial != cert.serial_number


@pytest.mark.parametrize(
    ("crl_age", "next_update", "max_age"),
    [
        (timedelta(hours=49), timedelta(days=7), timedelta(hours=48)),
        (timedelta(hours=30), timedelta(days=1), timedelta(hours=48)),  # past nextUpdate
        (timedelta(hours=2), timedelta(days=1), timedelta(hours=1)),
    ],
)
def test_revocation_data_too_old(
    make_card: MakeCard,
    trust: TrustStore,
    ca: TestCA,
    crl_age: timedelta,
    next_update: timedelta,
    max_age: timedelta,
) -> None:
    source = CrlRevocationSource(
        [ca.crl(now=NOW - crl_age, next_update=next_update)], max_age=max_age
    )
    with pytest.raises(errors.RevocationDataTooOldError):
        run(make_card(), trust, revocation=source)
    assert source.age(ca.certificate, NOW) == crl_age


def test_revocation_data_from_another_ca_covers_nothing(
    make_card: MakeCard, trust: TrustStore, other_ca_same_name: TestCA
) -> None:
    source = CrlRevocationSource([other_ca_same_name.crl(now=NOW - timedelta(hours=1))])
    with pytest.raises(errors.RevocationUnavailableError):
        run(make_card(), trust, revocation=source)


def test_bad_signature_when_the_card_key_does_not_match_its_certificate(
    make_card: MakeCard, trust: TrustStore, ca: TestCA, base_profile: CardProfile
) -> None:
    other_key = base_profile.sign_key.public_key()
    cert = ca.issue_auth_certificate(other_key, now=NOW - timedelta(days=1))
    with pytest.raises(errors.BadSignatureError):
        run(make_card(auth_certificate=cert), trust)


def test_wrong_pin_reports_tries_left_and_a_right_pin_resets_them(
    make_card: MakeCard, trust: TrustStore
) -> None:
    card = make_card()
    for expected in (2, 1):
        with pytest.raises(errors.WrongPinError) as excinfo:
            run(card, trust, pin=WRONG_PIN)
        assert excinfo.value.tries_left == expected
        assert f"{expected}回" in excinfo.value.message_ja
    run(card, trust)
    assert card.profile.pin_tries_left == 3


def test_pin_locks_after_three_and_stays_locked(make_card: MakeCard, trust: TrustStore) -> None:
    card = make_card()
    for _ in range(2):
        with pytest.raises(errors.WrongPinError):
            run(card, trust, pin=WRONG_PIN)
    with pytest.raises(errors.PinLockedError):
        run(card, trust, pin=WRONG_PIN)  # 63C0
    with pytest.raises(errors.PinLockedError):
        run(card, trust)  # 6984, even with the right PIN
    asked: list[int] = []

    def prompt(tries: int) -> Pin:
        asked.append(tries)
        return Pin(PIN)

    with InProcessConnection(card) as connection, pytest.raises(errors.PinLockedError):
        authenticate(
            JpkiSession(connection),
            prompt,
            CHALLENGE,
            trust=trust,
            clock=clock,
        )
    assert asked == []  # a locked PIN is never asked for
    assert "市区町村" in errors.PinLockedError().message_ja


def test_card_removed_during_sign_then_the_next_card_works(
    make_card: MakeCard, trust: TrustStore
) -> None:
    card = make_card(faults=Faults(remove_on_ins=0x2A))
    with pytest.raises(errors.CardRemovedError):
        run(card, trust)
    card.faults.remove_on_ins = None
    assert run(card, trust).ref.serial == card.profile.auth_certificate.serial_number


def test_sign_message_signs_a_transaction_digest(make_card: MakeCard, trust: TrustStore) -> None:
    with InProcessConnection(make_card()) as connection:
        session = JpkiSession(connection)
        with pytest.raises(errors.PinNotVerifiedError):
            sign_message(session, b"use 500 pt")
        result = authenticate(session, Pin(PIN), CHALLENGE, trust=trust, clock=clock)
        signature = sign_message(session, b"use 500 pt")
    assert verify_card_signature(result.certificate, b"use 500 pt", signature)
    assert not verify_card_signature(result.certificate, b"use 5000 pt", signature)


def test_verify_card_signature_rejects_garbage(make_card: MakeCard, trust: TrustStore) -> None:
    result = run(make_card(), trust)
    assert verify_card_signature(result.certificate_der, CHALLENGE, result.signature)
    assert not verify_card_signature(b"not a certificate", CHALLENGE, result.signature)
    assert not verify_card_signature(result.certificate, CHALLENGE, result.signature[:-1] + b"\0")
    assert not verify_card_signature(result.certificate, CHALLENGE, b"")


def test_validate_certificate_is_pure(base_profile: CardProfile, trust: TrustStore) -> None:
    der = base_profile.auth_certificate.public_bytes(Encoding.DER)
    assert validate_certificate(der, trust, NOW) == CertificateRef.of(base_profile.auth_certificate)
    with pytest.raises(errors.CertificateExpiredError):
        validate_certificate(der, trust, NOW + timedelta(days=365 * 6))


def test_challenge_must_be_long_enough(make_card: MakeCard, trust: TrustStore) -> None:
    card = make_card()
    with InProcessConnection(card) as connection, pytest.raises(ValueError):
        authenticate(JpkiSession(connection), Pin(PIN), b"short", trust=trust, clock=clock)
    assert card.profile.pin_tries_left == 3


def test_trust_store_folder_problems(tmp_path, ca: TestCA) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.TrustStoreError):
        TrustStore.from_directory(tmp_path / "missing")
    with pytest.raises(errors.TrustStoreError):
        TrustStore.from_directory(tmp_path)
    (tmp_path / "ca.der").write_bytes(ca.certificate.public_bytes(Encoding.DER))
    (tmp_path / "notes.txt").write_text("ignored")
    assert TrustStore.from_directory(tmp_path).anchors == [ca.certificate]
    broken = "-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----\n"
    (tmp_path / "broken.pem").write_text(broken)
    with pytest.raises(errors.TrustStoreError):
        TrustStore.from_directory(tmp_path)


@pytest.mark.parametrize(
    "error",
    [
        errors.NoReaderError(),
        errors.ReaderUnpluggedError(),
        errors.CardRemovedError(),
        errors.NotMyNumberCardError(),
        errors.WrongPinError(2),
        errors.PinLockedError(),
        errors.CertificateExpiredError(),
        errors.CertificateRevokedError(),
        errors.UnknownIssuerError(),
        errors.RevocationDataTooOldError(),
        errors.BadSignatureError(),
    ],
)
def test_every_failure_has_a_code_and_two_languages(error: errors.CardError) -> None:
    assert error.code and error.code != errors.CardError.code
    ja, en = error.user_lines()
    assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in ja)
    assert en.isascii() and en


def test_signing_after_authentication_does_not_depend_on_reselect_behaviour(
    make_card: MakeCard, trust: TrustStore
) -> None:
    card = make_card(faults=Faults(reselect_clears_pin=True))
    with InProcessConnection(card) as connection:
        session = JpkiSession(connection)
        result = authenticate(session, Pin(PIN), CHALLENGE, trust=trust, clock=clock)
        signature = sign_message(session, b"transaction digest")
    assert verify_card_signature(result.certificate, b"transaction digest", signature)
