"""RFC 9421 request signatures as terminals make them (one definition for client and tests).

Ed25519, label ``mykey``, keyid = terminal ID, covering ``@method``, ``@path``, ``@query`` and
``content-digest`` (generated from the body), with ``created`` and a fresh ``nonce``.
Works on ``requests`` prepared requests and ``httpx`` requests alike.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms

from sync.protocol import COVERED_COMPONENTS, SIGNATURE_LABEL, b64encode


class _OwnKey(HTTPSignatureKeyResolver):
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey:
        return self._key

    def resolve_public_key(self, key_id: str) -> Any:
        return self._key.public_key()


def public_key_b64(key: Ed25519PrivateKey) -> str:
    """The raw 32-byte Ed25519 public key, base64, as enrollment sends it."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64encode(raw)


def sign_request(
    message: Any,
    *,
    terminal_id: str,
    key: Ed25519PrivateKey,
    body: bytes,
    created: datetime | None = None,
    nonce: str | None = None,
) -> None:
    """Add ``Content-Digest``, ``Signature-Input`` and ``Signature`` headers to ``message``."""
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=_OwnKey(key))
    signer.sign(
        message,
        key_id=terminal_id,
        created=created or datetime.now(UTC),
        nonce=nonce or secrets.token_urlsafe(16),
        label=SIGNATURE_LABEL,
        covered_component_ids=COVERED_COMPONENTS[:3],  # content-digest is added from ``body``
        body=body,
    )
