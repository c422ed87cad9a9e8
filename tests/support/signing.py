"""Client-side helpers that speak the ledger's terminal protocol the way a terminal does:
RFC 9421 request signatures (Ed25519, label ``mykey``, covering method, path, query and
Content-Digest, with ``created`` and a fresh ``nonce``) and card signatures over transactions."""

from __future__ import annotations

import base64

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.protocol import CardAuthorisation, Transaction, transaction_digest
from sync.signing import public_key_b64, sign_request

__all__ = ["RequestSigner", "card_signed", "public_key_b64"]


class RequestSigner:
    """Signs httpx requests as one enrolled terminal."""

    def __init__(self, terminal_id: str, key: Ed25519PrivateKey) -> None:
        self.terminal_id = terminal_id
        self._key = key

    def sign(self, request: httpx.Request) -> httpx.Request:
        """Add Content-Digest, Signature-Input and Signature headers to ``request``."""
        sign_request(request, terminal_id=self.terminal_id, key=self._key, body=request.content)
        return request


def card_signed(tx: Transaction, card_key: rsa.RSAPrivateKey) -> Transaction:
    """``tx`` with the card's PKCS#1 v1.5 SHA-256 signature over its digest."""
    assert tx.card is not None, "the transaction must carry the card certificate"
    signature = card_key.sign(transaction_digest(tx), padding.PKCS1v15(), hashes.SHA256())
    card = CardAuthorisation(
        certificate=tx.card.certificate, signature=base64.b64encode(signature).decode("ascii")
    )
    return tx.model_copy(update={"card": card})
