"""The server's Ed25519 key and the signed revocation snapshot terminals use offline."""

from __future__ import annotations

import hashlib
import logging
import os
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, func, select

from server_stub.clock import as_utc
from server_stub.db.schema import crl_imports, revoked_certificates
from sync.protocol import (
    RevocationInfo,
    RevocationSnapshot,
    RevokedEntry,
    b64encode,
    snapshot_bytes,
)

log = logging.getLogger(__name__)


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Load the PEM (PKCS#8) key at ``path``, creating it (mode 0600) when missing."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    log.info("created the ledger signing key at %s", path)
    return key


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PrivateKey) -> str:
    """A short stable name of the key: the first 16 hex digits of SHA-256(public key)."""
    return hashlib.sha256(public_key_bytes(key)).hexdigest()[:16]


def revocation_info(conn: Connection, key: Ed25519PrivateKey, now: datetime) -> RevocationInfo:
    """The current revocation snapshot, signed, with its age (since the newest imported CRL)."""
    entries = [
        RevokedEntry(issuer=row.issuer, serial=row.serial)
        for row in conn.execute(
            select(revoked_certificates.c.issuer, revoked_certificates.c.serial).order_by(
                revoked_certificates.c.issuer, revoked_certificates.c.serial
            )
        )
    ]
    newest = conn.execute(select(func.max(crl_imports.c.this_update))).scalar_one_or_none()
    as_of = None if newest is None else as_utc(newest)
    unsigned = RevocationSnapshot(
        generated_at=now, data_as_of=as_of, entries=entries, server_key_id=key_id(key), signature=""
    )
    signature = b64encode(key.sign(snapshot_bytes(unsigned)))
    snapshot = unsigned.model_copy(update={"signature": signature})
    age = None if as_of is None else max(0, int((now - as_of).total_seconds()))
    return RevocationInfo(snapshot=snapshot, age_seconds=age)
