"""The terminal API through the test client: counter flows end to end (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import Engine, select

from cardio.auth import TrustStore
from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from server_stub.audit import audit
from server_stub.db.schema import transactions
from server_stub.posting import AccountKind, balance_of
from server_stub.reports.queries import history
from sync.protocol import RevocationSnapshot, snapshot_bytes, transaction_digest
from tests.ledger.conftest import TestClient, World, enroll, resident, use
from tests.ledger.support import (
    SigningTerminal,
    certificate_b64,
    raw_public,
    today_jst,
    voucher_number,
)


def _assert_clean(engine: Engine) -> None:
    with engine.begin() as conn:
        assert audit(conn) == []


def test_point_use_refusals_say_why(
    shop: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "MY100001", 500)
    too_much = shop.authorize(shop.tx(use(world, 600), cards[0]))
    assert too_much["status"] == "rejected"
    assert too_much["reason"] == "insufficient-balance"
    assert "不足" in too_much["message_ja"]
    unsigned = shop.authorize(shop.tx(use(world, 10), cards[0], signed=False))
    assert unsigned["reason"] == "card-signature-invalid"
    forged = shop.tx(use(world, 10), cards[0])
    assert forged.card is not None
    other_card = forged.model_copy(
        update={"card": forged.card.model_copy(update={"certificate": certificate_b64(cards[1])})}
    )
    assert shop.authorize(other_card)["reason"] == "card-signature-invalid"
    unknown = shop.authorize(shop.tx(use(world, 10), cards[2]))
    assert unknown["reason"] == "unknown-mykey-id"
    ok = shop.authorize(shop.tx(use(world, 500), cards[0]))
    assert (ok["status"], ok["balance"], ok["mykey_id"]) == ("applied", 0, "MY100001")
    _assert_clean(engine)


def test_special_event_points_only_where_accepted(
    shop: SigningTerminal,
    shop2: SigningTerminal,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
) -> None:
    resident(engine, world, cards[0], "MY100002")
    with engine.begin() as conn:
        event_grant = op.create_grant_program(conn, world.event_program_id, "実証", "経済局", 300)
        op.grant_points(conn, event_grant, "MY100002")
    refused = shop2.authorize(shop2.tx(use(world, 100, world.event_program_id), cards[0]))
    assert refused["reason"] == "program-not-accepted"
    accepted = shop.authorize(shop.tx(use(world, 100, world.event_program_id), cards[0]))
    assert (accepted["status"], accepted["balance"]) == ("applied", 200)


def test_offline_acceptance_records_overdraft_within_limits(
    shop: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "MY100003", 1000)
    results = shop.push(
        shop.tx(use(world, 2500), cards[0], offline=True),
        shop.tx(use(world, 3500), cards[0], offline=True),  # over 3,000 per transaction
        shop.tx(use(world, 2600), cards[0], offline=True),  # over 5,000 per card per day
    ).json()["results"]
    assert [r["status"] for r in results] == ["accepted_offline", "rejected", "rejected"]
    assert results[0]["overdraft"] == 1500 and results[0]["balance"] == 0
    assert {r["reason"] for r in results[1:]} == {"offline-limit-exceeded"}
    look = shop.call("POST", "/v1/lookup", {"certificate": certificate_b64(cards[0])}).json()
    assert look["balances"][0]["points"] == 0
    assert look["balances"][0]["overdraft"] == 1500
    with engine.begin() as conn:
        assert op.grant_points(conn, world.grant_program_id, "MY100003", 2000).balance == 500
    _assert_clean(engine)


def test_the_offline_daily_limit_counts_the_jst_day_not_the_utc_day(
    shop: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    # 00:10 and 00:20 JST are still the previous day in UTC: both count for the same JST day
    resident(engine, world, cards[0], "MY100010", 9000)
    jst = timezone(timedelta(hours=9))
    tomorrow = (datetime.now(jst) + timedelta(days=1)).date()
    midnight = datetime.combine(tomorrow, time(0), jst)
    results = shop.push(
        shop.tx(use(world, 3000), cards[0], offline=True, at=midnight + timedelta(minutes=10)),
        shop.tx(use(world, 2500), cards[0], offline=True, at=midnight + timedelta(minutes=20)),
    ).json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert results[1]["reason"] == "offline-limit-exceeded"


def test_use_authorised_online_then_queued_offline_is_applied_once(
    shop: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    # the online answer was lost: the terminal queued the same signed use with offline set
    resident(engine, world, cards[0], "MY100009", 1000)
    online = shop.tx(use(world, 400), cards[0])
    assert shop.authorize(online)["balance"] == 600
    queued = online.model_copy(update={"offline": True})
    assert transaction_digest(queued) == transaction_digest(online)
    again = shop.push(queued).json()["results"][0]
    assert (again["status"], again["original_status"], again["balance"]) == (
        "duplicate",
        "applied",
        600,
    )
    look = shop.call("POST", "/v1/lookup", {"certificate": certificate_b64(cards[0])}).json()
    assert look["balances"][0]["points"] == 600
    _assert_clean(engine)


def test_use_refused_online_whose_answer_was_lost_is_paid_when_accepted_offline(
    shop: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    # The server refused the use online (the balance was spent elsewhere), but its answer never
    # reached the terminal, which accepted the use offline within the limits and queued it with
    # the same ID. DOMAIN §6: within the offline limits the shop is paid; the shortfall becomes
    # an overdraft. (Before, the resend got the stored refusal back: the sale was lost.)
    resident(engine, world, cards[0], "MY100010", 300)
    online = shop.tx(use(world, 500), cards[0])
    refused = shop.authorize(online)
    assert (refused["status"], refused["reason"]) == ("rejected", "insufficient-balance")
    queued = online.model_copy(update={"offline": True})
    paid = shop.push(queued).json()["results"][0]
    assert (paid["status"], paid["overdraft"]) == ("accepted_offline", 200)
    again = shop.push(queued).json()["results"][0]  # the sync's own retry: applied once
    assert (again["status"], again["original_status"]) == ("duplicate", "accepted_offline")
    online_again = shop.authorize(online)  # the online answer now tells the truth too
    assert (online_again["status"], online_again["original_status"]) == (
        "duplicate",
        "accepted_offline",
    )
    look = shop.call("POST", "/v1/lookup", {"certificate": certificate_b64(cards[0])}).json()
    assert look["balances"][0]["points"] == 0
    with engine.begin() as conn:
        assert conn.execute(
            select(transactions.c.offline).where(transactions.c.id == str(online.id))
        ).scalar_one()  # counted against the terminal's offline limits from now on
    _assert_clean(engine)


def test_online_refusal_stands_when_the_offline_rules_refuse_the_resend_too(
    shop: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "MY100011", 100)
    online = shop.tx(use(world, 3500), cards[0])  # above the 3,000 pt offline limit
    assert shop.authorize(online)["reason"] == "insufficient-balance"
    queued = online.model_copy(update={"offline": True})
    again = shop.push(queued).json()["results"][0]
    assert (again["status"], again["original_status"], again["reason"]) == (
        "duplicate",
        "rejected",
        "insufficient-balance",
    )
    look = shop.call("POST", "/v1/lookup", {"certificate": certificate_b64(cards[0])}).json()
    assert look["balances"][0]["points"] == 100
    _assert_clean(engine)


def test_lookup_follows_renewal_and_shows_service_id(
    library: SigningTerminal,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    test_ca: TestCA,
    tmp_path: Path,
) -> None:
    resident(engine, world, cards[0], "MY100004", 500)
    renewed = test_ca.issue_card(tmp_path / "renewed", "1234", renew_from=cards[0])
    unknown = library.call("POST", "/v1/lookup", {"certificate": certificate_b64(renewed)})
    assert unknown.json()["status"] == "unregistered"
    with engine.begin() as conn:
        op.import_renewal_link(conn, cards[0].auth_certificate, renewed.auth_certificate)
    link = library.tx({"kind": "service_id_link", "customer_id": "LIB-0042"}, renewed)
    assert library.authorize(link)["status"] == "applied"
    look = library.call("POST", "/v1/lookup", {"certificate": certificate_b64(renewed)}).json()
    assert look["mykey_id"] == "MY100004"
    assert look["customer_id"] == "LIB-0042"
    assert look["status"] == "active"
    balance = look["balances"][0]
    assert balance["points"] == 500
    assert balance["nearest_expiry"] == balance["lots"][0]["expires_on"]


def test_mykey_setup_with_challenge_and_candidates(
    office: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[1], "TAKEN1")
    availability = office.call("GET", "/v1/mykey/availability?mykey_id=taken1").json()
    assert availability["available"] is False and availability["candidates"]
    challenge = office.call("POST", "/v1/mykey/challenge").json()["challenge"]
    taken = office.authorize(
        office.tx({"kind": "mykey_setup", "mykey_id": "Taken1", "challenge": challenge}, cards[0])
    )
    assert taken["reason"] == "mykey-id-taken" and taken["candidates"]
    chosen = taken["candidates"][0]
    created = office.authorize(
        office.tx({"kind": "mykey_setup", "mykey_id": chosen, "challenge": challenge}, cards[0])
    )
    assert (created["status"], created["mykey_id"]) == ("applied", chosen)
    again = office.authorize(
        office.tx({"kind": "mykey_setup", "mykey_id": "OTHER123", "challenge": challenge}, cards[0])
    )
    assert again["reason"] == "challenge-invalid"
    look = office.call("POST", "/v1/lookup", {"certificate": certificate_b64(cards[0])}).json()
    assert look["mykey_id"] == chosen


def _issue(
    office: SigningTerminal, card: CardProfile, world: World, specs: list[tuple[int, int]]
) -> dict[str, object]:
    today = today_jst()
    payload = {
        "kind": "voucher_issue",
        "program_id": world.program_id,
        "vouchers": [{"number": voucher_number(s), "points": p} for s, p in specs],
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=2)).isoformat(),
    }
    return office.authorize(office.tx(payload, card))


def test_vouchers_issue_redeem_once_and_conflicts(
    office: SigningTerminal,
    shop: SigningTerminal,
    shop2: SigningTerminal,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
) -> None:
    resident(engine, world, cards[0], "MY100005", 3000)
    issued = _issue(office, cards[0], world, [(11, 500), (12, 500), (13, 500)])
    assert (issued["status"], issued["balance"]) == ("applied", 1500)
    redeem = {"kind": "voucher_redeem", "number": voucher_number(11)}
    assert shop.authorize(shop.tx(redeem))["status"] == "applied"
    second = shop2.authorize(shop2.tx(redeem))
    assert (second["status"], second["reason"]) == ("rejected", "voucher-already-redeemed")
    assert second["conflict"]["first"]["business_id"] == "A0001"
    # two shops redeem voucher 12 offline; the later sync is a conflict naming both
    redeem12 = {"kind": "voucher_redeem", "number": voucher_number(12)}
    first = shop2.push(shop2.tx(redeem12, offline=True)).json()["results"][0]
    later = shop.push(shop.tx(redeem12, offline=True)).json()["results"][0]
    assert first["status"] == "applied"
    assert later["status"] == "conflict"
    sides = {later["conflict"]["first"]["business_id"], later["conflict"]["second"]["business_id"]}
    assert sides == {"A0001", "A0002"}
    forged = shop.authorize(shop.tx({"kind": "voucher_redeem", "number": voucher_number(99)}))
    assert forged["reason"] == "unknown-voucher"
    pulled = shop.call("GET", "/v1/pull").json()
    assert {r["voucher_number"] for r in pulled["redemptions"]} == {
        voucher_number(11),
        voucher_number(12),
    }
    assert [k["terminal_id"] for k in pulled["voucher_keys"]] == [office.terminal_id]
    # the unredeemed voucher 13 expires, but only once a shop that redeemed it offline on its
    # last valid day could no longer be waiting to sync (72 h = 3 days): then its points return
    with engine.begin() as conn:
        within_grace = op.run_expiry(conn, today_jst() + timedelta(days=2 + 3))
        report = op.run_expiry(conn, today_jst() + timedelta(days=2 + 3 + 1))
    assert (within_grace.vouchers_voided, report.vouchers_voided) == (0, 1)
    assert report.points_returned == 500
    _assert_clean(engine)


def test_voucher_redeemed_offline_in_time_is_paid_when_it_syncs_after_the_expiry_void(
    office: SigningTerminal,
    shop: SigningTerminal,
    shop2: SigningTerminal,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
) -> None:
    # A shop took voucher 31 offline on a valid day and stayed offline past the grace, so the
    # expiry run gave its points back to the resident, who then spent them. The shop honoured
    # the voucher: when the redemption arrives the shop is paid, the points come back from the
    # resident and what they no longer hold is an overdraft (DOMAIN §6). Before, the shop got
    # "voucher-not-usable" and lost 500 pt (sim seed 5035, 40 steps).
    resident(engine, world, cards[0], "MY100012", 1000)
    assert _issue(office, cards[0], world, [(31, 500), (32, 500)])["balance"] == 0
    taken_offline = shop.tx({"kind": "voucher_redeem", "number": voucher_number(31)}, offline=True)
    with engine.begin() as conn:
        assert op.run_expiry(conn, today_jst() + timedelta(days=2 + 3 + 1)).vouchers_voided == 2
    assert shop.authorize(shop.tx(use(world, 800), cards[0]))["balance"] == 200
    paid = shop.push(taken_offline).json()["results"][0]
    assert paid["status"] == "applied", paid
    look = shop.call("POST", "/v1/lookup", {"certificate": certificate_b64(cards[0])}).json()
    assert (look["balances"][0]["points"], look["balances"][0]["overdraft"]) == (0, 300)
    with engine.begin() as conn:
        settled = balance_of(conn, AccountKind.SETTLEMENT, world.program_id, "A0001")
        last = history(conn, "MY100012").rows[-1]
    assert settled == 800 + 500
    assert (last["kind"], last["points"]) == ("利用", -500)
    assert voucher_number(31) in last["description"]
    # now redeemed: a second shop is told who had it; a voided voucher is still refused online
    second = shop2.authorize(shop2.tx({"kind": "voucher_redeem", "number": voucher_number(31)}))
    assert second["reason"] == "voucher-already-redeemed"
    late = shop.authorize(shop.tx({"kind": "voucher_redeem", "number": voucher_number(32)}))
    assert (late["status"], late["reason"]) == ("rejected", "voucher-not-usable")
    _assert_clean(engine)


def test_voucher_issue_refused_beyond_balance(
    office: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "MY100006", 600)
    refused = _issue(office, cards[0], world, [(21, 500), (22, 500)])
    assert refused["reason"] == "insufficient-balance"
    ok = _issue(office, cards[0], world, [(21, 500)])
    assert ok["balance"] == 100
    _assert_clean(engine)


def test_grant_by_municipal_terminal(
    municipal: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "MY100007")
    granted = municipal.authorize(
        municipal.tx(
            {"kind": "grant", "grant_program_id": world.grant_program_id}, cards[0], signed=False
        )
    )
    assert (granted["status"], granted["balance"]) == ("applied", 500)


def test_pull_is_incremental_and_snapshot_is_signed(
    shop: SigningTerminal,
    client: TestClient,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    test_ca: TestCA,
) -> None:
    resident(engine, world, cards[0], "MY100008", 800)
    resident(engine, world, cards[1], "MY100009", 100)
    assert shop.authorize(shop.tx(use(world, 100), cards[0]))["status"] == "applied"
    first = shop.call("GET", "/v1/pull").json()
    assert [c["mykey_id"] for c in first["cards"]] == ["MY100008"]  # only cards seen here
    assert first["cards"][0]["balances"][0]["points"] == 700
    assert first["programs"][0]["offline"]["max_per_transaction"] == 3000
    assert [g["name"] for g in first["grant_programs"]] == ["献血"]  # Kawasaki's, for the desk
    assert (first["business"]["name"], first["business"]["street_name"]) == (
        "パン屋",
        "元住吉商店街",
    )
    cursor = first["cursor"]
    quiet = shop.call("GET", f"/v1/pull?cursor={cursor}").json()
    assert quiet["cards"] == []
    with engine.begin() as conn:
        op.grant_points(conn, world.grant_program_id, "MY100008", 50)
        op.grant_points(conn, world.grant_program_id, "MY100009", 50)
        op.link_service_id(conn, "MY100008", "A0001", "M-77")
        test_ca.revoke(cards[3].auth_certificate)
        op.import_crl(
            conn,
            test_ca.crl().public_bytes(Encoding.DER),
            TrustStore.from_directory(test_ca.trust_directory),
        )
    delta = shop.call("GET", f"/v1/pull?cursor={cursor}").json()
    assert [c["mykey_id"] for c in delta["cards"]] == ["MY100008"]
    assert delta["cards"][0]["balances"][0]["points"] == 750
    assert delta["service_ids"] == [{"mykey_id": "MY100008", "customer_id": "M-77"}]
    snapshot = RevocationSnapshot.model_validate(delta["revocation"]["snapshot"])
    assert str(cards[3].auth_certificate.serial_number) in {e.serial for e in snapshot.entries}
    assert delta["revocation"]["age_seconds"] is not None
    enroll_key = _server_key(client, engine)
    enroll_key.verify(base64.b64decode(snapshot.signature), snapshot_bytes(snapshot))
    refused = shop.authorize(shop.tx(use(world, 1), cards[3]))
    assert refused["reason"] == "certificate-revoked"


def _server_key(client: TestClient, engine: Engine) -> Ed25519PublicKey:
    """The server's snapshot key, as a newly enrolled terminal learns it."""
    with engine.begin() as conn:
        code = op.create_enrollment_code(conn, "A0002", ["shop"]).code
    key = raw_public(Ed25519PrivateKey.generate())
    body = client.post("/v1/enroll", json={"code": code, "public_key": key}).json()
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(body["server_public_key"]))


