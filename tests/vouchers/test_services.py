"""Vouchers at the counter with the real ledger code in process: issue at the street office,
redeem at the street's shops online and offline, conflicts at sync, typed numbers, reprints."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import Engine, update

from cardio.jpki import JpkiSession
from cardio.secrets import Pin
from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from server_stub.db.schema import point_programs
from sync.protocol import ResultStatus
from terminal.errors import InsufficientBalanceError, RoleNotAllowedError
from terminal.services.counter import CardHolder, Counter, prove_pin, read_card, resolve_holder
from terminal.services.submit import OutcomeStatus
from terminal.services.vouchers import (
    KEEP_VOUCHER_JA,
    IssuedVouchers,
    issue_vouchers,
    redeem_by_number,
    redeem_voucher,
    reprint_faces,
)
from terminal.store import LocalDecision, OutboxState
from terminal.vouchers.errors import (
    VoucherNumberError,
    VoucherOtherStreetError,
    VoucherRedeemedElsewhereError,
    VoucherRedeemedHereError,
)
from terminal.vouchers.layout import TITLE
from terminal.vouchers.payload import decode_payload
from tests.ledger.conftest import World, resident
from tests.vouchers.conftest import Desk, MakeDesk

PIN = Pin("1234")


def _holder(counter: Counter, session: JpkiSession) -> CardHolder:
    card = read_card(counter, session)
    return resolve_holder(counter, card, prove_pin(session, card, PIN))


def _points(desk: Desk, card: CardProfile) -> int:
    look = desk.ledger.lookup(card.auth_certificate.public_bytes(Encoding.DER))
    return look.balances[0].points


def _issue(office: Desk, session: JpkiSession, world: World, points: list[int]) -> IssuedVouchers:
    holder = _holder(office.counter, session)
    issued = issue_vouchers(
        office.counter,
        session,
        holder,
        world.program_id,
        points,
        voucher_key=office.voucher_key,
        street_name="元住吉商店街",
    )
    assert issued.outcome.status is OutcomeStatus.APPLIED, issued.outcome
    return issued


@pytest.fixture
def office(make_desk: MakeDesk) -> Desk:
    desk = make_desk("S0001", ["office", "shop"])
    desk.sync()
    return desk


def test_issue_then_redeem_online_once(
    make_desk: MakeDesk,
    office: Desk,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    session_for,
) -> None:
    resident(engine, world, cards[0], "VC000001", 3000)
    issued = _issue(office, session_for(cards[0]), world, [500] * 5)
    assert len(issued.faces) == 5 and _points(office, cards[0]) == 500
    face = issued.faces[0]
    assert (face.title, face.points, face.reissue) == (TITLE, 500, False)
    assert face.usable_at == "★元住吉商店街の各店舗でご利用頂けます。"
    assert face.program_name == "川崎市ポイント" and face.valid_from == face.issued_on
    assert (face.valid_until - face.valid_from).days == 2  # the program's 3 days
    assert len({f.number for f in issued.faces}) == 5
    assert decode_payload(face.payload).data == issued.vouchers[0]

    shop, other = make_desk("A0001", ["shop"]), make_desk("A0002", ["shop"])
    shop.sync()
    other.sync()
    outcome = redeem_voucher(shop.counter, face.payload)
    assert outcome.status is OutcomeStatus.APPLIED and outcome.row.state is OutboxState.APPLIED
    assert outcome.row.points == 500
    with pytest.raises(VoucherRedeemedHereError) as again:
        redeem_voucher(shop.counter, face.payload)
    assert again.value.code == "voucher-already-redeemed-here"
    calls = shop.ledger.calls
    with pytest.raises(VoucherRedeemedHereError):
        redeem_voucher(shop.counter, face.payload)
    assert shop.ledger.calls == calls  # refused offline: it never reached the server

    # a second shop that has not synced since: the server refuses and names the first shop
    refused = redeem_voucher(other.counter, face.payload)
    assert refused.status is OutcomeStatus.REFUSED and refused.reason == "voucher-already-redeemed"
    assert "A0001" in refused.message_ja and "A0001" in refused.message_en


def test_issue_needs_the_office_role_and_the_balance(
    make_desk: MakeDesk,
    office: Desk,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    session_for,
) -> None:
    resident(engine, world, cards[1], "VC000002", 1000)
    session = session_for(cards[1])
    shop = make_desk("A0001", ["shop"])
    with pytest.raises(RoleNotAllowedError):
        issue_vouchers(
            shop.counter,
            session,
            _holder(shop.counter, session),
            world.program_id,
            [100],
            voucher_key=shop.voucher_key,
        )
    holder = _holder(office.counter, session)
    with pytest.raises(InsufficientBalanceError):
        issue_vouchers(
            office.counter,
            session,
            holder,
            world.program_id,
            [600, 600],
            voucher_key=office.voucher_key,
        )
    assert office.counter.store.rows() == [] and _points(office, cards[1]) == 1000


def test_redeemed_elsewhere_is_known_after_sync(
    make_desk: MakeDesk,
    office: Desk,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    session_for,
) -> None:
    resident(engine, world, cards[2], "VC000003", 1000)
    face = _issue(office, session_for(cards[2]), world, [400]).faces[0]
    first, second = make_desk("A0001", ["shop"]), make_desk("A0002", ["shop"])
    first.sync()
    second.sync()
    assert redeem_voucher(first.counter, face.payload).status is OutcomeStatus.APPLIED
    second.sync()
    second.ledger.down = True  # offline after the sync: the street's list still says no
    with pytest.raises(VoucherRedeemedElsewhereError) as caught:
        redeem_voucher(second.counter, face.payload)
    assert caught.value.code == "voucher-already-redeemed"
    assert second.counter.store.rows() == []


def test_a_voucher_of_another_street_is_refused_by_name(
    make_desk: MakeDesk,
    office: Desk,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    session_for,
) -> None:
    with engine.begin() as conn:
        op.create_business(conn, "S0002", "141305", "木月商店街", "street")
        op.create_business(conn, "B0001", "141305", "八百屋", "shop", street_id="S0002")
    resident(engine, world, cards[3], "VC000004", 1000)
    face = _issue(office, session_for(cards[3]), world, [300]).faces[0]
    shop = make_desk("B0001", ["shop"])
    shop.sync()
    with pytest.raises(VoucherOtherStreetError) as caught:
        redeem_voucher(shop.counter, face.payload)
    assert caught.value.message_ja.startswith("このポイント券は他の商店街")


def test_offline_redemption_within_the_limits_then_applied_at_sync(
    make_desk: MakeDesk,
    office: Desk,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    session_for,
) -> None:
    with engine.begin() as conn:  # a small since-sync total, to reach it with a few vouchers
        conn.execute(
            update(point_programs)
            .where(point_programs.c.id == world.program_id)
            .values(offline_max_per_terminal_since_sync=5_000)
        )
    resident(engine, world, cards[0], "VC000005", 10_000)
    faces = _issue(office, session_for(cards[0]), world, [2000, 2000, 2000, 3500]).faces
    shop = make_desk("A0001", ["shop"])
    shop.sync()
    shop.ledger.down = True

    accepted = [redeem_voucher(shop.counter, faces[i].payload) for i in (0, 1)]
    assert [o.status for o in accepted] == [OutcomeStatus.ACCEPTED_OFFLINE] * 2
    assert all(o.row.decision is LocalDecision.OFFLINE for o in accepted)
    over_total = redeem_voucher(shop.counter, faces[2].payload)  # 4,000 + 2,000 > 5,000
    over_each = redeem_voucher(shop.counter, faces[3].payload)  # 3,500 > 3,000 per transaction
    for outcome in (over_total, over_each):
        assert outcome.status is OutcomeStatus.UNDECIDED and outcome.message_ja == KEEP_VOUCHER_JA
    with pytest.raises(VoucherRedeemedHereError):  # accepted offline counts as redeemed here
        redeem_voucher(shop.counter, faces[0].payload)

    shop.ledger.down = False
    shop.sync()
    states = {row.transaction.payload.number: row.state for row in shop.counter.store.rows()}  # type: ignore[union-attr]
    assert set(states.values()) == {OutboxState.APPLIED}
    assert len(states) == 4 and shop.counter.store.problems() == []
    other = make_desk("A0002", ["shop"])
    other.sync()
    with pytest.raises(VoucherRedeemedElsewhereError):
        redeem_voucher(other.counter, faces[0].payload)


def test_two_shops_redeeming_offline_are_a_conflict_naming_both(
    make_desk: MakeDesk,
    office: Desk,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    session_for,
) -> None:
    resident(engine, world, cards[1], "VC000006", 1000)
    face = _issue(office, session_for(cards[1]), world, [800]).faces[0]
    first, second = make_desk("A0001", ["shop"]), make_desk("A0002", ["shop"])
    for shop in (first, second):
        shop.sync()
        shop.ledger.down = True
        assert redeem_voucher(shop.counter, face.payload).status is OutcomeStatus.ACCEPTED_OFFLINE
        shop.ledger.down = False
    first.sync()
    second.sync()
    assert first.counter.store.problems() == []
    [problem] = second.counter.store.problems()
    assert problem.state is OutboxState.CONFLICT
    assert problem.result is not None and problem.result.status is ResultStatus.CONFLICT
    conflict = problem.result.conflict
    assert conflict is not None and conflict.voucher_number == face.number
    assert (conflict.first.business_id, conflict.second.business_id) == ("A0001", "A0002")


def test_a_typed_number_is_redeemed_online_only(
    make_desk: MakeDesk,
    office: Desk,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    session_for,
) -> None:
    resident(engine, world, cards[2], "VC000007", 1000)
    faces = _issue(office, session_for(cards[2]), world, [100, 200]).faces
    shop = make_desk("A0001", ["shop"])
    with pytest.raises(VoucherNumberError):
        redeem_by_number(shop.counter, faces[0].number[:12] + "X")
    typed = f"{faces[0].number[:6]} {faces[0].number[6:]}"
    assert redeem_by_number(shop.counter, typed).status is OutcomeStatus.APPLIED
    with pytest.raises(VoucherRedeemedHereError):
        redeem_by_number(shop.counter, faces[0].number)
    shop.ledger.down = True
    lost = redeem_by_number(shop.counter, faces[1].number)
    assert lost.status is OutcomeStatus.UNDECIDED and lost.message_ja == KEEP_VOUCHER_JA
    assert lost.row.decision is LocalDecision.UNDECIDED and not lost.row.transaction.offline


def test_reprint_gives_the_same_codes_marked_reissued(
    office: Desk, engine: Engine, world: World, cards: list[CardProfile], session_for
) -> None:
    resident(engine, world, cards[3], "VC000008", 1000)
    issued = _issue(office, session_for(cards[3]), world, [100, 200])
    again = reprint_faces(
        office.counter, issued.outcome.row.id, office.voucher_key, street_name="元住吉商店街"
    )
    assert [f.payload for f in again] == [f.payload for f in issued.faces]
    assert all(f.reissue for f in again) and not any(f.reissue for f in issued.faces)
    assert [f.issued_on for f in again] == [f.issued_on for f in issued.faces]
