"""Revocation checking behind one small interface, with a CRL-based implementation.

A ``RevocationSource`` answers "is this certificate revoked, and how old is the data you used?".
The CRL implementation is what terminals use with the ledger server's snapshot (and tests with the
test CA's CRL); an operator's OCSP API can replace it without touching ``auth``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from cardio.errors import (
    CardError,
    CertificateRevokedError,
    RevocationDataTooOldError,
    RevocationUnavailableError,
)

log = logging.getLogger(__name__)

#: Revocation data older than this is refused (DOMAIN.md: no acceptance beyond 48 h).
DEFAULT_MAX_AGE = timedelta(hours=48)


@dataclass(frozen=True)
class RevocationStatus:
    """The answer for one certificate: not revoked, based on data issued at ``data_time``."""

    data_time: datetime
    age: timedelta
    source: str


class RevocationSource(Protocol):
    """Anything that can check a certificate against current revocation data."""

    def check(
        self, certificate: x509.Certificate, issuer: x509.Certificate, at: datetime
    ) -> RevocationStatus:
        """Return the status, or raise ``CertificateRevokedError``,
        ``RevocationDataTooOldError`` or ``RevocationUnavailableError``."""
        ...


class RevocationFileError(CardError):
    """A CRL file could not be read or parsed."""

    code = "revocation-data-unreadable"
    message_ja = "失効情報のファイルを読み込めません。"
    message_en = "The revocation data file cannot be read."


def load_crl(path: Path) -> x509.CertificateRevocationList:
    """Read a CRL in PEM or DER form."""
    try:
        data = path.read_bytes()
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except (OSError, ValueError) as exc:
        raise RevocationFileError(f"{path}: {exc}") from exc


class CrlRevocationSource:
    """Checks certificates against CRLs whose signature verifies with the issuer's key.

    Data is too old when its ``thisUpdate`` is more than ``max_age`` before the check time, or
    (with ``honour_next_update``) when the check time is past the CRL's ``nextUpdate``.
    The CRLs are fixed at construction (new data means a new source).
    """

    def __init__(
        self,
        crls: Iterable[x509.CertificateRevocationList],
        *,
        max_age: timedelta = DEFAULT_MAX_AGE,
        honour_next_update: bool = True,
    ) -> None:
        self.crls = list(crls)
        self.max_age = max_age
        self.honour_next_update = honour_next_update
        # issuer -> its newest CRL: the signatures are checked once, not on every card
        self._crl_by_issuer: dict[x509.Certificate, x509.CertificateRevocationList | None] = {}

    @classmethod
    def from_files(
        cls,
        paths: Iterable[Path],
        *,
        max_age: timedelta = DEFAULT_MAX_AGE,
        honour_next_update: bool = True,
    ) -> CrlRevocationSource:
        """Load CRLs from PEM or DER files."""
        crls = [load_crl(Path(p)) for p in paths]
        return cls(crls, max_age=max_age, honour_next_update=honour_next_update)

    def _crl_for(self, issuer: x509.Certificate) -> x509.CertificateRevocationList | None:
        """The newest CRL signed by ``issuer`` (by signature, not by name alone)."""
        if issuer not in self._crl_by_issuer:
            self._crl_by_issuer[issuer] = self._newest_signed_by(issuer)
        return self._crl_by_issuer[issuer]

    def _newest_signed_by(self, issuer: x509.Certificate) -> x509.CertificateRevocationList | None:
        key = issuer.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            return None
        matching = [
            crl for crl in self.crls if crl.issuer == issuer.subject and crl.is_signature_valid(key)
        ]
        return max(matching, key=lambda c: c.last_update_utc, default=None)

    def age(self, issuer: x509.Certificate, at: datetime) -> timedelta | None:
        """How old the data for ``issuer`` is at ``at`` (None when there is none)."""
        crl = self._crl_for(issuer)
        return None if crl is None else at - crl.last_update_utc

    def check(
        self, certificate: x509.Certificate, issuer: x509.Certificate, at: datetime
    ) -> RevocationStatus:
        """See ``RevocationSource.check``."""
        crl = self._crl_for(issuer)
        if crl is None:
            raise RevocationUnavailableError(f"no CRL signed by {issuer.subject.rfc4514_string()}")
        age = at - crl.last_update_utc
        next_update = crl.next_update_utc
        stale = age > self.max_age or (
            self.honour_next_update and next_update is not None and at > next_update
        )
        if stale:
            raise RevocationDataTooOldError(
                f"CRL thisUpdate {crl.last_update_utc.isoformat()}, age {age}, "
                f"nextUpdate {next_update.isoformat() if next_update else '-'}"
            )
        entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
        if entry is not None:
            raise CertificateRevokedError(
                f"serial {certificate.serial_number} revoked at "
                f"{entry.revocation_date_utc.isoformat()}"
            )
        log.debug("revocation: serial %d good, CRL age %s", certificate.serial_number, age)
        return RevocationStatus(data_time=crl.last_update_utc, age=age, source="crl")
