"""schemathesis against the app's own /openapi.json, every request signed as an enrolled terminal.

Generated requests (valid and invalid) go through the real app on SQLite: signed per RFC 9421 by
an enrolled terminal holding every role, with the operator key for /v1/admin. No answer may be
a 5xx, and every 4xx must be an RFC 9457 problem document with a machine code.
"""

from __future__ import annotations

import json
import urllib.parse
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from cardio.virtual.ca import TestCA
from server_stub import operator
from server_stub.api.app import create_app
from server_stub.db.engine import make_engine
from server_stub.db.migrate import migrate
from server_stub.settings import Settings
from tests.ledger_ops.conftest import Card, seed_ledger
from tests.support.signing import RequestSigner, public_key_b64

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette 1.x prefers httpx2 for its test client
    from fastapi.testclient import TestClient

OPERATOR_KEY = "operator-key-for-schemathesis"
MAX_EXAMPLES = 25


@schemathesis.serializer("text/csv")
def _csv(_context: Any, value: Any) -> Any:
    """Generated CSV bodies: bytes as they are, anything else as its text."""
    return {"data": value if isinstance(value, bytes) else str(value).encode("utf-8")}


@pytest.fixture(scope="module")
def signed_app(
    tmp_path_factory: pytest.TempPathFactory, test_ca: TestCA, cards: list[Card]
) -> Iterator[tuple[TestClient, RequestSigner]]:
    """The app on a seeded SQLite ledger and a terminal enrolled with every role."""
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{folder / 'ledger.db'}"
    migrate(url)
    seed_ledger(url, cards)
    engine = make_engine(url)
    with engine.begin() as conn:
        code = operator.create_enrollment_code(
            conn, "B0001", ["shop", "office", "library", "municipal"]
        ).code
    engine.dispose()
    settings_ = Settings(
        database_url=url,
        trust_dir=test_ca.trust_directory,
        operator_key=OPERATOR_KEY,  # type: ignore[arg-type]
        signing_key_path=folder / "server-key.pem",
    )
    app = create_app(settings_)
    key = Ed25519PrivateKey.generate()
    with TestClient(app, raise_server_exceptions=False) as client:
        enrolled = client.post(
            "/v1/enroll", json={"code": code, "public_key": public_key_b64(key), "name": "fuzz"}
        )
        assert enrolled.status_code == 200, enrolled.text
        yield client, RequestSigner(enrolled.json()["terminal_id"], key)
    app.state.ledger.engine.dispose()


def _body(kwargs: dict[str, Any]) -> bytes:
    if "json" in kwargs and kwargs["json"] is not None:
        return json.dumps(kwargs["json"]).encode("utf-8")
    data = kwargs.get("data")
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    return urllib.parse.urlencode(data, doseq=True).encode("ascii")


def _send(client: TestClient, signer: RequestSigner, case: Any) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    headers = {k: str(v) for k, v in (kwargs.get("headers") or {}).items()}
    headers.pop("Content-Length", None)
    if case.path.startswith("/v1/admin"):
        headers["X-Operator-Key"] = OPERATOR_KEY
    request = client.build_request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params"),
        headers=headers,
        content=_body(kwargs),
    )
    return client.send(signer.sign(request))


def _problems(response: httpx.Response) -> list[str]:
    status = response.status_code
    where = f"{response.request.method} {response.request.url.path} -> {status}"
    if status >= 500:
        return [f"{where}: server error {response.text[:300]}"]
    if status < 400:
        return []
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return [f"{where}: content-type {response.headers.get('content-type')}"]
    body = response.json()
    if not isinstance(body, dict) or not body.get("code") or body.get("status") != status:
        return [f"{where}: problem without code/status: {response.text[:200]}"]
    return []


def test_generated_requests_never_break_the_server(
    signed_app: tuple[TestClient, RequestSigner],
) -> None:
    client, signer = signed_app
    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    found: list[str] = []
    statuses: set[int] = set()
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) >= 10  # terminal, enrollment and admin routes are all described
    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=strategy)
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,  # the same examples on every run: CI stays reproducible
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Any) -> None:
            response = _send(client, signer, case)
            statuses.add(response.status_code)
            found.extend(_problems(response))
            try:
                case.validate_response(response, checks=[not_a_server_error])
            except (AssertionError, FailureGroup) as error:  # schemathesis' way to report
                found.append(f"{case.operation.label}: {type(error).__name__}: {error}"[:400])

        exercise()
    assert sorted(set(found)) == []
    # the signature really was accepted: some generated requests got through to the ledger
    assert statuses & {200, 201, 204}
