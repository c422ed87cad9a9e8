"""The test CA: issues virtual cards' certificates, renewals, revocations and CRLs.

Its DN is shaped like J-LIS's user-authentication CA but says ``O=JPKI-TEST`` (never the real
organisation's name), so nothing it issues can be mistaken for a real card. Layout of a CA folder
(private files 0600)::

    ca.json                     format, next CRL number
    auth_ca_key.pem             user-authentication CA key
    auth_ca_cert.pem            user-authentication CA certificate (self-signed root)
    sign_ca_key.pem             signing-side CA key (dummy contents for EF 0002)
    sign_ca_cert.pem            signing-side CA certificate
    revoked.json                revoked user-auth certificates: serial, date, fingerprint
    renewals.json               renewal links old -> new certificate of the same person
    trust/jpki-test-auth-ca.pem the trust anchor alone, for ``mykey card auth --trust DIR``

User-authentication certificates: subject ``C=JP, CN=<23-char opaque id>``, RSA 2048,
sha256WithRSAEncryption, keyUsage critical digitalSignature, certificatePolicies
``1.2.392.200149.8.5.1.3.30``, valid 5 years (capped at the CA's own expiry).
"""

from __future__ import annotations

import json
import secrets
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from cardio.virtual.errors import (
    FolderInUseError,
    ForeignCertificateError,
    MissingFolderError,
)
from cardio.virtual.profile import (
    AUTH_PIN_MAX_TRIES,
    SIGN_PASSWORD_MAX_TRIES,
    CardProfile,
    cert_pem,
    check_pin,
    check_sign_password,
    folder_is_free,
    key_pem,
    load_cert,
    load_key,
    write_json,
    write_private_file,
)

JPKI_AUTH_POLICY_OID = "1.2.392.200149.8.5.1.3.30"
#: policy OID put on the dummy signing-side certificates (not the user-auth policy)
TEST_SIGN_POLICY_OID = "1.2.392.200149.8.5.1.1.10"
#: a policy OID that is neither JPKI policy, for certificates made deliberately wrong
WRONG_POLICY_OID = "1.3.6.1.4.1.99999.1"

RSA_BITS = 2048
CA_FORMAT = 1
CARD_VALIDITY_YEARS = 5
CA_VALIDITY_YEARS = 20
CN_LENGTH = 23
_CN_ALPHABET = string.digits + string.ascii_uppercase


def _ca_name(purpose: str) -> x509.Name:
    """The DN of a JPKI-TEST CA: ``C=JP, O=JPKI-TEST, OU=JPKI-TEST for <purpose>, OU=…``."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI-TEST"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"JPKI-TEST for {purpose}"),
            x509.NameAttribute(
                NameOID.ORGANIZATIONAL_UNIT_NAME,
                "Test Agency for Local Authority Information Systems",
            ),
        ]
    )


AUTH_CA_NAME = _ca_name("user authentication")
SIGN_CA_NAME = _ca_name("digital signature")
CRL_URL = "http://crl.jpki-test.invalid/user-auth.crl"
OCSP_URL = "http://ocsp.jpki-test.invalid/"


def new_rsa_key() -> rsa.RSAPrivateKey:
    """A fresh RSA 2048 key with e = 65537."""
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)


def opaque_id() -> str:
    """A 23-character opaque issuance id (A-Z, 0-9) for a certificate's CN."""
    return "".join(secrets.choice(_CN_ALPHABET) for _ in range(CN_LENGTH))


def add_years(moment: datetime, years: int) -> datetime:
    """``moment`` plus whole calendar years (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def fingerprint(certificate: x509.Certificate) -> str:
    """Lowercase hex SHA-256 of the certificate's DER."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def _now(now: datetime | None) -> datetime:
    moment = datetime.now(UTC) if now is None else now
    if moment.tzinfo is None:
        raise ValueError("give an aware datetime")
    return moment.astimezone(UTC).replace(microsecond=0)


def _serial() -> int:
    # 63 random bits with the top bit set: positive, always 8 DER bytes
    return secrets.randbits(62) | (1 << 62)


