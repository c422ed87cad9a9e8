"""Test helpers: a signing terminal (RFC 9421, Ed25519) and card-signed transactions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cardio.virtual.profile import CardProfile
from sync.protocol import Transaction, b64encode, uuid7, voucher_check_digit
from sync.signing import public_key_b64, sign_request
from tests.support.signing import card_signed

raw_public = public_key_b64


@dataclass
class SigningTerminal:
    """An enrolled terminal that signs its requests (or deliberately does not)."""

    client: httpx.Client
    terminal_id: str
    business_id: str
    key: Ed25519PrivateKey = field(repr=False)

    def build(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        created: datetime | None = None,
        nonce: str | None = None,
        key: Ed25519PrivateKey | None = None,
        sign: bool = True,
        key_id: str | None = None,
    ) -> httpx.Request:
        content = b"" if body is None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"} if body is not None else {}
        request = self.client.build_request(method, path, content=content, headers=headers)
        if sign:
            sign_request(
                request,
                terminal_id=key_id or self.terminal_id,
                key=key or self.key,
                body=content,
                created=created,
                nonce=nonce,
            )
        return request

    def send(self, request: httpx.Request) -> httpx.Response:
        return self.client.send(request)

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.send(self.build(method, path, body, **kwargs))

    def tx(
        self,
        payload: dict[str, Any],
        card: CardProfile | None = None,
        *,
        offline: bool = False,
        signed: bool = True,
        at: datetime | None = None,
    ) -> Transaction:
        """A transaction of this terminal; with a card, its certificate and signature."""
        return card_tx(
            self.terminal_id, self.business_id, payload, card, offline=offline, signed=signed, at=at
        )

    def push(self, *txs: Transaction) -> httpx.Response:
        return self.call(
            "POST",
            "/v1/transactions/push",
            {"transactions": [t.model_dump(mode="json") for t in txs]},
        )

    def authorize(self, tx: Transaction) -> dict[str, Any]:
        response = self.call("POST", "/v1/transactions/authorize", tx.model_dump(mode="json"))
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def card_tx(
    terminal_id: str,
    business_id: str,
    payload: dict[str, Any],
    card: CardProfile | None = None,
    *,
    offline: bool = False,
    signed: bool = True,
    at: datetime | None = None,
) -> Transaction:
    """A transaction of ``terminal_id``; with a card, its certificate and (if ``signed``) its
    signature."""
    base: dict[str, Any] = {
        "id": str(uuid7()),
        "terminal_id": terminal_id,
        "business_id": business_id,
        "terminal_time": (at or datetime.now(UTC)).isoformat(),
        "offline": offline,
        "payload": payload,
    }
    if card is not None:
        base["card"] = {"certificate": certificate_b64(card)}
    tx = Transaction.model_validate(base)
    if card is not None and signed:
        tx = sign_with_card(tx, card)
    return tx


def sign_with_card(tx: Transaction, card: CardProfile) -> Transaction:
    """The card's PKCS#1 v1.5 SHA-256 signature over the transaction digest."""
    return card_signed(tx, card.auth_key)


def certificate_b64(card: CardProfile) -> str:
    return b64encode(card.auth_certificate.public_bytes(serialization.Encoding.DER))


def voucher_number(serial: int) -> str:
    first = f"{serial:012d}"
    return first + voucher_check_digit(first)


def today_jst() -> date:
    return (datetime.now(UTC) + timedelta(hours=9)).date()
