"""Revocation checks at the counter from the server's signed snapshot (synced, cached locally).

The sync engine verified the snapshot's signature before it was stored. A revoked certificate is
refused at once, online or offline; how old the data may be for an offline acceptance is the
offline policy's question (``terminal.offline``), so an old snapshot is reported, not refused, here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography import x509

from cardio.errors import CertificateRevokedError
from cardio.revocation import RevocationStatus
from sync.protocol import RevocationInfo


class SnapshotRevocation:
    """A ``cardio.revocation.RevocationSource`` over the cached revocation snapshot."""

    def __init__(self, info: RevocationInfo, received_at: datetime) -> None:
        self._revoked = {(e.issuer, e.serial) for e in info.snapshot.entries}
        #: when the data the snapshot was made from was current (None: the server has no CRL)
        self.data_time = (
            None if info.age_seconds is None else received_at - timedelta(seconds=info.age_seconds)
        )

    def age(self, at: datetime) -> timedelta | None:
        """How old the revocation data is at ``at`` (None when there is none)."""
        return None if self.data_time is None else at - self.data_time

    def check(
        self, certificate: x509.Certificate, issuer: x509.Certificate, at: datetime
    ) -> RevocationStatus:
        """Raise ``CertificateRevokedError`` for a listed certificate; else its data's age."""
        key = (certificate.issuer.rfc4514_string(), str(certificate.serial_number))
        if key in self._revoked:
            raise CertificateRevokedError(f"serial {certificate.serial_number} in the snapshot")
        if self.data_time is None:
            return RevocationStatus(data_time=at, age=timedelta.max, source="snapshot without CRL")
        return RevocationStatus(
            data_time=self.data_time, age=at - self.data_time, source="snapshot"
        )