def _ca_certificate(name: x509.Name, key: rsa.RSAPrivateKey, now: datetime) -> x509.Certificate:
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(_serial())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(add_years(now, CA_VALIDITY_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _key_usage(*, digital_signature: bool, non_repudiation: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=non_repudiation,
        # a certificate made without digitalSignature still needs some usage bit
        key_encipherment=not (digital_signature or non_repudiation),
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _read_json(path: Path, default: Any) -> Any:
    if not path.exists():
        return default
    return json.loads(path.read_text(encoding="utf-8"))


class TestCA:
    """A JPKI-shaped test CA kept in a folder: ``init`` once, ``load`` afterwards."""

    __test__ = False  # not a pytest test class despite its name

    def __init__(
        self,
        directory: Path,
        certificate: x509.Certificate,
        private_key: rsa.RSAPrivateKey,
        sign_ca_certificate: x509.Certificate,
        sign_ca_key: rsa.RSAPrivateKey,
    ) -> None:
        self.directory = Path(directory)
        self.certificate = certificate
        self.private_key = private_key
        self.sign_ca_certificate = sign_ca_certificate
        self.sign_ca_key = sign_ca_key

    def __repr__(self) -> str:
        return f"TestCA({str(self.directory)!r})"

    # -- folder ---------------------------------------------------------------------------

    @classmethod
    def init(cls, directory: Path, *, now: datetime | None = None) -> TestCA:
        """Create a new CA in ``directory`` (must be absent or empty; nothing is overwritten)."""
        directory = Path(directory)
        if not folder_is_free(directory):
            raise FolderInUseError("ファイル", "files", str(directory))
        moment = _now(now)
        key, sign_key = new_rsa_key(), new_rsa_key()
        ca = cls(
            directory,
            _ca_certificate(AUTH_CA_NAME, key, moment),
            key,
            _ca_certificate(SIGN_CA_NAME, sign_key, moment),
            sign_key,
        )
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private_file(directory / "auth_ca_key.pem", key_pem(key))
        write_private_file(directory / "auth_ca_cert.pem", cert_pem(ca.certificate))
        write_private_file(directory / "sign_ca_key.pem", key_pem(sign_key))
        write_private_file(directory / "sign_ca_cert.pem", cert_pem(ca.sign_ca_certificate))
        write_private_file(directory / "trust" / "jpki-test-auth-ca.pem", cert_pem(ca.certificate))
        write_json(directory / "revoked.json", [])
        write_json(directory / "renewals.json", [])
        write_json(directory / "ca.json", {"format": CA_FORMAT, "next_crl_number": 1})
        return ca

    @classmethod
    def load(cls, directory: Path) -> TestCA:
        """Open an existing CA folder; raises ``MissingFolderError`` when it is not one."""
        directory = Path(directory)
        try:
            meta = json.loads((directory / "ca.json").read_text(encoding="utf-8"))
            if not isinstance(meta, dict) or "format" not in meta:
                raise KeyError("format")
            return cls(
                directory,
                load_cert(directory / "auth_ca_cert.pem"),
                load_key(directory / "auth_ca_key.pem"),
                load_cert(directory / "sign_ca_cert.pem"),
                load_key(directory / "sign_ca_key.pem"),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            detail = type(exc).__name__
            if isinstance(exc, OSError) and exc.filename:
                detail = f"{detail}: {Path(exc.filename).name}"
            raise MissingFolderError("テスト認証局", "test CA", str(directory), detail) from None

    @property
    def trust_directory(self) -> Path:
        """A folder holding only the CA certificate: the trust anchor for the host side."""
        return self.directory / "trust"

    # -- certificates ---------------------------------------------------------------------

    def issue_auth_certificate(
        self,
        public_key: rsa.RSAPublicKey,
        *,
        now: datetime | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        key_usage_digital_signature: bool = True,
        policy: bool = True,
        common_name: str | None = None,
    ) -> x509.Certificate:
        """A user-authentication certificate; the keyword switches make deliberately bad ones.

        ``key_usage_digital_signature=False`` gives keyUsage keyEncipherment only;
        ``policy=False`` gives a certificatePolicies extension with a foreign OID.
        """
        moment = _now(now)
        start = moment if not_before is None else _now(not_before)
        end = add_years(start, CARD_VALIDITY_YEARS) if not_after is None else _now(not_after)
        if not_after is None:
            end = min(end, self.certificate.not_valid_after_utc)
        policy_oid = JPKI_AUTH_POLICY_OID if policy else WRONG_POLICY_OID
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name or opaque_id()),
            ]
        )
        return self._end_entity(
            subject,
            public_key,
            start,
            end,
            _key_usage(digital_signature=key_usage_digital_signature),
            policy_oid,
            self.certificate,
            self.private_key,
        )

    def _sign_certificate(self, public_key: rsa.RSAPublicKey, now: datetime) -> x509.Certificate:
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"JPKI-TEST SIGNER {opaque_id()}"),
            ]
        )
        end = min(add_years(now, CARD_VALIDITY_YEARS), self.sign_ca_certificate.not_valid_after_utc)
        return self._end_entity(
            subject,
            public_key,
            now,
            end,
            _key_usage(digital_signature=True, non_repudiation=True),
            TEST_SIGN_POLICY_OID,
            self.sign_ca_certificate,
            self.sign_ca_key,
        )

    @staticmethod
    def _end_entity(
        subject: x509.Name,
        public_key: rsa.RSAPublicKey,
        start: datetime,
        end: datetime,
        key_usage: x509.KeyUsage,
        policy_oid: str,
        issuer: x509.Certificate,
        issuer_key: rsa.RSAPrivateKey,
    ) -> x509.Certificate:
        policies = x509.CertificatePolicies(
            [x509.PolicyInformation(x509.ObjectIdentifier(policy_oid), None)]
        )
        crl_point = x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(CRL_URL)],
            relative_name=None,
            reasons=None,
            crl_issuer=None,
        )
        ocsp = x509.AccessDescription(
            x509.oid.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(OCSP_URL)
        )
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.subject)
            .public_key(public_key)
            .serial_number(_serial())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(key_usage, critical=True)
            .add_extension(policies, critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.CRLDistributionPoints([crl_point]), critical=False)
            .add_extension(x509.AuthorityInformationAccess([ocsp]), critical=False)
            .sign(issuer_key, hashes.SHA256())
        )

    # -- cards ----------------------------------------------------------------------------

    def issue_card(
        self,
        profile_dir: Path,
        pin: str,
        *,
        now: datetime | None = None,
        renew_from: CardProfile | None = None,
        sign_password: str | None = None,
    ) -> CardProfile:
        """Make a new card profile in ``profile_dir`` (absent or empty) and return it.

        With ``renew_from`` the new card belongs to the same person: the profile keeps the
        person id and the CA records the link old certificate -> new certificate in
        ``renewals.json``. The old certificate is not revoked (call ``revoke`` for that).
        A signing password is generated when none is given.
        """
        check_pin(pin)
        password = sign_password if sign_password is not None else _new_sign_password()
        check_sign_password(password)
        profile_dir = Path(profile_dir)
        if not folder_is_free(profile_dir):
            raise FolderInUseError("ファイル", "files", str(profile_dir))
        moment = _now(now)
        auth_key, sign_key = new_rsa_key(), new_rsa_key()
        profile = CardProfile(
            directory=profile_dir,
            auth_key=auth_key,
            auth_certificate=self.issue_auth_certificate(auth_key.public_key(), now=moment),
            auth_ca_certificate=self.certificate,
            sign_key=sign_key,
            sign_certificate=self._sign_certificate(sign_key.public_key(), moment),
            sign_ca_certificate=self.sign_ca_certificate,
            pin=pin,
            pin_tries_left=AUTH_PIN_MAX_TRIES,
            sign_password=password,
            sign_password_tries_left=SIGN_PASSWORD_MAX_TRIES,
            person_id=renew_from.person_id if renew_from else secrets.token_hex(16),
            renewed_from_serial=renew_from.auth_certificate.serial_number if renew_from else None,
        )
        profile.save()
        if renew_from is not None:
            self._record_renewal(renew_from, profile, moment)
        return profile

    def _record_renewal(self, old: CardProfile, new: CardProfile, now: datetime) -> None:
        links = self.renewals()
        links.append(
            {
                "person_id": new.person_id,
                "renewed_at": now.isoformat(),
                "old": _certificate_ref(old.auth_certificate),
                "new": _certificate_ref(new.auth_certificate),
            }
        )
        write_json(self.directory / "renewals.json", links)

    def renewals(self) -> list[dict[str, Any]]:
        """Renewal links, oldest first: ``person_id``, ``renewed_at``, ``old`` and ``new``
        (each ``issuer`` RFC 4514, ``serial`` int, ``fingerprint_sha256`` lowercase hex)."""
        links: list[dict[str, Any]] = _read_json(self.directory / "renewals.json", [])
        return links

    # -- revocation -----------------------------------------------------------------------

    def _check_issued_here(self, certificate: x509.Certificate) -> None:
        try:
            certificate.verify_directly_issued_by(self.certificate)
        except (ValueError, TypeError, InvalidSignature):
            raise ForeignCertificateError() from None

    def revoke(self, certificate: x509.Certificate, *, now: datetime | None = None) -> None:
        """Put ``certificate`` on the revoked list (idempotent)."""
        self._check_issued_here(certificate)
        entries = self.revoked()
        if any(entry["serial"] == certificate.serial_number for entry in entries):
            return
        entries.append(
            {
                "serial": certificate.serial_number,
                "revoked_at": _now(now).isoformat(),
                "fingerprint_sha256": fingerprint(certificate),
            }
        )
        write_json(self.directory / "revoked.json", entries)

    def revoked(self) -> list[dict[str, Any]]:
        """The revoked list: ``serial`` int, ``revoked_at`` ISO 8601, ``fingerprint_sha256``."""
        entries: list[dict[str, Any]] = _read_json(self.directory / "revoked.json", [])
        return entries

    def crl(
        self, *, now: datetime | None = None, next_update: timedelta = timedelta(days=1)
    ) -> x509.CertificateRevocationList:
        """A fresh CRL signed by the user-auth CA; each call takes the next CRL number."""
        moment = _now(now)
        state = _read_json(self.directory / "ca.json", {"format": CA_FORMAT})
        number = int(state.get("next_crl_number", 1))
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(moment)
            .next_update(moment + next_update)
            .add_extension(x509.CRLNumber(number), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.private_key.public_key()),
                critical=False,
            )
        )
        for entry in self.revoked():
            revoked_at = datetime.fromisoformat(entry["revoked_at"])
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(int(entry["serial"]))
                .revocation_date(revoked_at)
                .build()
            )
        crl = builder.sign(self.private_key, hashes.SHA256())
        state["next_crl_number"] = number + 1
        write_json(self.directory / "ca.json", state)
        return crl


def _certificate_ref(certificate: x509.Certificate) -> dict[str, Any]:
    return {
        "issuer": certificate.issuer.rfc4514_string(),
        "serial": certificate.serial_number,
        "fingerprint_sha256": fingerprint(certificate),
    }


def _new_sign_password() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(10))
