"""お会計 through the real window: the happy path, and what the clerk and the customer see when
something goes wrong. No sleeps: every wait is on a state the screen reaches."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from PySide6.QtCore import Qt, QTimer
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from cardio.auth import TrustStore
from cardio.secrets import Pin
from cardio.virtual.ca import TestCA
from cardio.virtual.card import Faults
from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from terminal.services.counter import prove_pin, read_card, resolve_holder
from terminal.services.point_use import use_points
from tests.ledger.conftest import World, resident
from tests.terminal.conftest import MakeCounter, session_for  # noqa: F401 - fixture
from tests.terminal.support import InProcessLedger
from tests.ui.conftest import MakeWindow, engine_for
from tests.ui.support import PIN, screenshot, type_pin, wait_state
from ui.card_flow import CardFlow, FlowState
from ui.main_window import MainWindow
from ui.screens.checkout import CheckoutScreen
from ui.screens.sync_screen import SyncScreen


def _balance(ledger: InProcessLedger, card: CardProfile) -> int:
    look = ledger.lookup(card.auth_certificate.public_bytes(Encoding.DER))
    return look.balances[0].points


def _screen(window: MainWindow) -> CheckoutScreen:
    window.open_mode("checkout")
    screen = window.screens["checkout"]
    assert isinstance(screen, CheckoutScreen)
    return screen


def _flow(screen: CheckoutScreen) -> CardFlow:
    assert screen.flow is not None
    return screen.flow


def wait_amount(qtbot: QtBot, screen: CheckoutScreen) -> None:
    """Wait until the flow shows the amount page (the card was read and its PIN checked)."""
    flow = _flow(screen)
    qtbot.waitUntil(lambda: flow.stack.currentWidget() is screen.amount_page, timeout=15000)


def pin_then_amount(qtbot: QtBot, screen: CheckoutScreen) -> None:
    """Type the PIN on the shown pad, then wait for the amount page."""
    type_pin(qtbot, _flow(screen))
    wait_amount(qtbot, screen)


def pay(qtbot: QtBot, screen: CheckoutScreen, points: int) -> None:
    flow = _flow(screen)
    wait_amount(qtbot, screen)
    screen.amount.setText(str(points))
    qtbot.keyClick(screen.amount, Qt.Key.Key_Return)
    assert flow.stack.currentWidget() is screen.confirm_page
    qtbot.keyClick(screen.confirm_page, Qt.Key.Key_Return)


def test_point_use_shows_balance_confirms_and_shows_the_new_balance(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    fresh_cards: list[CardProfile],
) -> None:
    card = fresh_cards[0]
    resident(engine, world, card, "SV000101", 1000)
    counter, ledger = make_counter("A0001", ["shop"])
    window, tray = make_window(counter)
    screen = _screen(window)
    flow = _flow(screen)
    assert flow.state is FlowState.PLACE
    screenshot(window, "checkout_1_place_card")
    tray.place(card)
    wait_state(qtbot, flow, FlowState.PIN)
    assert "残り回数: 3回" in flow.pin_pad.tries.text()
    qtbot.keyClicks(flow.pin_pad, PIN[:2])
    assert flow.pin_pad.display.text() == "●●○○"  # masked
    screenshot(window, "checkout_2_pin")
    qtbot.keyClicks(flow.pin_pad, PIN[2:])
    qtbot.keyClick(flow.pin_pad, Qt.Key.Key_Return)
    wait_state(qtbot, flow, FlowState.CONTENT)
    assert "SV000101" in screen.who.text()
    assert "1,000 ポイント" in screen.balance_group.buttons()[0].text()
    screen.amount.setText("300")
    screenshot(window, "checkout_3_amount")
    qtbot.keyClick(screen.amount, Qt.Key.Key_Return)
    assert "300 ポイントを使います" in screen.confirm_title.text()
    assert "1,000 → 700" in screen.confirm_detail.text()
    screenshot(window, "checkout_4_confirm")
    qtbot.keyClick(screen.confirm_page, Qt.Key.Key_Return)
    wait_state(qtbot, flow, FlowState.RESULT)
    assert flow.result_title.text() == "ポイントを使いました"
    assert "新しい残高: 700 ポイント" in flow.result_lines.text()
    assert "カードをお取りください" in flow.result_hint.text()
    assert window.sounds.played[-1] == "success"
    screenshot(window, "checkout_5_done")
    assert _balance(ledger, card) == 700
    tray.remove()
    assert flow.state is FlowState.PLACE  # ready for the next customer


def test_quick_buttons_and_keypad_fill_the_amount_and_too_much_is_stopped_on_screen(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    fresh_cards: list[CardProfile],
) -> None:
    card = fresh_cards[1]
    resident(engine, world, card, "SV000102", 800)
    counter, ledger = make_counter("A0001", ["shop"])
    window, tray = make_window(counter)
    screen = _screen(window)
    flow = _flow(screen)
    tray.place(card)
    pin_then_amount(qtbot, screen)
    quick = [
        b for b in screen.amount_page.findChildren(type(flow.retry_button)) if b.text() == "1,000"
    ]
    qtbot.mouseClick(quick[0], Qt.MouseButton.LeftButton)
    assert screen.amount.text() == "1000"
    qtbot.keyClick(screen.amount, Qt.Key.Key_Return)
    assert flow.stack.currentWidget() is screen.amount_page  # not past the balance
    assert "残高が足りません" in screen.amount_error.text()
    screenshot(window, "checkout_6_not_enough")
    screen.amount.clear()
    keys = {b.text(): b for b in screen.amount_page.findChildren(type(flow.retry_button))}
    for digit in "250":
        qtbot.mouseClick(keys[digit], Qt.MouseButton.LeftButton)
    assert screen.amount.text() == "250"
    qtbot.keyClick(screen.amount, Qt.Key.Key_Return)
    qtbot.keyClick(screen.confirm_page, Qt.Key.Key_Escape)  # the customer says no
    assert flow.stack.currentWidget() is screen.amount_page
    qtbot.keyClick(screen.amount, Qt.Key.Key_Escape)  # the clerk stops
    assert flow.state is FlowState.REMOVE
    assert counter.store.rows() == [] and _balance(ledger, card) == 800


def test_wrong_pin_shows_tries_left_and_the_last_try_needs_a_confirmation(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    new_card: Any,
) -> None:
    card = new_card("1357")
    resident(engine, world, card, "SV000103", 500)
    counter, _ = make_counter("A0001", ["shop"])
    window, tray = make_window(counter)
    screen = _screen(window)
    flow = _flow(screen)
    tray.place(card)
    type_pin(qtbot, flow, "0000")
    qtbot.waitUntil(lambda: flow.pin_pad.notice.isVisible(), timeout=15000)
    assert "暗証番号が違います" in flow.pin_pad.notice.text()
    assert "残り回数: 2回" in flow.pin_pad.tries.text()
    assert window.sounds.played[-1] == "failure"
    type_pin(qtbot, flow, "0001")
    qtbot.waitUntil(lambda: "残り回数: 1回" in flow.pin_pad.tries.text(), timeout=15000)
    qtbot.keyClicks(flow.pin_pad, "1357")
    qtbot.keyClick(flow.pin_pad, Qt.Key.Key_Return)
    assert flow.pin_pad.needs_confirmation  # not sent yet
    assert flow.state is FlowState.PIN
    screenshot(window, "checkout_7_last_pin_try")
    qtbot.keyClick(flow.pin_pad, Qt.Key.Key_Return)
    wait_amount(qtbot, screen)


def test_locked_pin_says_where_to_unlock(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    new_card: Any,
) -> None:
    card = new_card("2468")
    card.pin_tries_left = 0
    resident(engine, world, card, "SV000104", 500)
    counter, _ = make_counter("A0001", ["shop"])
    window, tray = make_window(counter)
    flow = _flow(_screen(window))
    tray.place(card)
    wait_state(qtbot, flow, FlowState.FAILED)
    assert "ロックされています" in flow.fail_title.text()
    assert "市区町村の窓口" in flow.fail_title.text()
    assert "locked" in flow.fail_en.text()
    screenshot(window, "checkout_8_pin_locked")


def test_unknown_card_is_told_to_set_up_a_mykey_id(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    new_card: Any,
) -> None:
    card = new_card()
    counter, _ = make_counter("A0001", ["shop"])
    window, tray = make_window(counter)
    flow = _flow(_screen(window))
    tray.place(card)
    type_pin(qtbot, flow)
    wait_state(qtbot, flow, FlowState.FAILED)
    assert "マイキーIDが設定されていません" in flow.fail_title.text()
    screenshot(window, "checkout_9_unknown_card")


def test_card_removed_while_the_amount_is_typed_records_nothing(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    fresh_cards: list[CardProfile],
) -> None:
    card = fresh_cards[2]
    resident(engine, world, card, "SV000105", 900)
    counter, ledger = make_counter("A0001", ["shop"])
    window, tray = make_window(counter)
    screen = _screen(window)
    flow = _flow(screen)
    tray.place(card)
    pin_then_amount(qtbot, screen)
    tray.remove()
    assert flow.state is FlowState.FAILED
    assert "記録されていません" in flow.fail_title.text()
    screenshot(window, "checkout_10_card_removed")
    tray.place(card)  # placing it again starts over
    wait_state(qtbot, flow, FlowState.PIN)
    assert counter.store.rows() == [] and _balance(ledger, card) == 900


def test_card_pulled_while_it_signs_says_nothing_was_recorded(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    new_card: Any,
) -> None:
    card = new_card()
    resident(engine, world, card, "SV000106", 900)
    counter, ledger = make_counter("A0001", ["shop"])
    window, tray = make_window(counter)
    screen = _screen(window)
    flow = _flow(screen)
    faults = Faults()
    tray.place(card, faults=faults)
    pin_then_amount(qtbot, screen)
    faults.remove_on_ins = 0x2A  # the card leaves as the transaction is signed
    pay(qtbot, screen, 100)
    wait_state(qtbot, flow, FlowState.FAILED)
    assert "カードが離れました" in flow.fail_title.text()
    assert "記録されていません" in flow.fail_note.text()
    assert counter.store.rows() == [] and _balance(ledger, card) == 900


def test_offline_use_is_accepted_within_limits_and_an_unanswered_big_one_is_undecided(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    new_card: Any,
    crl_imported: None,
) -> None:
    card = new_card()
    resident(engine, world, card, "SV000107", 9000)
    counter, ledger = make_counter("A0001", ["shop"])
    window, tray = make_window(counter, ledger)
    screen = _screen(window)
    flow = _flow(screen)
    tray.place(card)  # seen online once: cached here
    pin_then_amount(qtbot, screen)
    tray.remove()
    assert engine_for(counter, ledger).sync_now().error is None

    ledger.down = True
    tray.place(card)
    pin_then_amount(qtbot, screen)
    assert screen.offline_banner.isVisible()
    pay(qtbot, screen, 1200)
    wait_state(qtbot, flow, FlowState.RESULT)
    assert "オフラインで受け付けました" in flow.result_title.text()
    assert "残高（見込み）: 7,800 ポイント" in flow.result_lines.text()
    screenshot(window, "checkout_11_offline_accepted")
    window.status.refresh()
    assert "オフライン" in window.status.network.text()
    assert "未送信 1件" in window.status.unsynced.text()

    tray.remove()
    ledger.down = False
    tray.place(card)
    pin_then_amount(qtbot, screen)
    ledger.lose_answers = True  # the server applies the use; its answer is lost
    pay(qtbot, screen, 4000)  # above the offline limit per transaction
    wait_state(qtbot, flow, FlowState.RESULT)
    assert flow.result_title.text() == "結果はまだ確定していません"
    assert "同期" in flow.result_lines.text()
    screenshot(window, "checkout_12_undecided")


def test_over_the_offline_limit_is_refused_before_the_card_signs(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    new_card: Any,
    crl_imported: None,
) -> None:
    card = new_card()
    resident(engine, world, card, "SV000108", 9000)
    counter, ledger = make_counter("A0001", ["shop"])
    window, tray = make_window(counter, ledger)
    screen = _screen(window)
    flow = _flow(screen)
    tray.place(card)
    pin_then_amount(qtbot, screen)
    tray.remove()
    assert engine_for(counter, ledger).sync_now().error is None
    ledger.down = True
    tray.place(card)
    type_pin(qtbot, flow)
    pay(qtbot, screen, 3001)
    wait_state(qtbot, flow, FlowState.FAILED)
    assert "オフライン" in flow.fail_title.text()
    screenshot(window, "checkout_13_offline_limit")
    flow.retry()  # back to the amount, same card
    assert flow.stack.currentWidget() is screen.amount_page
    assert counter.store.rows() == []


def test_gui_stays_responsive_while_a_slow_card_works_and_the_pin_never_leaks(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    new_card: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    card = new_card("7395")
    resident(engine, world, card, "SV000109", 600)
    counter, _ = make_counter("A0001", ["shop"])
    window, tray = make_window(counter)
    screen = _screen(window)
    flow = _flow(screen)
    seen: list[tuple[Any, ...]] = []
    worker = window.worker
    for signal in (
        worker.stage_changed,
        worker.pin_requested,
        worker.job_done,
        worker.job_failed,
        flow.job_finished,
        flow.job_error,
        flow.state_changed,
        flow.pin_pad.entered,
    ):
        signal.connect(lambda *args: seen.append(args))
    caplog.set_level(logging.DEBUG)
    ticks = [0]
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start()
    tray.place(card, latency="contact")  # ~1.3 s to read the certificate at 9,600 bit/s
    assert flow.state is FlowState.BUSY
    wait_state(qtbot, flow, FlowState.PIN, timeout=30000)
    assert ticks[0] >= 5  # the event loop kept running while the worker read the card
    before = ticks[0]
    type_pin(qtbot, flow, "7395")
    pay(qtbot, screen, 100)
    wait_state(qtbot, flow, FlowState.RESULT, timeout=30000)
    assert ticks[0] - before >= 5
    timer.stop()
    assert flow.result_title.text() == "ポイントを使いました"
    assert "7395" not in caplog.text
    for args in seen:
        for arg in args:
            assert not isinstance(arg, Pin)
            assert "7395" not in repr(arg)


def test_a_revoked_card_is_refused_with_where_to_ask(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    new_card: Any,
    test_ca: TestCA,
) -> None:
    card = new_card()
    resident(engine, world, card, "SV000110", 500)
    test_ca.revoke(card.auth_certificate)
    with engine.begin() as conn:
        op.import_crl(
            conn,
            test_ca.crl().public_bytes(Encoding.DER),
            TrustStore.from_directory(test_ca.trust_directory),
        )
    counter, ledger = make_counter("A0001", ["shop"])
    assert engine_for(counter, ledger).sync_now().error is None  # the revocation snapshot
    window, tray = make_window(counter, ledger)
    flow = _flow(_screen(window))
    tray.place(card)
    wait_state(qtbot, flow, FlowState.FAILED)
    assert "失効しています" in flow.fail_title.text() and "窓口" in flow.fail_title.text()
    assert counter.store.rows() == []
    screenshot(window, "checkout_14_revoked")


def test_a_server_refusal_says_nothing_moved_and_the_sync_screen_lists_it(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    new_card: Any,
    session_for: Any,  # noqa: F811 - the imported fixture
) -> None:
    card = new_card()
    resident(engine, world, card, "SV000111", 500)
    counter, ledger = make_counter("A0001", ["shop"])
    other, _ = make_counter("A0002", ["shop"])
    window, tray = make_window(counter, ledger)
    screen = _screen(window)
    flow = _flow(screen)
    tray.place(card)
    pin_then_amount(qtbot, screen)
    session = session_for(card)  # meanwhile the same card pays 400 at the fish shop
    checked = read_card(other, session)
    holder = resolve_holder(other, checked, prove_pin(session, checked, Pin(PIN)))
    assert use_points(other, session, holder, world.program_id, 400).done
    pay(qtbot, screen, 300)  # this screen still shows 500
    wait_state(qtbot, flow, FlowState.RESULT)
    assert flow.result_title.text() == "受け付けられませんでした"
    assert "ポイントは動いていません" in flow.result_lines.text()
    assert window.sounds.played[-1] == "failure"
    screenshot(window, "checkout_15_refused")
    assert _balance(ledger, card) == 100
    tray.remove()
    window.open_mode("sync")
    sync = window.screens["sync"]
    assert isinstance(sync, SyncScreen)
    assert sync.problems.rowCount() == 1
    reason = sync.problems.item(0, 4)
    assert reason is not None and "残高" in reason.text()
    screenshot(window, "sync_problem")
