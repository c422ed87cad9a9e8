"""The test CA issues JPKI-shaped certificates, renewals, revocations and CRLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from cardio.virtual.ca import JPKI_AUTH_POLICY_OID, TestCA, add_years, fingerprint
from cardio.virtual.errors import FolderInUseError, ForeignCertificateError, PinFormatError
from cardio.virtual.profile import CardProfile


def policies(certificate: x509.Certificate) -> list[str]:
    extension = certificate.extensions.get_extension_for_class(x509.CertificatePolicies)
    return [info.policy_identifier.dotted_string for info in extension.value]


def test_user_auth_certificate_has_the_jpki_shape(profile: CardProfile) -> None:
    certificate = profile.auth_certificate
    subject = certificate.subject
    assert [a.oid for a in subject] == [NameOID.COUNTRY_NAME, NameOID.COMMON_NAME]
    assert subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "JP"
    cn = str(subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
    assert len(cn) == 23 and cn.isalnum()
    key = certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert (key.key_size, key.public_numbers().e) == (2048, 65537)
    assert certificate.signature_algorithm_oid == x509.SignatureAlgorithmOID.RSA_WITH_SHA256
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature
    assert not (usage.value.key_cert_sign or usage.value.key_encipherment)
    assert policies(certificate) == [JPKI_AUTH_POLICY_OID]
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    assert end == add_years(start, 5)
    certificate.verify_directly_issued_by(profile.auth_ca_certificate)
    assert certificate.public_key() == profile.auth_key.public_key()


def test_issuer_is_shaped_like_jlis_but_never_names_it(fresh_ca: TestCA) -> None:
    issuer = fresh_ca.certificate.subject
    assert issuer == fresh_ca.certificate.issuer  # a root
    assert issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "JPKI-TEST"
    units = [a.value for a in issuer.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
    assert len(units) == 2
    text = issuer.rfc4514_string()
    assert "O=JPKI," not in text and "Japan Agency" not in text
    constraints = fresh_ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca


def test_trust_folder_holds_only_the_ca_certificate(fresh_ca: TestCA) -> None:
    files = list(fresh_ca.trust_directory.iterdir())
    assert len(files) == 1
    assert x509.load_pem_x509_certificate(files[0].read_bytes()) == fresh_ca.certificate


def test_signing_side_is_issued_by_its_own_ca(profile: CardProfile) -> None:
    profile.sign_certificate.verify_directly_issued_by(profile.sign_ca_certificate)
    assert profile.sign_certificate.public_key() == profile.sign_key.public_key()
    assert profile.sign_ca_certificate.subject != profile.auth_ca_certificate.subject
    assert JPKI_AUTH_POLICY_OID not in policies(profile.sign_certificate)


def test_deliberately_bad_certificates(fresh_ca: TestCA, profile: CardProfile) -> None:
    public = profile.auth_key.public_key()
    now = datetime(2030, 1, 1, tzinfo=UTC)
    expired = fresh_ca.issue_auth_certificate(
        public, not_before=now - timedelta(days=400), not_after=now - timedelta(days=1)
    )
    assert expired.not_valid_after_utc < now
    no_signature = fresh_ca.issue_auth_certificate(public, key_usage_digital_signature=False)
    usage = no_signature.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and not usage.value.digital_signature
    wrong_policy = fresh_ca.issue_auth_certificate(public, policy=False)
    assert JPKI_AUTH_POLICY_OID not in policies(wrong_policy)
    for certificate in (expired, no_signature, wrong_policy):
        certificate.verify_directly_issued_by(fresh_ca.certificate)


def test_revoked_serial_is_listed_in_a_signed_crl(fresh_ca: TestCA, profile: CardProfile) -> None:
    first = fresh_ca.crl()
    assert len(first) == 0
    fresh_ca.revoke(profile.auth_certificate)
    fresh_ca.revoke(profile.auth_certificate)  # idempotent
    now = datetime.now(UTC)
    crl = TestCA.load(fresh_ca.directory).crl(now=now, next_update=timedelta(hours=6))
    assert crl.is_signature_valid(fresh_ca.private_key.public_key())
    assert crl.issuer == fresh_ca.certificate.subject
    assert [r.serial_number for r in crl] == [profile.auth_certificate.serial_number]
    assert crl.get_revoked_certificate_by_serial_number(profile.auth_certificate.serial_number)
    assert crl.next_update_utc is not None
    assert crl.next_update_utc - crl.last_update_utc == timedelta(hours=6)
    numbers = [
        c.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number for c in (first, crl)
    ]
    assert numbers[1] > numbers[0]
    assert fresh_ca.revoked()[0]["fingerprint_sha256"] == fingerprint(profile.auth_certificate)


def test_revoking_a_foreign_certificate_is_refused(fresh_ca: TestCA, profile: CardProfile) -> None:
    with pytest.raises(ForeignCertificateError):
        fresh_ca.revoke(profile.sign_certificate)  # issued by the signing-side CA
    assert fresh_ca.revoked() == []


def test_renewal_keeps_the_person_and_records_the_link(
    fresh_ca: TestCA, profile: CardProfile, tmp_path: Path
) -> None:
    renewed = fresh_ca.issue_card(tmp_path / "renewed", "2468", renew_from=profile)
    assert renewed.person_id == profile.person_id
    assert renewed.renewed_from_serial == profile.auth_certificate.serial_number
    assert renewed.auth_certificate.serial_number != profile.auth_certificate.serial_number
    assert renewed.auth_key.public_key() != profile.auth_key.public_key()
    assert CardProfile.load(renewed.directory).person_id == profile.person_id
    links = TestCA.load(fresh_ca.directory).renewals()
    assert len(links) == 1
    link = links[0]
    assert link["person_id"] == profile.person_id
    assert link["old"]["serial"] == profile.auth_certificate.serial_number
    assert link["new"]["serial"] == renewed.auth_certificate.serial_number
    assert link["new"]["fingerprint_sha256"] == fingerprint(renewed.auth_certificate)
    assert link["old"]["issuer"] == profile.auth_certificate.issuer.rfc4514_string()


def test_new_cards_are_different_people(
    fresh_ca: TestCA, profile: CardProfile, tmp_path: Path
) -> None:
    other = fresh_ca.issue_card(tmp_path / "other", "1357")
    assert other.person_id != profile.person_id
    assert fresh_ca.renewals() == []


def test_issue_card_never_overwrites_a_folder(
    fresh_ca: TestCA, profile: CardProfile, tmp_path: Path
) -> None:
    before = profile.auth_certificate
    with pytest.raises(FolderInUseError):
        fresh_ca.issue_card(profile.directory, "1111")
    assert CardProfile.load(profile.directory).auth_certificate == before


@pytest.mark.parametrize("bad", ["123", "12345", "12a4", "１２３４", " 123", ""])
def test_issue_card_refuses_a_malformed_pin(fresh_ca: TestCA, tmp_path: Path, bad: str) -> None:
    with pytest.raises(PinFormatError) as caught:
        fresh_ca.issue_card(tmp_path / "card", bad)
    assert not (tmp_path / "card").exists()
    if bad.strip():
        assert bad not in str(caught.value) + caught.value.message_ja


def test_ca_init_never_overwrites(fresh_ca: TestCA) -> None:
    with pytest.raises(FolderInUseError):
        TestCA.init(fresh_ca.directory)
    assert TestCA.load(fresh_ca.directory).certificate == fresh_ca.certificate


def test_add_years_handles_29_february() -> None:
    leap = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert add_years(leap, 5) == datetime(2033, 2, 28, 12, 0, tzinfo=UTC)
