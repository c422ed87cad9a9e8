"""The operator API (/v1/admin): reports and uploads over HTTP, never without the operator key."""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from cardio.virtual.ca import TestCA
from server_stub.api.app import create_app
from server_stub.db.engine import make_engine
from server_stub.db.schema import transfers
from server_stub.settings import Settings
from sync.protocol import Transaction, b64encode, uuid7
from tests.ledger_ops.conftest import Card, CliResult, Seed, build_report_scenario, seed_ledger
from tests.support.signing import RequestSigner, card_signed, public_key_b64

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette 1.x prefers httpx2 for its test client
    from fastapi.testclient import TestClient

KEY = "operator-key-for-admin-api-tests"
HEADERS = {"X-Operator-Key": KEY}


@pytest.fixture
def client(ledger_url: str, seed: Seed, tmp_path: Path) -> Iterator[TestClient]:
    """The app with an operator key, on the seeded ledger with the report scenario."""
    build_report_scenario(ledger_url, seed)
    settings = Settings(
        database_url=ledger_url,
        operator_key=KEY,  # type: ignore[arg-type]
        signing_key_path=tmp_path / "server-key.pem",
    )
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.ledger.engine.dispose()


@pytest.mark.parametrize("headers", [{}, {"X-Operator-Key": "wrong"}])
def test_admin_routes_refuse_without_the_operator_key(
    client: TestClient, headers: dict[str, str]
) -> None:
    for method, path in [
        ("GET", "/v1/admin/reports/settlement?month=2026-10"),
        ("GET", "/v1/admin/reports/history/MY123456"),
        ("POST", "/v1/admin/expiry"),
    ]:
        response = client.request(method, path, headers=headers, json={})
        assert response.status_code == 401, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"]


def test_reports_over_http_in_json_and_excel_csv(client: TestClient) -> None:
    settlement = client.get(
        "/v1/admin/reports/settlement", params={"month": "2026-11"}, headers=HEADERS
    )
    assert settlement.status_code == 200, settlement.text
    rows = settlement.json()["rows"]
    assert [(r["business_id"], r["uses"], r["total_points"]) for r in rows] == [
        ("A0001", 1, 200),
        ("A0002", 1, 700),
    ]
    issuance = client.get(
        "/v1/admin/reports/issuance",
        params={"month": "2026-10", "to_month": "2026-11", "format": "csv"},
        headers=HEADERS,
    )
    assert issuance.status_code == 200
    assert issuance.headers["content-type"].startswith("text/csv")
    assert issuance.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(issuance.content.decode("utf-8-sig"))))
    assert [(r[0], r[3], r[7], r[8]) for r in table[1:]] == [
        ("2026-10", "健康福祉局", "1000", "0"),
        ("2026-11", "健康福祉局", "500", "0"),
        ("2026-11", "経済労働局", "0", "1000"),
    ]
    history = client.get("/v1/admin/reports/history/KEY34567", headers=HEADERS)
    assert [r["balance"] for r in history.json()["rows"]] == [500, 300, -400, 100]
    bad = client.get("/v1/admin/reports/issuance", params={"month": "2026-13"}, headers=HEADERS)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")