def test_enrollment_code_is_one_time(client: TestClient, engine: Engine, world: World) -> None:
    with engine.begin() as conn:
        code = op.create_enrollment_code(conn, "A0001", ["shop"]).code
        old = op.create_enrollment_code(
            conn, "A0001", ["shop"], now=datetime.now(UTC) - timedelta(hours=25)
        ).code
    key = raw_public(Ed25519PrivateKey.generate())
    assert client.post("/v1/enroll", json={"code": code, "public_key": key}).status_code == 200
    reused = client.post(
        "/v1/enroll", json={"code": code, "public_key": raw_public(Ed25519PrivateKey.generate())}
    )
    assert reused.status_code == 403
    assert reused.json()["code"] == "enrollment-code-invalid"
    expired = client.post(
        "/v1/enroll", json={"code": old, "public_key": raw_public(Ed25519PrivateKey.generate())}
    )
    assert expired.status_code == 403


def test_errors_are_problem_documents(shop: SigningTerminal, client: TestClient) -> None:
    for response, status, code in [
        (client.get("/v1/nothing-here"), 404, "not-found"),
        (client.delete("/v1/enroll"), 405, "method-not-allowed"),
        (client.post("/v1/enroll", json={"code": 1}), 422, "invalid-input"),
        (shop.call("POST", "/v1/transactions/push", {"transactions": []}), 422, "invalid-input"),
        (client.post("/v1/enroll", content=b"x" * (3 * 1024 * 1024)), 413, "payload-too-large"),
        (client.get("/v1/pull"), 401, "unauthenticated"),
    ]:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert (body["status"], body["code"]) == (status, code)
        assert body["title_ja"] and body["title_en"]


