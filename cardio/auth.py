"""Authenticate a My Number Card: certificate checks, then proof of possession of its key.

The pure parts (``verify_card_signature``, ``TrustStore``, ``validate_certificate``,
``CertificateRef``) need no reader and are what the ledger server imports. The card parts are
split so a UI can check the certificate on tap, show tries left, and only then ask for the PIN:
``inspect_card`` (no PIN) -> ``JpkiSession.pin_tries_left`` -> ``prove_possession`` (PIN, sign).
``authenticate`` does all of it in one call.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtensionOID

from cardio.errors import (
    BadSignatureError,
    CertificateExpiredError,
    CertificateNotYetValidError,
    CertificateUsageError,
    PinLockedError,
    TrustStoreError,
    UnknownIssuerError,
)
from cardio.errors import CardError as CardError  # re-exported: the failures this API raises
from cardio.revocation import RevocationSource, RevocationStatus
from cardio.secrets import Pin

if TYPE_CHECKING:
    from cardio.jpki import JpkiSession

log = logging.getLogger(__name__)

#: certificatePolicies OID of the JPKI user-authentication certificate.
JPKI_AUTH_POLICY_OID = "1.2.392.200149.8.5.1.3.30"
#: DER prefix of a SHA-256 DigestInfo; the hash (32 bytes) follows.
SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
#: Shortest challenge accepted (bytes); challenges must be fresh and unpredictable.
MIN_CHALLENGE_LENGTH = 16

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock (timezone-aware UTC)."""
    return datetime.now(UTC)


def sha256_digest_info(message: bytes) -> bytes:
    """DER DigestInfo of SHA-256(message): what the card signs."""
    return SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(message).digest()


def _as_certificate(certificate: x509.Certificate | bytes) -> x509.Certificate:
    """The certificate object; bytes that are no X.509 certificate raise a typed CardError."""
    if isinstance(certificate, x509.Certificate):
        return certificate
    try:
        return x509.load_der_x509_certificate(bytes(certificate))
    except (ValueError, x509.InvalidVersion) as exc:
        raise CertificateUsageError(f"not a DER X.509 certificate: {exc}") from exc


def verify_card_signature(
    certificate: x509.Certificate | bytes, message: bytes, signature: bytes
) -> bool:
    """True when ``signature`` is the certificate key's RSA PKCS#1 v1.5 SHA-256 over ``message``.

    Pure (no reader); ``certificate`` may be DER bytes. Malformed input gives False.
    """
    try:
        key = _as_certificate(certificate).public_key()
    except (ValueError, TypeError, CertificateUsageError):
        return False
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class CertificateRef:
    """How the rest of the system names a card's certificate."""

    issuer: str  # RFC 4514
    serial: int
    fingerprint_sha256: str  # lowercase hex of SHA-256 over the DER

    @classmethod
    def of(cls, certificate: x509.Certificate | bytes) -> CertificateRef:
        """The reference of a certificate (object or DER)."""
        cert = _as_certificate(certificate)
        return cls(
            issuer=cert.issuer.rfc4514_string(),
            serial=cert.serial_number,
            fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
        )


def _load_certificates(path: Path) -> list[x509.Certificate]:
    data = path.read_bytes()
    if b"-----BEGIN CERTIFICATE-----" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


