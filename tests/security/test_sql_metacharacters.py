"""SQL metacharacters (and other hostile text) in every text field a terminal or an operator can
send: member numbers, MyKey IDs, names, event names, CSV imports, query and path parameters.
Each is either stored and returned verbatim, or refused with a problem document; no query
breaks, nothing answers 5xx, and the ledger's audit stays clean (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select

from cardio.virtual.profile import CardProfile
from server_stub.db.schema import grant_events, mykey_ids, terminals, transfers
from tests.ledger.conftest import OPERATOR_KEY, TestClient, World, enroll, resident
from tests.ledger.support import SigningTerminal, certificate_b64, raw_public
from tests.security.conftest import assert_clean

#: Short enough for a 16-character field; each breaks a query built by string pasting.
SHORT = [
    "';DROP TABLE x--",
    "' OR '1'='1",
    '" OR 1=1 --',
    "%_\\%'",
    "a'||'b",
    "$1 :id ?; --",
    "1; SELECT 1",
    "`id`/**/",
]
#: Longer hostile text for names (up to 64 characters): Japanese, quotes, emoji, control-ish.
LONG = [
    "Robert'); DROP TABLE transactions;--",
    "商店街'); DELETE FROM legs WHERE ('1'='1",
    '名前"; UPDATE accounts SET balance=0; --',
    "😀'\u2028\t\\\\N",
]
ADMIN = {"X-Operator-Key": OPERATOR_KEY}


def _no_server_error(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"]


def test_member_numbers_are_stored_and_returned_verbatim(
    shop: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "META0001")
    for customer_id in SHORT + [t[:32] for t in LONG]:
        link = {"kind": "service_id_link", "customer_id": customer_id}
        result = shop.authorize(shop.tx(link, cards[0]))
        assert result["status"] == "applied", result
        looked = shop.call("POST", "/v1/lookup", {"certificate": certificate_b64(cards[0])})
        assert looked.json()["customer_id"] == customer_id.strip()
    pulled = shop.call("GET", "/v1/pull").json()
    assert pulled["service_ids"] == [{"mykey_id": "META0001", "customer_id": LONG[-1][:32]}]
    assert_clean(engine)


def test_hostile_mykey_ids_are_refused_and_looked_up_harmlessly(
    office: SigningTerminal,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    client: TestClient,
) -> None:
    resident(engine, world, cards[0], "META0002", 500)
    challenge = office.call("POST", "/v1/mykey/challenge").json()["challenge"]
    for mykey_id in SHORT:
        query = urllib.parse.urlencode({"mykey_id": mykey_id})
        answer = office.call("GET", f"/v1/mykey/availability?{query}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["mykey_id"], body["available"], body["reason"]) == (
            mykey_id,
            False,
            "invalid-mykey-id",
        )
        setup = {"kind": "mykey_setup", "mykey_id": mykey_id, "challenge": challenge}
        result = office.authorize(office.tx(setup, cards[1]))
        assert (result["status"], result["reason"]) == ("rejected", "invalid-mykey-id")
        path = "/v1/admin/reports/history/" + urllib.parse.quote(mykey_id, safe="")
        _no_server_error(client.get(path, headers=ADMIN))
    with engine.connect() as conn:
        assert conn.execute(select(mykey_ids.c.id)).scalars().all() == ["META0002"]
    # the real resident is untouched by all of it
    looked = office.call("POST", "/v1/lookup", {"certificate": certificate_b64(cards[0])}).json()
    assert looked["balances"][0]["points"] == 500
    assert_clean(engine)


def test_event_names_are_kept_verbatim_and_distinct(
    municipal: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "META0003")
    events = SHORT + LONG
    for event in events:
        tap = {"kind": "grant", "grant_program_id": world.grant_program_id, "event": event}
        first = municipal.authorize(municipal.tx(tap, cards[0], signed=False))
        again = municipal.authorize(municipal.tx(tap, cards[0], signed=False))
        assert first["status"] == "applied", (event, first)
        assert again["reason"] == "already-granted", (event, again)
    with engine.connect() as conn:
        stored = conn.execute(select(grant_events.c.event)).scalars().all()
    assert sorted(stored) == sorted(events)
    assert_clean(engine)


def test_names_from_the_operator_and_terminals_are_returned_verbatim(
    client: TestClient, engine: Engine, world: World
) -> None:
    for i, name in enumerate(LONG):
        business_id = f"Z{i:03d}"
        municipality = client.post(
            "/v1/admin/businesses",
            headers=ADMIN,
            json={"id": business_id, "municipality_code": "141305", "name": name, "kind": "shop"},
        )
        assert municipality.status_code == 201, municipality.text
        program = client.post(
            "/v1/admin/programs",
            headers=ADMIN,
            json={"municipality_code": "141305", "name": name},
        )
        assert program.status_code == 201, program.text
        grant = client.post(
            "/v1/admin/grant-programs",
            headers=ADMIN,
            json={
                "program_id": int(program.json()["id"]),
                "name": name,
                "department": name[::-1],
                "default_points": 10,
            },
        )
        assert grant.status_code == 201, grant.text
        terminal = enroll(client, engine, business_id, ["shop"])
        pulled = terminal.call("GET", "/v1/pull").json()
        assert pulled["business"]["name"] == name
        assert name in [p["name"] for p in pulled["programs"]]
        assert (name, name[::-1]) in [
            (g["name"], g["department"]) for g in pulled["grant_programs"]
        ]
    for name in SHORT:  # hostile text in a municipality name and a terminal name
        code = client.post(
            "/v1/admin/enrollment-codes",
            headers=ADMIN,
            json={"business_id": "A0001", "roles": ["shop"]},
        ).json()["code"]
        key = Ed25519PrivateKey.generate()
        enrolled = client.post(
            "/v1/enroll", json={"code": code, "public_key": raw_public(key), "name": name}
        )
        assert enrolled.status_code == 200, enrolled.text
        with engine.connect() as conn:
            stored = conn.execute(
                select(terminals.c.name).where(terminals.c.id == enrolled.json()["terminal_id"])
            ).scalar_one()
        assert stored == name
    report = client.get("/v1/admin/reports/terminals", headers=ADMIN)
    assert report.status_code == 200
    assert {row["business"] for row in report.json()["rows"]} >= set(LONG)
    assert_clean(engine)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/admin/reports/settlement", {"month": "2026-11", "business_id": "' OR '1'='1"}),
        ("/v1/admin/reports/settlement", {"month": "2026-11'--"}),
        ("/v1/admin/reports/issuance", {"month": "2026-11", "to_month": "1; DROP"}),
        ("/v1/admin/reports/history/%27%20OR%201%3D1", {"program_id": "1 OR 1=1"}),
    ],
)
def test_hostile_report_parameters_never_break_a_query(
    client: TestClient, engine: Engine, world: World, path: str, params: dict[str, str]
) -> None:
    _no_server_error(client.get(path, params=params, headers=ADMIN))
    assert_clean(engine)


def _csv(header: str, rows: list[list[str]]) -> bytes:
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    lines = [header] + [",".join(cell(v) for v in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def test_csv_imports_keep_hostile_text_verbatim(
    client: TestClient,
    shop: SigningTerminal,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
) -> None:
    resident(engine, world, cards[0], "META0004")
    references = [text[:100] for text in SHORT + LONG]
    grants = _csv("mykey_id,points,reference", [["META0004", "1", r] for r in references])
    imported = client.post(
        f"/v1/admin/grants/import?grant_program_id={world.grant_program_id}",
        headers={**ADMIN, "Content-Type": "text/csv"},
        content=grants,
    )
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"rows": len(references), "points": len(references)}
    with engine.connect() as conn:
        kept = (
            conn.execute(select(transfers.c.reference).where(transfers.c.reference.is_not(None)))
            .scalars()
            .all()
        )
    assert sorted(kept) == sorted(references)

    customer_id = "'; DROP TABLE service_ids;--"
    links = _csv("mykey_id,customer_id,business_id", [["META0004", customer_id, "A0001"]])
    linked = client.post(
        "/v1/admin/service-ids/import", headers={**ADMIN, "Content-Type": "text/csv"}, content=links
    )
    assert linked.status_code == 200, linked.text
    looked = shop.call("POST", "/v1/lookup", {"certificate": certificate_b64(cards[0])}).json()
    assert looked["customer_id"] == customer_id

    hostile_ids = _csv("mykey_id,points", [[m, "5"] for m in SHORT])
    refused = client.post(
        f"/v1/admin/grants/import?grant_program_id={world.grant_program_id}",
        headers={**ADMIN, "Content-Type": "text/csv"},
        content=hostile_ids,
    )
    assert refused.status_code == 422 and refused.json()["code"] == "csv-invalid", refused.text
    assert len(refused.json()["errors"]) == len(SHORT)  # every row named, nothing imported
    assert looked["balances"][0]["points"] == len(references)
    assert_clean(engine)


@pytest.mark.parametrize(
    "text",
    ["a\x00b", "\ud800", "x" * 33, " "],
    ids=["nul", "lone-surrogate", "too-long", "blank"],
)
def test_text_a_database_cannot_hold_is_refused_cleanly(
    db_url: str,
    text: str,
    shop: SigningTerminal,
    municipal: SigningTerminal,
    client: TestClient,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
) -> None:
    resident(engine, world, cards[0], "META0005")
    quiet = TestClient(client.app, raise_server_exceptions=False)  # a 5xx is an answer here
    tries: dict[str, httpx.Response] = {}
    link: dict[str, Any] = {"kind": "service_id_link", "customer_id": text}
    tap: dict[str, Any] = {
        "kind": "grant",
        "grant_program_id": world.grant_program_id,
        "event": text,
    }
    for name, terminal, payload in (("customer_id", shop, link), ("event", municipal, tap)):
        signer = SigningTerminal(quiet, terminal.terminal_id, terminal.business_id, terminal.key)
        raw = terminal.tx({"kind": "point_use", "program_id": 1, "points": 1}, cards[0])
        body = raw.model_dump(mode="json")
        body["payload"] = payload
        tries[name] = signer.call("POST", "/v1/transactions/push", {"transactions": [body]})
    tries["municipality name"] = quiet.post(
        "/v1/admin/municipalities",
        headers={**ADMIN, "Content-Type": "application/json"},
        content=json.dumps({"code": "131164", "name": text}).encode("ascii"),
    )
    code = quiet.post(
        "/v1/admin/enrollment-codes",
        headers=ADMIN,
        json={"business_id": "A0001", "roles": ["shop"]},
    ).json()["code"]
    tries["terminal name"] = quiet.post(
        "/v1/enroll",
        headers={"Content-Type": "application/json"},
        content=json.dumps(
            {"code": code, "public_key": raw_public(Ed25519PrivateKey.generate()), "name": text}
        ).encode("ascii"),
    )
    csv = f"mykey_id,customer_id,business_id\r\nMETA0005,{text},A0001\r\n"
    tries["csv customer_id"] = quiet.post(
        "/v1/admin/service-ids/import",
        headers={**ADMIN, "Content-Type": "text/csv"},
        content=csv.encode("utf-8", "surrogatepass"),
    )
    broken = {name: r.status_code for name, r in tries.items() if r.status_code >= 500}
    assert broken == {}, f"5xx for {text!r} in: {broken}"
    if "\x00" in text:  # refused on every database (PostgreSQL could not store it anyway)
        assert {name: r.status_code for name, r in tries.items()} == dict.fromkeys(tries, 422)
    for response in tries.values():
        _no_server_error(response)
    assert_clean(engine)
