"""The other modes through the real window: library, grant, MyKey ID set-up, service ID,
history, sync, settings, and the window itself (roles, keys, status bar)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QTableWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from cardio.virtual.profile import CardProfile
from terminal.services.library import LIBRARY_PIN_SETTING
from tests.ledger.conftest import World, resident
from tests.terminal.conftest import MakeCounter
from tests.ui.conftest import MakeWindow, engine_for
from tests.ui.support import WAIT_MS, screenshot, type_pin, wait_state
from ui.card_flow import CardFlow, FlowState
from ui.main_window import MainWindow
from ui.prefs import Prefs
from ui.screens.base import Screen
from ui.screens.grant import GrantScreen
from ui.screens.history import CSV_HEADER, HistoryScreen
from ui.screens.library import LibraryScreen
from ui.screens.mykey_setup import MyKeySetupScreen
from ui.screens.service_id import ServiceIdScreen
from ui.screens.settings import SettingsScreen
from ui.screens.sync_screen import SyncScreen


def _open(window: MainWindow, name: str) -> Any:
    window.open_mode(name)
    return window.screens[name]


def _cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None
    return item.text()


def _flow(screen: Screen) -> CardFlow:
    assert screen.flow is not None
    return screen.flow


def test_modes_follow_the_roles_and_function_keys_switch_them(
    qtbot: QtBot, make_window: MakeWindow, make_counter: MakeCounter
) -> None:
    shop, _ = make_counter("A0001", ["shop"])
    window, _ = make_window(shop)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    assert list(window.screens) == [
        "checkout",
        "scan_vouchers",
        "service_id",
        "history",
        "sync",
        "settings",
    ]
    qtbot.keyClick(window, Qt.Key.Key_F8)
    assert window.current == "history"
    qtbot.keyClick(window, Qt.Key.Key_F4)  # the library's key does nothing at a shop
    assert window.current == "history"
    qtbot.mouseClick(window.status, Qt.MouseButton.LeftButton)
    assert window.current == "sync"
    office, _ = make_counter("S0001", ["office", "shop"])
    office_window, _ = make_window(office)
    assert "issue_vouchers" in office_window.screens and "mykey_setup" in office_window.screens
    desk, _ = make_counter("D0001", ["municipal"])
    desk_window, _ = make_window(desk)
    assert next(iter(desk_window.screens)) == "grant" and "checkout" not in desk_window.screens
    screenshot(office_window, "window_office_modes")


def test_an_unenrolled_terminal_shows_only_settings_and_enrolls_from_there(
    qtbot: QtBot, make_window: MakeWindow
) -> None:
    calls: list[tuple[str, str, str]] = []

    def enroll(server: str, code: str, name: str) -> None:
        calls.append((server, code, name))

    window, _ = make_window(None, enroll=enroll)
    assert list(window.screens) == ["settings"]
    window.status.refresh()
    assert window.status.unsynced.text() == "F10 設定で端末を登録してください"  # what to do next
    settings = window.screens["settings"]
    assert isinstance(settings, SettingsScreen)
    settings.enroll()
    assert "入力してください" in settings.enroll_result.text()
    settings.server.setText("http://127.0.0.1:8000")
    settings.code.setText("ABCD-1234")
    settings.terminal_name.setText("レジ1")
    with qtbot.waitSignal(settings.enrolled, timeout=WAIT_MS):
        settings.enroll()
    assert calls == [("http://127.0.0.1:8000", "ABCD-1234", "レジ1")]
    assert "登録しました" in settings.enroll_result.text()
    screenshot(window, "settings_not_enrolled")


def test_settings_apply_text_size_contrast_sounds_and_reader_and_keep_them(
    qtbot: QtBot, make_window: MakeWindow, make_counter: MakeCounter
) -> None:
    counter, _ = make_counter("A0001", ["shop"])
    window, _ = make_window(counter)
    settings = _open(window, "settings")
    assert isinstance(settings, SettingsScreen)
    assert _cell(settings.limits, 0, 1) == "3,000 pt"  # the defaults before any sync
    settings.text_size.setCurrentIndex(settings.text_size.findData("huge"))
    settings.high_contrast.setChecked(True)
    settings.sounds_box.setChecked(False)
    settings.reader.setCurrentIndex(settings.reader.findData("Virtual Card Tray 00"))
    settings.save()
    assert window.prefs.high_contrast and not window.sounds.enabled
    assert window.services.reader.preferred == "Virtual Card Tray 00"
    assert "28px" in QGuiApplication.instance().styleSheet()  # type: ignore[union-attr]
    assert Prefs.load(counter.store).text_size == "huge"
    screenshot(window, "settings_high_contrast")
    settings.high_contrast.setChecked(False)
    settings.text_size.setCurrentIndex(settings.text_size.findData("large"))
    settings.save()


def test_library_shows_the_patron_number_large_and_copies_it_or_links_one(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    fresh_cards: list[CardProfile],
) -> None:
    card = fresh_cards[0]
    resident(engine, world, card, "SV000201")
    counter, _ = make_counter("L0001", ["library"])
    window, tray = make_window(counter)
    screen = _open(window, "library")
    assert isinstance(screen, LibraryScreen)
    flow = _flow(screen)
    tray.place(card)
    qtbot.waitUntil(lambda: flow.stack.currentWidget() is screen.link_page, timeout=WAIT_MS)
    screenshot(window, "library_1_no_number")
    screen.patron.setText("P-0201")
    qtbot.keyClick(screen.patron, Qt.Key.Key_Return)
    type_pin(qtbot, flow)  # linking needs the holder's PIN
    wait_state(qtbot, flow, FlowState.RESULT)
    assert flow.result_huge.text() == "P-0201"
    tray.remove()
    QGuiApplication.clipboard().clear()
    tray.place(card)  # the next visit: no PIN, the number at once
    wait_state(qtbot, flow, FlowState.RESULT)
    assert flow.result_huge.text() == "P-0201" and flow.result_title.text() == "利用者番号"
    assert QGuiApplication.clipboard().text() == "P-0201"
    screenshot(window, "library_2_patron_number")


def test_library_unknown_card_is_told_to_go_to_the_office(
    qtbot: QtBot, make_window: MakeWindow, make_counter: MakeCounter, new_card: Any
) -> None:
    counter, _ = make_counter("L0001", ["library"])
    window, tray = make_window(counter)
    flow = _flow(_open(window, "library"))
    tray.place(new_card())
    wait_state(qtbot, flow, FlowState.FAILED)
    assert "事務局で設定してください" in flow.fail_title.text()


def test_grant_desk_grants_each_tap_and_attendance_refuses_a_second_tap(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    fresh_cards: list[CardProfile],
) -> None:
    resident(engine, world, fresh_cards[1], "SV000202")
    resident(engine, world, fresh_cards[2], "SV000203")
    counter, ledger = make_counter("D0001", ["municipal"])
    assert engine_for(counter, ledger).sync_now().error is None  # brings the grant programs
    window, tray = make_window(counter, ledger)
    screen = _open(window, "grant")
    assert isinstance(screen, GrantScreen)
    flow = _flow(screen)
    assert screen.program.count() == 1 and "献血" in screen.program.currentText()
    assert screen.points.value() == 500
    screen.attendance.setChecked(True)
    screen.event_name.setText("救命講習 11/24")
    tray.place(fresh_cards[1])
    wait_state(qtbot, flow, FlowState.RESULT)
    assert flow.result_title.text() == "500 ポイントを付与しました"
    assert "新しい残高: 500 ポイント" in flow.result_lines.text()
    tray.remove()
    tray.place(fresh_cards[2])
    wait_state(qtbot, flow, FlowState.RESULT)
    tray.remove()
    tray.place(fresh_cards[1])  # the same card again at the same event
    wait_state(qtbot, flow, FlowState.FAILED)
    assert "受付済み" in flow.fail_title.text()
    assert screen.tap_count == 2 and "合計 1,000 ポイント" in screen.summary.text()
    assert screen.taps.count() == 3 and "受付済み" in screen.taps.item(0).text()
    screenshot(window, "grant_attendance")


def test_mykey_setup_guides_through_choosing_a_free_id(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    new_card: Any,
) -> None:
    resident(engine, world, new_card(), "TAKEN001")
    card = new_card()
    counter, _ = make_counter("S0001", ["office", "shop"])
    window, tray = make_window(counter)
    screen = _open(window, "mykey_setup")
    assert isinstance(screen, MyKeySetupScreen)
    flow = _flow(screen)
    tray.place(card)
    type_pin(qtbot, flow)
    qtbot.waitUntil(lambda: flow.stack.currentWidget() is screen.choose_page, timeout=WAIT_MS)
    screen.mykey_id.setText("TAKEN001")
    qtbot.keyClick(screen.mykey_id, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "すでに使われています" in screen.taken.text(), timeout=WAIT_MS)
    assert screen.candidate_row.count() > 0
    screenshot(window, "mykey_1_taken")
    screen.mykey_id.setText("NEWID201")
    qtbot.keyClick(screen.mykey_id, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: flow.stack.currentWidget() is screen.confirm_page, timeout=WAIT_MS)
    assert screen.confirm_id.text() == "NEWID201"
    screenshot(window, "mykey_2_confirm")
    qtbot.keyClick(screen.confirm_page, Qt.Key.Key_Return)
    wait_state(qtbot, flow, FlowState.RESULT)
    assert flow.result_title.text() == "マイキーIDを設定しました"
    assert flow.result_huge.text() == "NEWID201"
    screenshot(window, "mykey_3_done")
    tray.remove()
    tray.place(card)  # a card that has one already
    type_pin(qtbot, flow)
    wait_state(qtbot, flow, FlowState.FAILED)
    assert "すでにマイキーIDが設定されています" in flow.fail_title.text()


def test_service_id_link_in_steps_and_pin_cancel_records_nothing(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    new_card: Any,
) -> None:
    card = new_card()
    resident(engine, world, card, "SV000204")
    counter, _ = make_counter("A0001", ["shop"])
    window, tray = make_window(counter)
    screen = _open(window, "service_id")
    assert isinstance(screen, ServiceIdScreen)
    flow = _flow(screen)
    tray.place(card)
    wait_state(qtbot, flow, FlowState.PIN)
    qtbot.keyClick(flow.pin_pad, Qt.Key.Key_Escape)  # the customer changes their mind
    wait_state(qtbot, flow, FlowState.FAILED)
    assert "取り消しました" in flow.fail_title.text()
    tray.remove()
    tray.place(card)
    type_pin(qtbot, flow)
    qtbot.waitUntil(lambda: flow.stack.currentWidget() is screen.entry_page, timeout=WAIT_MS)
    assert "SV000204" in screen.current.text()
    screen.member.setText("M-204")
    screenshot(window, "service_id_entry")
    qtbot.keyClick(screen.member, Qt.Key.Key_Return)
    wait_state(qtbot, flow, FlowState.RESULT)
    assert flow.result_huge.text() == "M-204"
    assert len(counter.store.rows()) == 1


def test_history_shows_rows_with_sync_state_totals_chart_and_exports_csv(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    fresh_cards: list[CardProfile],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resident(engine, world, fresh_cards[1], "SV000205")
    counter, ledger = make_counter("D0001", ["municipal"])
    assert engine_for(counter, ledger).sync_now().error is None
    window, tray = make_window(counter, ledger)
    grant = _open(window, "grant")
    tray.place(fresh_cards[1])
    wait_state(qtbot, _flow(grant), FlowState.RESULT)
    tray.remove()
    ledger.down = True
    tray.place(fresh_cards[1])
    wait_state(qtbot, _flow(grant), FlowState.RESULT)
    tray.remove()
    history = _open(window, "history")
    assert isinstance(history, HistoryScreen)
    states = [_cell(history.table, r, 3) for r in range(history.table.rowCount())]
    assert states == ["オフライン受付・未送信", "同期済み"]
    assert "付与 1,000 pt" in history.summary.text() and "未送信 1件" in history.summary.text()
    today = history.today().day
    assert (today, 0, 1000) in history.chart.days
    history.show_period("today")
    assert history.table.rowCount() == 2
    screenshot(window, "history")
    target = tmp_path / "out.csv"
    monkeypatch.setattr(
        "ui.screens.history.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), "")
    )
    history.export()
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == ",".join(CSV_HEADER) and len(lines) == 3
    assert lines[1].split(",")[2:5] == ["grant", "500", "applied"]


def test_sync_screen_lists_the_queue_retries_now_and_names_errors(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    fresh_cards: list[CardProfile],
) -> None:
    resident(engine, world, fresh_cards[2], "SV000206")
    counter, ledger = make_counter("D0001", ["municipal"])
    assert engine_for(counter, ledger).sync_now().error is None
    window, tray = make_window(counter, ledger)
    ledger.down = True
    grant = _open(window, "grant")
    tray.place(fresh_cards[2])
    wait_state(qtbot, _flow(grant), FlowState.RESULT)
    tray.remove()
    screen = _open(window, "sync")
    assert isinstance(screen, SyncScreen)
    assert screen.queue.rowCount() == 1 and "未送信 1件" in screen.summary.text()
    with qtbot.waitSignal(screen.runner.done, timeout=WAIT_MS):
        qtbot.keyClick(screen, Qt.Key.Key_Return)
    assert "同期できませんでした" in screen.result.text()
    assert "サーバー" in screen.error.text() or "接続" in screen.error.text()
    screenshot(window, "sync_failed")
    ledger.down = False
    with qtbot.waitSignal(screen.runner.done, timeout=WAIT_MS):
        screen.sync_now()
    assert screen.queue.rowCount() == 0 and screen.error.text() == ""
    assert "同期しました" in screen.result.text()
    window.status.refresh()
    assert "未送信 0件" in window.status.unsynced.text()
    assert "オンライン" in window.status.network.text()
    screenshot(window, "sync_done")


def test_a_library_that_asks_for_the_pin_asks_before_showing_anything(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    new_card: Any,
) -> None:
    card = new_card()
    resident(engine, world, card, "SV000207")
    counter, _ = make_counter("L0001", ["library"])
    counter.store.set_setting(LIBRARY_PIN_SETTING, True)
    window, tray = make_window(counter)
    screen = _open(window, "library")
    assert isinstance(screen, LibraryScreen)
    flow = _flow(screen)
    tray.place(card)
    wait_state(qtbot, flow, FlowState.PIN)  # no look-up before the PIN
    type_pin(qtbot, flow)
    qtbot.waitUntil(lambda: flow.stack.currentWidget() is screen.link_page, timeout=WAIT_MS)
