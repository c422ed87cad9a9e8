"""The terminal's HTTP client for the ledger server: enrollment, then RFC 9421-signed requests.

Every request after enrollment is signed with the terminal's Ed25519 key (keyid = terminal ID)
over ``@method``, ``@path``, ``@query`` and ``content-digest``, with ``created`` and a fresh
``nonce``. Problems (RFC 9457) come back as ``LedgerRefusedError`` carrying the server's stable code
and its Japanese and English titles.
"""

from __future__ import annotations

from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel

from sync.protocol import (
    ChallengeResponse,
    EnrollRequest,
    EnrollResponse,
    LookupRequest,
    LookupResponse,
    PushRequest,
    PushResponse,
    Transaction,
    TransactionResult,
    b64encode,
)
from sync.signing import public_key_b64, sign_request

DEFAULT_TIMEOUT_S = 5.0


class LedgerRefusedError(Exception):
    """The server refused a request; ``code`` is its stable machine code."""

    def __init__(self, status: int, code: str, title_ja: str, title_en: str) -> None:
        super().__init__(f"{status} {code}: {title_en}")
        self.status, self.code, self.title_ja, self.title_en = status, code, title_ja, title_en


def _raise_for_problem(response: requests.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    raise LedgerRefusedError(
        response.status_code,
        str(body.get("code", "http_error")),
        str(body.get("title_ja", body.get("title", response.reason))),
        str(body.get("title_en", body.get("title", response.reason))),
    )


def enroll(
    base_url: str,
    code: str,
    key: Ed25519PrivateKey,
    *,
    name: str = "",
    timeout: float = DEFAULT_TIMEOUT_S,
) -> EnrollResponse:
    """Exchange a one-time enrollment code and this terminal's public key for a terminal ID."""
    request = EnrollRequest(code=code, public_key=public_key_b64(key), name=name)
    response = requests.post(
        f"{base_url}/v1/enroll", json=request.model_dump(mode="json"), timeout=timeout
    )
    _raise_for_problem(response)
    return EnrollResponse.model_validate(response.json())


class LedgerClient:
    """Signed requests of one enrolled terminal."""

    def __init__(
        self,
        base_url: str,
        terminal_id: str,
        key: Ed25519PrivateKey,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.terminal_id = terminal_id
        self.timeout = timeout
        self._key = key
        self._http = requests.Session()

    def __repr__(self) -> str:
        return f"LedgerClient({self.base_url!r}, terminal {self.terminal_id})"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def _call(self, method: str, path: str, body: BaseModel | None = None) -> Any:
        content = b"{}" if body is None else body.model_dump_json().encode("utf-8")
        headers = {"Content-Type": "application/json"}
        prepared = requests.Request(
            method, self.base_url + path, data=content, headers=headers
        ).prepare()
        sign_request(prepared, terminal_id=self.terminal_id, key=self._key, body=content)
        response = self._http.send(prepared, timeout=self.timeout)
        _raise_for_problem(response)
        return response.json()

    def push(self, transactions: list[Transaction]) -> PushResponse:
        """Push a batch; each transaction's result comes back (idempotent by its ID)."""
        body = PushRequest(transactions=transactions)
        return PushResponse.model_validate(self._call("POST", "/v1/transactions/push", body))

    def authorize(self, transaction: Transaction) -> TransactionResult:
        """Online authorisation of one transaction; the result carries the new balance."""
        return TransactionResult.model_validate(
            self._call("POST", "/v1/transactions/authorize", transaction)
        )

    def lookup(self, certificate_der: bytes) -> LookupResponse:
        """MyKey ID, status, balances usable here and the service ID here for a certificate."""
        body = LookupRequest(certificate=b64encode(certificate_der))
        return LookupResponse.model_validate(self._call("POST", "/v1/lookup", body))

    def mykey_challenge(self) -> ChallengeResponse:
        """A one-time challenge for a MyKey ID set-up."""
        return ChallengeResponse.model_validate(self._call("POST", "/v1/mykey/challenge"))