def test_openapi_lists_the_terminal_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/enroll",
        "/v1/transactions/push",
        "/v1/transactions/authorize",
        "/v1/lookup",
        "/v1/pull",
        "/v1/mykey/challenge",
    ):
        assert path in paths


def test_bad_input_is_refused_cleanly_and_loses_nothing(
    shop: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "MY100010", 300)
    garbage = shop.call("POST", "/v1/lookup", {"certificate": "%%%"})
    assert garbage.status_code == 422
    assert garbage.json()["code"] == "invalid-input"
    not_a_cert = shop.call("POST", "/v1/lookup", {"certificate": "AAAAAAAA"})
    assert (not_a_cert.status_code, not_a_cert.json()["code"]) == (422, "certificate-rejected")
    good = shop.tx(use(world, 100), cards[0])
    body = good.model_dump(mode="json")
    huge = dict(body, payload=dict(body["payload"], program_id=2**63))
    far = dict(body, terminal_time="9999-12-31T23:59:59-12:00")
    for bad in (huge, far):
        response = shop.call("POST", "/v1/transactions/push", {"transactions": [body, bad]})
        assert response.status_code == 422, response.text
    assert shop.push(good).json()["results"][0]["balance"] == 200
    _assert_clean(engine)


def test_oversized_chunked_body_is_refused(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    response = client.post("/v1/enroll", content=chunks())
    assert response.status_code == 413
    assert response.json()["code"] == "payload-too-large"


def test_attendance_tap_grants_once_per_event(
    municipal: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "MY100011")
    tap = {"kind": "grant", "grant_program_id": world.grant_program_id, "event": "救命講習-11/24"}
    first = municipal.authorize(municipal.tx(tap, cards[0], signed=False))
    second = municipal.authorize(municipal.tx(tap, cards[0], signed=False))
    other = municipal.authorize(municipal.tx(dict(tap, event="献血-11/25"), cards[0], signed=False))
    assert (first["status"], first["balance"]) == ("applied", 500)
    assert (second["status"], second["reason"]) == ("rejected", "already-granted"), second
    assert (other["status"], other["balance"]) == ("applied", 1000)


def test_suspended_mykey_and_foreign_street_and_stale_offline_are_refused(
    shop: SigningTerminal,
    shop2: SigningTerminal,
    office: SigningTerminal,
    library: SigningTerminal,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
) -> None:
    resident(engine, world, cards[0], "MY100012", 2000)
    # a card signature binds the terminal: another terminal cannot reuse it
    signed_for_shop = shop.tx(use(world, 10), cards[0])
    assert signed_for_shop.card is not None
    stolen = shop2.tx(use(world, 10)).model_copy(
        update={"id": signed_for_shop.id, "card": signed_for_shop.card}
    )
    assert shop2.authorize(stolen)["reason"] == "card-signature-invalid"
    # vouchers: too long a validity, and redemption outside the street
    today = today_jst()
    too_long = {
        "kind": "voucher_issue",
        "program_id": world.program_id,
        "vouchers": [{"number": voucher_number(31), "points": 100}],
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=3)).isoformat(),
    }
    assert office.authorize(office.tx(too_long, cards[0]))["reason"] == "invalid-voucher"
    assert _issue(office, cards[0], world, [(32, 100)])["status"] == "applied"
    outsider = enroll(shop.client, engine, "L0001", ["shop"])
    elsewhere = outsider.authorize(
        outsider.tx({"kind": "voucher_redeem", "number": voucher_number(32)})
    )
    assert elsewhere["reason"] == "voucher-not-usable"
    # no offline acceptance 72 h after the last sync
    assert shop.call("GET", "/v1/pull").status_code == 200
    late = datetime.now(UTC) + timedelta(hours=73)
    stale = shop.push(shop.tx(use(world, 10), cards[0], offline=True, at=late))
    assert stale.json()["results"][0]["reason"] == "offline-limit-exceeded"
    # a suspended MyKey ID cannot spend
    with engine.begin() as conn:
        op.set_mykey_status(conn, "MY100012", "suspended")
    suspended = shop.authorize(shop.tx(use(world, 10), cards[0]))
    assert suspended["reason"] == "mykey-not-active"
    look = library.call("POST", "/v1/lookup", {"certificate": certificate_b64(cards[0])}).json()
    assert look["status"] == "suspended"
    _assert_clean(engine)