def test_grant_upload_over_http_is_all_or_nothing(
    client: TestClient, seed: Seed, ledger_url: str
) -> None:
    bad = b"mykey_id,points\nMY123456,100\nNOBODY99,100\n"
    response = client.post(
        "/v1/admin/grants/import",
        params={"grant_program_id": seed.health_grant_id},
        content=bad,
        headers={**HEADERS, "Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "csv-invalid"
    assert [e["line"] for e in problem["errors"]] == [3]

    engine = make_engine(ledger_url)
    try:
        with engine.connect() as conn:
            before = conn.execute(select(func.count()).select_from(transfers)).scalar_one()
        good = "\ufeffマイキーID,ポイント\nMY123456,100\nKEY34567,200\n".encode()
        response = client.post(
            "/v1/admin/grants/import",
            params={"grant_program_id": seed.health_grant_id},
            content=good,
            headers={**HEADERS, "Content-Type": "text/csv"},
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"rows": 2, "points": 300}
        with engine.connect() as conn:
            after = conn.execute(select(func.count()).select_from(transfers)).scalar_one()
        assert after == before + 2
    finally:
        engine.dispose()


def test_cli_enrollment_code_enrolls_a_terminal_and_revoke_locks_it_out(
    sqlite_ledger_url: str,
    test_ca: TestCA,
    cards: list[Card],
    tmp_path: Path,
    mykey: Callable[..., CliResult],
) -> None:
    seed_ledger(sqlite_ledger_url, cards)
    made = mykey("ledger", "admin", "enrollment-code", "--business", "A0001", "--role", "shop",
                 "--db", sqlite_ledger_url)  # fmt: skip
    assert made.code == 0, made.err
    code = made.out.splitlines()[1]
    settings = Settings(
        database_url=sqlite_ledger_url,
        signing_key_path=tmp_path / "k.pem",
        trust_dir=test_ca.trust_directory,
    )
    app = create_app(settings)
    key = Ed25519PrivateKey.generate()
    with TestClient(app) as api:
        enrolled = api.post("/v1/enroll", json={"code": code, "public_key": public_key_b64(key)})
        assert enrolled.status_code == 200, enrolled.text
        signer = RequestSigner(enrolled.json()["terminal_id"], key)
        assert api.send(signer.sign(api.build_request("GET", "/v1/pull"))).status_code == 200
        again = api.post("/v1/enroll", json={"code": code, "public_key": public_key_b64(key)})
        assert again.status_code >= 400  # the code was for one terminal only

        # an offline use beyond the (zero) balance is accepted with overdraft; online refused
        uses = [_use(signer.terminal_id, cards[0], offline) for offline in (True, False)]
        body = {"transactions": [tx.model_dump(mode="json") for tx in uses]}
        request = api.build_request("POST", "/v1/transactions/push", json=body)
        pushed = api.send(signer.sign(request))
        assert [r["status"] for r in pushed.json()["results"]] == ["accepted_offline", "rejected"]
        listing = mykey("ledger", "report", "terminals", "--format", "json",
                        "--db", sqlite_ledger_url)  # fmt: skip
        (row,) = json.loads(listing.out)["rows"]
        assert (row["terminal_id"], row["status"], row["transactions"], row["offline"]) == (
            signer.terminal_id,
            "active",
            2,
            1,
        )
        assert (row["accepted_offline"], row["rejected"], row["conflicts"]) == (1, 1, 0)
        assert row["last_seen_at"] != ""

        revoked = mykey("ledger", "admin", "terminal", "revoke", signer.terminal_id,
                        "--db", sqlite_ledger_url)  # fmt: skip
        assert revoked.code == 0, revoked.err
        listing = mykey("ledger", "admin", "terminal", "list", "--db", sqlite_ledger_url)
        assert f"{signer.terminal_id}\tA0001\trevoked" in listing.out
        refused = api.send(signer.sign(api.build_request("GET", "/v1/pull")))
        assert refused.status_code in (401, 403)
        assert refused.headers["content-type"].startswith("application/problem+json")
    app.state.ledger.engine.dispose()


def _use(terminal_id: str, card: Card, offline: bool) -> Transaction:
    der = card.certificate.public_bytes(serialization.Encoding.DER)
    tx = Transaction.model_validate(
        {
            "id": str(uuid7()),
            "terminal_id": terminal_id,
            "business_id": "A0001",
            "terminal_time": datetime.now(UTC).isoformat(),
            "offline": offline,
            "payload": {"kind": "point_use", "program_id": 1, "points": 500},
            "card": {"certificate": b64encode(der)},
        }
    )
    return card_signed(tx, card.key)