class TrustStore:
    """Trust anchors (the CA certificates that issue user-authentication certificates)."""

    SUFFIXES = (".pem", ".crt", ".cer", ".der")

    def __init__(self, anchors: Iterable[x509.Certificate]) -> None:
        self.anchors = list(anchors)

    @classmethod
    def from_certificates(cls, certificates: Iterable[x509.Certificate]) -> TrustStore:
        """Trust exactly these certificates."""
        return cls(certificates)

    @classmethod
    def from_directory(cls, path: Path) -> TrustStore:
        """Load every PEM/DER certificate file (.pem .crt .cer .der) in ``path``."""
        path = Path(path)
        if not path.is_dir():
            raise TrustStoreError(f"trust folder {path} does not exist")
        anchors: list[x509.Certificate] = []
        for file in sorted(path.iterdir()):
            if file.suffix.lower() not in cls.SUFFIXES or not file.is_file():
                continue
            try:
                anchors.extend(_load_certificates(file))
            except (OSError, ValueError) as exc:
                raise TrustStoreError(f"cannot read trust anchor {file}: {exc}") from exc
        if not anchors:
            raise TrustStoreError(f"no certificates in trust folder {path}")
        log.debug("trust store: %d anchors from %s", len(anchors), path)
        return cls(anchors)

    def issuer_of(self, certificate: x509.Certificate) -> x509.Certificate | None:
        """The anchor whose key verifies ``certificate``'s signature (names alone never decide:
        two CA generations share one DN)."""
        for anchor in self.anchors:
            try:
                certificate.verify_directly_issued_by(anchor)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return anchor
        return None

    def issuer_of_crl(self, crl: x509.CertificateRevocationList) -> x509.Certificate | None:
        """The anchor whose key verifies ``crl``'s signature, if any (again by key, not name)."""
        for anchor in self.anchors:
            key = anchor.public_key()
            if isinstance(key, rsa.RSAPublicKey) and crl.is_signature_valid(key):
                return anchor
        return None


@dataclass(frozen=True)
class ValidatedCertificate:
    """A certificate that passed every check at ``checked_at``."""

    certificate: x509.Certificate
    issuer: x509.Certificate
    ref: CertificateRef
    checked_at: datetime
    revocation: RevocationStatus | None


def check_certificate(
    certificate: x509.Certificate | bytes,
    trust: TrustStore,
    at: datetime,
    revocation: RevocationSource | None = None,
) -> ValidatedCertificate:
    """Run every certificate check and return the details; raises a typed ``CardError``.

    Order: issuer (by signature), validity at ``at``, keyUsage digitalSignature, the JPKI
    user-authentication policy, then revocation (skipped when ``revocation`` is None).
    cryptography parses certificate fields lazily, so a malformed field can surface as a
    ValueError or TypeError at any step: that is a certificate we cannot use, a typed error.
    """
    if at.tzinfo is None:
        raise ValueError("the check time must be timezone-aware")
    try:
        return _check_certificate(_as_certificate(certificate), trust, at, revocation)
    except (ValueError, TypeError) as exc:
        raise CertificateUsageError(f"unreadable certificate field: {exc}") from exc


def _check_certificate(
    cert: x509.Certificate,
    trust: TrustStore,
    at: datetime,
    revocation: RevocationSource | None,
) -> ValidatedCertificate:
    issuer = trust.issuer_of(cert)
    if issuer is None:
        raise UnknownIssuerError(f"issuer {cert.issuer.rfc4514_string()} not among anchors")
    if at < cert.not_valid_before_utc:
        raise CertificateNotYetValidError(f"notBefore {cert.not_valid_before_utc.isoformat()}")
    if at > cert.not_valid_after_utc:
        raise CertificateExpiredError(f"notAfter {cert.not_valid_after_utc.isoformat()}")
    if not (issuer.not_valid_before_utc <= at <= issuer.not_valid_after_utc):
        raise UnknownIssuerError("the issuing CA certificate is not valid at this time")
    if not isinstance(cert.public_key(), rsa.RSAPublicKey):
        raise CertificateUsageError("the certificate key is not RSA")
    try:
        usage = cert.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value
        digital_signature = isinstance(usage, x509.KeyUsage) and usage.digital_signature
    except x509.ExtensionNotFound:
        digital_signature = False
    if not digital_signature:
        raise CertificateUsageError("keyUsage lacks digitalSignature")
    try:
        policies = cert.extensions.get_extension_for_oid(ExtensionOID.CERTIFICATE_POLICIES).value
    except x509.ExtensionNotFound:
        policies = None
    policy_oids = (
        {p.policy_identifier.dotted_string for p in policies}
        if isinstance(policies, x509.CertificatePolicies)
        else set()
    )
    if JPKI_AUTH_POLICY_OID not in policy_oids:
        raise CertificateUsageError("no JPKI user-authentication policy")
    status = None if revocation is None else revocation.check(cert, issuer, at)
    return ValidatedCertificate(cert, issuer, CertificateRef.of(cert), at, status)


