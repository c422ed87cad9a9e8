"""RFC 9421 request signatures as terminals make them (one definition for client and tests).

Ed25519, label ``mykey``, keyid = terminal ID, covering ``@method``, ``@path``, ``@query`` and
``content-digest`` (generated from the body), with ``created`` and a fresh ``nonce``.

:class:`TerminalAuth` signs ``requests`` requests (a ``requests`` auth built on
requests-http-signature); :func:`sign_request` signs any message the signature library knows
(``requests`` prepared requests and ``httpx`` requests alike; the ledger tests use it).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms
from requests_http_signature import HTTPSignatureAuth

from sync.protocol import COVERED_COMPONENTS, SIGNATURE_LABEL, b64encode

#: The components named explicitly; ``content-digest`` is added by the signer from the body.
_NAMED_COMPONENTS = tuple(c for c in COVERED_COMPONENTS if c != "content-digest")


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


class TerminalAuth(HTTPSignatureAuth):
    """``requests`` auth that signs each request as the terminal ``terminal_id``.

    Every call makes a new signature (fresh ``created`` from ``clock`` and a fresh ``nonce``),
    so a retried request is signed again and never refused as a replay. The library also adds
    and covers a ``Date`` header (the same clock) and the ``alg`` parameter; the server accepts
    both.
    """

    def __init__(
        self,
        terminal_id: str,
        key: Ed25519PrivateKey,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(
            signature_algorithm=algorithms.ED25519,
            key_id=terminal_id,
            key_resolver=_OwnKey(key),
            covered_component_ids=_NAMED_COMPONENTS,
            label=SIGNATURE_LABEL,
            use_nonce=True,
        )
        self._clock = clock or (lambda: datetime.now(UTC))

    def __repr__(self) -> str:
        return f"TerminalAuth({self.key_id!r})"

    def get_created(self, request: requests.PreparedRequest) -> datetime:
        """The signature's creation time: the terminal's clock (also the ``Date`` header)."""
        created = self._clock()
        self.add_date(request, timestamp=int(created.timestamp()))
        return created


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
        covered_component_ids=_NAMED_COMPONENTS,  # content-digest is added from ``body``
        body=body,
    )
