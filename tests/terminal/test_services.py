"""The counter's use cases with the in-process emulator, a fake clock and the real ledger code.

Each test plays one thing a clerk or a resident would notice: points moved or not, the right
refusal, nothing lost when the network drops at any step, nothing applied twice.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import Engine

from cardio.auth import TrustStore
from cardio.errors import CardRemovedError, CertificateRevokedError, WrongPinError
from cardio.jpki import JpkiSession
from cardio.secrets import Pin
from cardio.transport import InProcessConnection
from cardio.virtual.ca import TestCA
from cardio.virtual.card import Faults, VirtualJpkiCard
from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from sync.engine import SyncEngine
from sync.protocol import ResultStatus, TransactionKind
from terminal.errors import (
    AlreadyTappedError,
    InsufficientBalanceError,
    OfflineRefusedError,
    ProgramNotAcceptedError,
    RoleNotAllowedError,
)
from terminal.services.counter import (
    CardHolder,
    Counter,
    prove_pin,
    read_card,
    resolve_holder,
)
from terminal.services.grant import grant_points
from terminal.services.history import history, month_range, totals
from terminal.services.library import library_lookup
from terminal.services.mykey_setup import check_mykey_id, setup_mykey
from terminal.services.point_use import use_points
from terminal.services.service_id import link_service_id
from terminal.services.submit import OutcomeStatus
from terminal.store import LocalDecision, OutboxState
from tests.ledger.conftest import World, resident
from tests.terminal.conftest import MakeCounter
from tests.terminal.support import FakeClock, InProcessLedger

PIN = Pin("1234")


def _holder(counter: Counter, session: JpkiSession) -> CardHolder:
    card = read_card(counter, session)
    return resolve_holder(counter, card, prove_pin(session, card, PIN))


def _sync(counter: Counter, ledger: InProcessLedger) -> None:
    engine = SyncEngine(
        ledger,
        counter.store,
        counter.store,
        server_public_key=counter.identity.server_public_key,
    )
    report = engine.sync_now()
    assert report.error is None, report


def _balance(ledger: InProcessLedger, card: CardProfile) -> tuple[int, int]:
    look = ledger.lookup(card.auth_certificate.public_bytes(Encoding.DER))
    return look.balances[0].points, look.balances[0].overdraft


@pytest.fixture
def crl_imported(engine: Engine, test_ca: TestCA) -> None:
    """A fresh CRL on the server, so terminals get revocation data young enough for offline."""
    with engine.begin() as conn:
        op.import_crl(
            conn,
            test_ca.crl().public_bytes(Encoding.DER),
            TrustStore.from_directory(test_ca.trust_directory),
        )


def test_online_use_moves_points_once_and_caches_the_new_balance(
    make_counter: MakeCounter, engine: Engine, world: World, cards: list[CardProfile], session_for
) -> None:
    resident(engine, world, cards[0], "SV000001", 1000)
    counter, ledger = make_counter("A0001", ["shop"])
    session = session_for(cards[0])
    holder = _holder(counter, session)
    assert (holder.mykey_id, holder.online, holder.balances[0].points) == ("SV000001", True, 1000)

    outcome = use_points(counter, session, holder, world.program_id, 300)
    assert (outcome.status, outcome.balance, outcome.done) == (OutcomeStatus.APPLIED, 700, True)
    assert outcome.row.state is OutboxState.APPLIED and counter.store.unsynced_count() == 0
    cached = counter.store.card_by_fingerprint(holder.card.ref.fingerprint_sha256)
    assert cached is not None and cached.balances[0].points == 700
    assert _balance(ledger, cards[0]) == (700, 0)


def test_more_than_the_balance_is_refused_before_the_card_signs(
    make_counter: MakeCounter, engine: Engine, world: World, cards: list[CardProfile], session_for
) -> None:
    resident(engine, world, cards[0], "SV000002", 100)
    counter, _ = make_counter("A0001", ["shop"])
    session = session_for(cards[0])
    holder = _holder(counter, session)
    with pytest.raises(InsufficientBalanceError):
        use_points(counter, session, holder, world.program_id, 101)
    assert counter.store.rows() == []


def test_a_server_refusal_is_final_and_recorded(
    make_counter: MakeCounter, engine: Engine, world: World, cards: list[CardProfile], session_for
) -> None:
    resident(engine, world, cards[0], "SV000003", 500)
    counter, ledger = make_counter("A0001", ["shop"])
    other, _ = make_counter("A0002", ["shop"])
    session = session_for(cards[0])
    holder = _holder(counter, session)  # sees 500
    other_session = session_for(cards[0])
    other_holder = _holder(other, other_session)
    spent = use_points(other, other_session, other_holder, world.program_id, 400)
    assert spent.status is OutcomeStatus.APPLIED

    outcome = use_points(counter, session, holder, world.program_id, 300)
    assert (outcome.status, outcome.reason) == (OutcomeStatus.REFUSED, "insufficient-balance")
    assert outcome.message_ja and not outcome.done
    assert counter.store.get(outcome.row.id).state is OutboxState.REJECTED  # type: ignore[union-attr]
    assert counter.store.unsynced_count() == 0  # never pushed again
    assert _balance(ledger, cards[0]) == (100, 0)


def test_offline_use_within_limits_is_accepted_then_applied_at_sync(
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    session_for,
    crl_imported: None,
) -> None:
    resident(engine, world, cards[1], "SV000004", 5000)
    counter, ledger = make_counter("A0001", ["shop"])
    _holder(counter, session_for(cards[1]))  # seen online once: cached here
    _sync(counter, ledger)

    ledger.down = True
    session = session_for(cards[1])
    holder = _holder(counter, session)
    assert (holder.online, holder.mykey_id, holder.balances[0].points) == (False, "SV000004", 5000)
    outcome = use_points(counter, session, holder, world.program_id, 1200)
    assert outcome.status is OutcomeStatus.ACCEPTED_OFFLINE and outcome.done
    assert outcome.row.decision is LocalDecision.OFFLINE and outcome.row.transaction.offline
    again = _holder(counter, session_for(cards[1]))
    assert again.balances[0].points == 3800  # the unsynced use already counts on screen
    with pytest.raises(OfflineRefusedError) as refused:
        use_points(counter, session, again, world.program_id, 3001)
    assert refused.value.reason == "over-transaction-limit"
    assert len(counter.store.rows()) == 1  # the refusal stored nothing, signed nothing

    ledger.down = False
    _sync(counter, ledger)
    assert counter.store.get(outcome.row.id).state is OutboxState.APPLIED  # type: ignore[union-attr]
    assert _balance(ledger, cards[1]) == (3800, 0)


def test_offline_a_program_not_usable_here_is_refused_before_signing(
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    session_for,
    crl_imported: None,
) -> None:
    # the special event program is accepted only at A0001: A0002 must refuse it offline too
    resident(engine, world, cards[0], "SV000015", 1000)
    counter, ledger = make_counter("A0002", ["shop"])
    _holder(counter, session_for(cards[0]))
    _sync(counter, ledger)
    ledger.down = True
    session = session_for(cards[0])
    holder = _holder(counter, session)
    with pytest.raises(ProgramNotAcceptedError):
        use_points(counter, session, holder, world.event_program_id, 100)
    assert counter.store.rows() == []


def test_an_unknown_card_is_refused_offline_with_its_reason(
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    session_for,
    crl_imported: None,
) -> None:
    resident(engine, world, cards[2], "SV000005", 5000)
    counter, ledger = make_counter("A0001", ["shop"])
    _sync(counter, ledger)
    ledger.down = True
    session = session_for(cards[2])
    holder = _holder(counter, session)
    assert holder.mykey_id is None and not holder.online
    with pytest.raises(OfflineRefusedError) as refused:
        use_points(counter, session, holder, world.program_id, 100)
    assert refused.value.reason == "unknown-card-offline"
    assert "オフライン" in refused.value.message_ja


def test_a_lost_answer_is_accepted_offline_and_never_applied_twice(
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    session_for,
    crl_imported: None,
) -> None:
    resident(engine, world, cards[3], "SV000006", 2000)
    counter, ledger = make_counter("A0001", ["shop"])
    _sync(counter, ledger)
    session = session_for(cards[3])
    holder = _holder(counter, session)
    ledger.lose_answers = True  # the server applies it; the answer never arrives
    outcome = use_points(counter, session, holder, world.program_id, 700)
    assert outcome.status is OutcomeStatus.ACCEPTED_OFFLINE
    assert outcome.row.transaction.offline and counter.store.unsynced_count() == 1

    ledger.lose_answers = False
    _sync(counter, ledger)
    row = counter.store.get(outcome.row.id)
    assert row is not None and row.state is OutboxState.APPLIED
    assert row.result is not None and row.result.status is ResultStatus.DUPLICATE
    assert _balance(ledger, cards[3]) == (1300, 0)  # once


def test_a_lost_answer_beyond_the_offline_limits_is_settled_by_sync(
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    test_ca: TestCA,
    session_for,
    tmp_path: Path,
    crl_imported: None,
) -> None:
    card = test_ca.issue_card(tmp_path / "big", "1234")
    resident(engine, world, card, "SV000007", 9000)
    counter, ledger = make_counter("A0001", ["shop"])
    _sync(counter, ledger)
    session = session_for(card)
    holder = _holder(counter, session)
    ledger.lose_answers = True
    outcome = use_points(counter, session, holder, world.program_id, 4000)  # > 3,000 offline
    assert outcome.status is OutcomeStatus.UNDECIDED and not outcome.done
    assert "同期" in outcome.message_ja
    ledger.lose_answers = False
    _sync(counter, ledger)
    assert counter.store.get(outcome.row.id).state is OutboxState.APPLIED  # type: ignore[union-attr]
    assert _balance(ledger, card) == (5000, 0)


def test_card_pulled_while_signing_records_nothing(
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    test_ca: TestCA,
    tmp_path: Path,
) -> None:
    card = test_ca.issue_card(tmp_path / "pulled", "1234")
    resident(engine, world, card, "SV000008", 1000)
    counter, ledger = make_counter("A0001", ["shop"])
    faults = Faults()
    connection = InProcessConnection(VirtualJpkiCard(card, faults=faults))
    session = JpkiSession(connection)
    holder = _holder(counter, session)
    faults.remove_on_ins = 0x2A  # PERFORM SECURITY OPERATION: the transaction signature
    with pytest.raises(CardRemovedError):
        use_points(counter, session, holder, world.program_id, 100)
    assert counter.store.rows() == []
    assert _balance(ledger, card) == (1000, 0)


def test_wrong_pin_says_tries_left_and_stores_nothing(
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    test_ca: TestCA,
    tmp_path: Path,
    session_for,
    caplog: pytest.LogCaptureFixture,
) -> None:
    card = test_ca.issue_card(tmp_path / "pin", "8203")
    resident(engine, world, card, "SV000009", 1000)
    counter, _ = make_counter("A0001", ["shop"])
    session = session_for(card)
    checked = read_card(counter, session)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(WrongPinError) as wrong:
        prove_pin(session, checked, Pin("8204"))
    assert wrong.value.tries_left == 2 and "残り2回" in wrong.value.message_ja
    holder = resolve_holder(counter, checked, prove_pin(session, checked, Pin("8203")))
    use_points(counter, session, holder, world.program_id, 10)
    assert counter.store.rows()[0].state is OutboxState.APPLIED
    assert "8203" not in caplog.text and "8204" not in caplog.text


def test_a_revoked_card_is_refused_from_the_synced_snapshot_even_offline(
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    test_ca: TestCA,
    tmp_path: Path,
    session_for,
) -> None:
    card = test_ca.issue_card(tmp_path / "revoked", "1234")
    resident(engine, world, card, "SV000010", 1000)
    test_ca.revoke(card.auth_certificate)
    with engine.begin() as conn:
        op.import_crl(
            conn,
            test_ca.crl().public_bytes(Encoding.DER),
            TrustStore.from_directory(test_ca.trust_directory),
        )
    counter, ledger = make_counter("A0001", ["shop"])
    _sync(counter, ledger)
    ledger.down = True
    with pytest.raises(CertificateRevokedError):
        read_card(counter, session_for(card))


def test_grant_in_attendance_mode_grants_once_per_card_and_event(
    make_counter: MakeCounter, engine: Engine, world: World, cards: list[CardProfile], session_for
) -> None:
    resident(engine, world, cards[0], "SV000011")
    desk, ledger = make_counter("D0001", ["municipal"])
    first = grant_points(desk, session_for(cards[0]), world.grant_program_id, event="救命講習11/24")
    assert (first.status, first.balance) == (OutcomeStatus.APPLIED, 500)
    with pytest.raises(AlreadyTappedError):
        grant_points(desk, session_for(cards[0]), world.grant_program_id, event="救命講習11/24")
    assert len(desk.store.rows()) == 1
    _sync(desk, ledger)  # the desk now knows the grant programs and their default points
    default = grant_points(desk, session_for(cards[0]), world.grant_program_id)
    assert (default.row.points, default.balance) == (500, 1000)
    ledger.down = True
    queued = grant_points(desk, session_for(cards[0]), world.grant_program_id, points=50)
    assert queued.status is OutcomeStatus.ACCEPTED_OFFLINE and "反映" in queued.message_ja
    ledger.down = False
    _sync(desk, ledger)
    assert _balance(ledger, cards[0]) == (1050, 0)


def test_library_lookup_without_pin_then_link_shows_the_patron_number(
    make_counter: MakeCounter, engine: Engine, world: World, cards: list[CardProfile], session_for
) -> None:
    resident(engine, world, cards[1], "SV000012")
    library, _ = make_counter("L0001", ["library"])
    holder = library_lookup(library, session_for(cards[1]))
    assert (holder.mykey_id, holder.customer_id, holder.authenticated) == ("SV000012", None, None)
    session = session_for(cards[1])
    holder = resolve_holder(library, read_card(library, session), None)
    prove_pin(session, holder.card, PIN)
    linked = link_service_id(library, session, holder, " P-0012345 ")
    assert linked.status is OutcomeStatus.APPLIED
    again = library_lookup(library, session_for(cards[1]))
    assert again.customer_id == "P-0012345"


def test_mykey_setup_checks_the_id_and_binds_it_to_the_card(
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    test_ca: TestCA,
    tmp_path: Path,
    session_for,
) -> None:
    resident(engine, world, test_ca.issue_card(tmp_path / "taken", "1234"), "TAKEN001")
    card = test_ca.issue_card(tmp_path / "new", "1234")
    office, _ = make_counter("S0001", ["office", "shop"])
    taken = check_mykey_id(office, "TAKEN001")
    assert not taken.available and taken.candidates
    session = session_for(card)
    holder = _holder(office, session)
    assert holder.status == "unregistered"
    outcome = setup_mykey(office, session, holder, "NEWID001")
    assert outcome.status is OutcomeStatus.APPLIED
    assert _holder(office, session_for(card)).mykey_id == "NEWID001"


def test_roles_limit_what_a_terminal_may_do(
    make_counter: MakeCounter, engine: Engine, world: World, cards: list[CardProfile], session_for
) -> None:
    resident(engine, world, cards[2], "SV000013", 100)
    library, _ = make_counter("L0001", ["library"])
    session = session_for(cards[2])
    holder = _holder(library, session)
    with pytest.raises(RoleNotAllowedError):
        use_points(library, session, holder, world.program_id, 10)
    with pytest.raises(RoleNotAllowedError):
        grant_points(library, session, world.grant_program_id)


def test_history_and_totals_show_each_rows_sync_state(
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    session_for,
    clock: FakeClock,
    crl_imported: None,
) -> None:
    resident(engine, world, cards[3], "SV000014", 3000)
    counter, ledger = make_counter("A0001", ["shop"])
    session = session_for(cards[3])
    use_points(counter, session, _holder(counter, session), world.program_id, 100)
    _sync(counter, ledger)
    ledger.down = True
    session = session_for(cards[3])
    use_points(counter, session, _holder(counter, session), world.program_id, 200)
    now = clock().astimezone(month_range(2026, 1)[0].tzinfo)
    rows = history(counter, *month_range(now.year, now.month))
    assert [(r.kind, r.points, r.state) for r in rows] == [
        (TransactionKind.POINT_USE, 200, OutboxState.PENDING),
        (TransactionKind.POINT_USE, 100, OutboxState.APPLIED),
    ]
    summary = totals(rows)
    assert (summary.points_used, summary.unsynced, summary.offline) == (300, 1, 1)
