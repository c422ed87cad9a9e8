"""Client-side helpers that speak the ledger's terminal protocol the way a terminal does:
RFC 9421 request signatures (Ed25519, label ``mykey``, covering method, path, query and
Content-Digest, with ``created`` and a fresh ``nonce``) and card signatures over transactions."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms

from sync.protocol import (
    COVERED_COMPONENTS,
    SIGNATURE_LABEL,
    CardAuthorisation,
    Transaction,
    b64encode,
    transaction_digest,
)


class _Key(HTTPSignatureKeyResolver):
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self.key = key

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey:
        return self.key

    def resolve_public_key(self, key_id: str) -> None:
        raise NotImplementedError


def public_key_b64(key: Ed25519PrivateKey) -> str:
    """The raw Ed25519 public key, base64 (what /v1/enroll takes)."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64encode(raw)


class RequestSigner:
    """Signs httpx requests as one enrolled terminal."""

    def __init__(self, terminal_id: str, key: Ed25519PrivateKey) -> None:
        self.terminal_id = terminal_id
        self._signer = HTTPMessageSigner(
            signature_algorithm=algorithms.ED25519, key_resolver=_Key(key)
        )

    def sign(self, request: httpx.Request) -> httpx.Request:
        """Add Content-Digest, Signature-Input and Signature headers to ``request``."""
        self._signer.sign(
            request,
            key_id=self.terminal_id,
            created=datetime.now(UTC),
            nonce=secrets.token_urlsafe(16),
            label=SIGNATURE_LABEL,
            covered_component_ids=COVERED_COMPONENTS[:3],
            body=request.content,
        )
        return request


def card_signed(tx: Transaction, card_key: rsa.RSAPrivateKey) -> Transaction:
    """``tx`` with the card's PKCS#1 v1.5 SHA-256 signature over its digest."""
    assert tx.card is not None, "the transaction must carry the card certificate"
    signature = card_key.sign(transaction_digest(tx), padding.PKCS1v15(), hashes.SHA256())
    card = CardAuthorisation(
        certificate=tx.card.certificate, signature=base64.b64encode(signature).decode("ascii")
    )
    return tx.model_copy(update={"card": card})