def test_card_from_a_ca_the_server_does_not_trust_is_refused(
    shop: SigningTerminal, engine: Engine, world: World, tmp_path: Path
) -> None:
    # Same DN as the trusted test CA, another key: the card's signature is valid, its chain is not.
    impostor = TestCA.init(tmp_path / "impostor-ca").issue_card(tmp_path / "impostor", "1111")
    result = shop.push(shop.tx(use(world, 100), impostor)).json()["results"][0]
    assert (result["status"], result["reason"]) == ("rejected", "certificate-rejected")
    looked_up = shop.call("POST", "/v1/lookup", {"certificate": certificate_b64(impostor)})
    assert (looked_up.status_code, looked_up.json()["code"]) == (422, "certificate-rejected")
    _assert_clean(engine)


def test_each_enrolled_terminal_gets_its_own_voucher_prefix(
    client: TestClient, engine: Engine
) -> None:
    prefixes = []
    for _ in range(2):
        with engine.begin() as conn:
            code = op.create_enrollment_code(conn, "S0001", ["office"]).code
        key = Ed25519PrivateKey.generate()
        body = client.post("/v1/enroll", json={"code": code, "public_key": raw_public(key)}).json()
        prefixes.append(body["voucher_prefix"])
    assert prefixes[0] >= 100_001 and prefixes[1] == prefixes[0] + 1
