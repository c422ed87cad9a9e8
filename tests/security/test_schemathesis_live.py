"""schemathesis over the whole OpenAPI against a REAL server process on PostgreSQL.

tests/ledger_ops/test_schemathesis.py drives the app in-process on SQLite; this runs the same
generated requests (signed as an enrolled terminal holding every role; the admin API with the
operator key) over TCP against `mykey ledger serve` on a real PostgreSQL, where text, integer
and timestamp limits differ from SQLite's. No 5xx; every 4xx a problem document with a code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from server_stub import operator
from server_stub.db.engine import make_engine
from tests.ledger_ops.conftest import Card, seed_ledger
from tests.ledger_ops.test_schemathesis import MAX_EXAMPLES, OPERATOR_KEY, _body, _problems
from tests.support.postgres import PostgresServer
from tests.support.processes import LedgerProcess, free_port, mykey
from tests.support.signing import RequestSigner, public_key_b64

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_server: PostgresServer,
    test_ca: TestCA,
    cards: list[CardProfile],
) -> Iterator[tuple[httpx.Client, RequestSigner]]:
    folder: Path = tmp_path_factory.mktemp("schemathesis-live")
    url = postgres_server.create_database()
    assert mykey("ledger", "migrate", "--db", url).returncode == 0
    seed_ledger(url, [Card(c.auth_key, c.auth_certificate) for c in cards])
    engine = make_engine(url)
    with engine.begin() as conn:
        code = operator.create_enrollment_code(
            conn, "B0001", ["shop", "office", "library", "municipal"]
        ).code
    engine.dispose()
    server = LedgerProcess(url, test_ca.trust_directory, folder, free_port())
    server.env["MYKEY_LEDGER_OPERATOR_KEY"] = OPERATOR_KEY
    server.start()
    key = Ed25519PrivateKey.generate()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            enrolled = client.post(
                "/v1/enroll", json={"code": code, "public_key": public_key_b64(key), "name": "x"}
            )
            assert enrolled.status_code == 200, enrolled.text
            yield client, RequestSigner(enrolled.json()["terminal_id"], key)
    finally:
        server.stop()
        assert "Traceback" not in server.log_path.read_text(), server.log_path.read_text()[-3000:]


def _send(client: httpx.Client, signer: RequestSigner, case: Any) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url=str(client.base_url))
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


def test_generated_requests_never_break_the_real_server_on_postgres(
    live: tuple[httpx.Client, RequestSigner],
) -> None:
    client, signer = live
    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    operations = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    paths = {op.path for op in operations}
    assert {"/v1/transactions/push", "/v1/lookup", "/v1/admin/grants/import"} <= paths
    found: list[str] = []
    statuses: set[int] = set()
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
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Any) -> None:
            response = _send(client, signer, case)
            statuses.add(response.status_code)
            found.extend(_problems(response))

        exercise()
    assert sorted(set(found)) == []
    assert statuses & {200, 201, 204}