def validate_certificate(
    certificate: x509.Certificate | bytes,
    trust: TrustStore,
    at: datetime,
    revocation: RevocationSource | None = None,
) -> CertificateRef:
    """Check a user-authentication certificate (pure) and return its reference."""
    return check_certificate(certificate, trust, at, revocation).ref


@dataclass(frozen=True)
class CheckedCard:
    """A card whose certificate was read and checked; no PIN has been used yet."""

    certificate_der: bytes
    validated: ValidatedCertificate

    @property
    def ref(self) -> CertificateRef:
        """The certificate's reference."""
        return self.validated.ref


@dataclass(frozen=True)
class AuthenticatedCard:
    """A card that proved possession of its certified key by signing ``challenge``."""

    certificate: x509.Certificate
    certificate_der: bytes
    ref: CertificateRef
    challenge: bytes
    signature: bytes
    revocation: RevocationStatus | None


#: Called with the tries left (> 0) after the certificate checks; returns the PIN the holder typed.
PinPrompt = Callable[[int], Pin]


def inspect_card(
    session: JpkiSession,
    *,
    trust: TrustStore,
    clock: Clock = utc_now,
    revocation: RevocationSource | None = None,
) -> CheckedCard:
    """Select the JPKI AP, read and check the user-authentication certificate (no PIN).

    A certificate that matches the session's cache from its first chunk needs no label check
    (it was validated on a My Number Card before); otherwise the EF 0006 label is checked first.
    """
    session.select_ap()
    der = session.read_auth_certificate()
    if not session.last_read_was_cached:
        session.check_label()
    validated = check_certificate(der, trust, clock(), revocation)
    return CheckedCard(der, validated)


def prove_possession(
    session: JpkiSession, card: CheckedCard, pin: Pin | PinPrompt, challenge: bytes
) -> AuthenticatedCard:
    """Verify the PIN, have the card sign ``challenge`` and check that signature.

    ``pin`` may be a ``PinPrompt``: then the tries left are read first (a locked PIN raises
    ``PinLockedError`` without asking) and the prompt is called with them.
    """
    if len(challenge) < MIN_CHALLENGE_LENGTH:
        raise ValueError(f"a challenge needs at least {MIN_CHALLENGE_LENGTH} bytes")
    if not isinstance(pin, Pin):
        tries = session.pin_tries_left()
        if tries <= 0:
            raise PinLockedError("tries left 0 before asking")
        pin = pin(tries)
    session.verify_pin(pin).raise_for_status()
    signature = session.sign(sha256_digest_info(challenge))
    if not verify_card_signature(card.validated.certificate, challenge, signature):
        raise BadSignatureError("challenge signature does not verify with the certificate")
    session.remember_certificate(card.certificate_der)
    log.info("card authenticated: serial %d", card.ref.serial)
    return AuthenticatedCard(
        certificate=card.validated.certificate,
        certificate_der=card.certificate_der,
        ref=card.ref,
        challenge=challenge,
        signature=signature,
        revocation=card.validated.revocation,
    )


def authenticate(
    session: JpkiSession,
    pin: Pin | PinPrompt,
    challenge: bytes,
    *,
    trust: TrustStore,
    clock: Clock = utc_now,
    revocation: RevocationSource | None = None,
) -> AuthenticatedCard:
    """Read and check the certificate, then verify the PIN and check a signature over
    ``challenge``. Certificate problems are found before the PIN is spent."""
    card = inspect_card(session, trust=trust, clock=clock, revocation=revocation)
    return prove_possession(session, card, pin, challenge)


def sign_message(session: JpkiSession, message: bytes) -> bytes:
    """The card's signature over DigestInfo(SHA-256(message)); the PIN must be verified."""
    return session.sign(sha256_digest_info(message))
