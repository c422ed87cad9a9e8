"""ポイント券発行 and ポイント券読取 through the real window: a resident's card issues two
vouchers, the PDF is rendered with pdftoppm into a folder that stands in for the camera, and the
office scans the stack in batch mode; duplicates, a forged payload and a missing camera are
flagged; a typed number is redeemed online. No sleeps: every wait is on something the screen
shows."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QTableWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from cardio.virtual.profile import CardProfile
from terminal.vouchers.payload import encode_payload
from tests.ledger.conftest import World, resident
from tests.ui.conftest import MakeWindow
from tests.ui.support import screenshot, type_pin, wait_state
from tests.vouchers.conftest import Desk, MakeDesk, make_desk  # noqa: F401 - fixture
from ui.camera_view import ENV_SOURCE
from ui.card_flow import FlowState
from ui.main_window import MainWindow
from ui.screens.settings import SettingsScreen
from ui.screens.voucher_issue import VoucherIssueScreen
from ui.screens.voucher_scan import VoucherScanScreen

WAIT_MS = 20000


def _issue_screen(window: MainWindow) -> VoucherIssueScreen:
    window.open_mode("issue_vouchers")
    screen = window.screens["issue_vouchers"]
    assert isinstance(screen, VoucherIssueScreen)
    screen.auto_preview = False
    return screen


def _scan_screen(window: MainWindow) -> VoucherScanScreen:
    window.open_mode("scan_vouchers")
    screen = window.screens["scan_vouchers"]
    assert isinstance(screen, VoucherScanScreen)
    return screen


def _window_for(make_window: MakeWindow, desk: Desk) -> MainWindow:
    window, _tray = make_window(desk.counter, desk.ledger)
    window.services.voucher_key = desk.voucher_key
    return window


def _cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    return "" if item is None else item.text()


def _render(pdf: Path, folder: Path) -> list[Path]:
    """pdftoppm: one PNG per page in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", str(pdf), str(folder / "page")],
        check=True,
        capture_output=True,
    )
    return sorted(folder.glob("*.png"))


@pytest.fixture
def office(make_desk: MakeDesk) -> Desk:  # noqa: F811 - the imported fixture
    desk = make_desk("S0001", ["office", "shop"])
    desk.sync()
    return desk


def test_issue_print_then_batch_scan_the_printed_stack(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_desk: MakeDesk,  # noqa: F811 - the imported fixture
    office: Desk,
    engine: Engine,
    world: World,
    fresh_cards: list[CardProfile],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    card = fresh_cards[0]
    resident(engine, world, card, "VU000001", 3000)
    window, tray = make_window(office.counter, office.ledger)
    window.services.voucher_key = office.voucher_key
    issue = _issue_screen(window)
    flow = issue.flow
    assert flow is not None
    assert not issue.pdf_button.isEnabled()  # nothing to print yet
    screenshot(window, "voucher_issue_1_place_card")
    tray.place(card)
    type_pin(qtbot, flow)
    qtbot.waitUntil(lambda: flow.stack.currentWidget() is issue.form_page, timeout=WAIT_MS)
    assert "3,000 ポイント" in issue.balance_group.buttons()[0].text()
    assert "3日間" in issue.validity.text()  # the program's validity
    issue.fill_list([500, 500, 300])
    assert issue.summary.text() == "3枚  合計 1,300 ポイント\n残高 3,000 → 1,700 ポイント"
    issue.fill(2, 2000)
    qtbot.keyClick(issue.form_page, Qt.Key.Key_Return)
    assert "残高が足りません" in issue.form_error.text()
    assert flow.stack.currentWidget() is issue.form_page  # nothing signed
    issue.fill_list([500, 500, 300])
    screenshot(window, "voucher_issue_2_form")
    assert issue.issue()
    wait_state(qtbot, flow, FlowState.RESULT)
    assert flow.result_title.text() == "ポイント券を発行しました"
    assert "残高: 1,700 ポイント" in flow.result_lines.text()
    assert [f.points for f in issue.faces] == [500, 500, 300]
    assert not any(f.reissue for f in issue.faces)
    assert issue.pdf_button.isEnabled() and "3枚" in issue.print_title.text()
    assert issue.recent.rowCount() == 1 and _cell(issue.recent, 0, 2) == "発行済み"
    screenshot(window, "voucher_issue_3_issued")
    dialog = issue.preview()
    assert dialog is not None
    qtbot.waitExposed(dialog)
    screenshot(dialog, "voucher_issue_4_preview")
    dialog.close()

    a4 = issue.save_pdf(tmp_path / "a4.pdf")
    assert a4.read_bytes().startswith(b"%PDF") and "PDFに保存しました" in issue.print_status.text()
    issue.set_paper("58")
    pages = _render(issue.save_pdf(tmp_path / "receipt.pdf"), tmp_path / "pages")
    assert len(pages) == 3  # one voucher per receipt
    stack = tmp_path / "stack"
    stack.mkdir()
    for page in pages[:2]:  # the 300 pt voucher is kept for the typed-number test below
        shutil.copy(page, stack / page.name)

    tray.remove()
    issue.recent.selectRow(0)
    assert issue.reprint()
    assert all(f.reissue for f in issue.faces) and "【再発行】" in issue.print_title.text()
    assert [f.payload for f in issue.faces][:2] == [f.payload for f in issue.last.faces][:2]  # type: ignore[union-attr]
    screenshot(window, "voucher_issue_5_reprint")

    # the office scans the printed stack in batch mode, the camera being the folder of pages
    monkeypatch.setenv(ENV_SOURCE, str(stack))
    scan = _scan_screen(window)
    scan.stop_camera()
    scan.set_batch(True)
    assert scan.camera.running
    assert scan.camera_note.text() == f"読み取り元: 画像フォルダ {stack.name}"
    qtbot.waitUntil(lambda: len(scan.entries) == 2, timeout=WAIT_MS)
    assert [e.kind for e in scan.entries] == ["ok", "ok"]
    assert scan.accepted_count == 2 and scan.total_points == 1000
    assert "受付 2枚  合計 1,000 ポイント" in scan.summary.text()
    assert scan.result_title.text().startswith("OK 使えます 500 ポイント")
    assert "利用店舗印を押して" in scan.result_detail.text()  # what the clerk does next
    assert window.sounds.played[-1] == "success"
    qtbot.waitUntil(lambda: scan.camera.frames_shown > 0, timeout=WAIT_MS)
    window.status.refresh()
    assert "カメラ:" in window.status.camera.text()
    screenshot(window, "voucher_scan_1_batch")

    # the same stack again: both flagged as duplicates, with the failure sound
    scan.start_camera(str(stack))
    qtbot.waitUntil(lambda: len(scan.entries) == 4, timeout=WAIT_MS)
    assert [e.kind for e in scan.entries[2:]] == ["duplicate", "duplicate"]
    assert _cell(scan.table, 0, 2) == "重複・使用済"
    assert scan.total_points == 1000 and "受付不可 2件" in scan.summary.text()
    assert window.sounds.played[-1] == "failure"
    assert "使用済み" in scan.result_title.text()
    screenshot(window, "voucher_scan_2_duplicate")

    # a forged payload typed by a 2D scanner: signed with another key
    assert issue.last is not None
    forged = encode_payload(
        replace(issue.last.vouchers[2], points=9000), Ed25519PrivateKey.generate()
    )
    qtbot.keyClicks(scan.wedge, forged)
    qtbot.keyClick(scan.wedge, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(scan.entries) == 5, timeout=WAIT_MS)
    assert scan.entries[-1].kind == "forged" and _cell(scan.table, 0, 2) == "偽造・不正"
    assert "偽造" in scan.result_title.text() and scan.total_points == 1000
    screenshot(window, "voucher_scan_3_forged")

    # a genuine voucher whose last day has passed (signed by the office, dates in the past)
    third = issue.last.vouchers[2]
    stale = replace(
        third,
        valid_from=third.valid_from - timedelta(days=10),
        valid_until=third.valid_from - timedelta(days=8),
    )
    scan.submit_wedge(encode_payload(stale, office.voucher_key))
    qtbot.waitUntil(lambda: len(scan.entries) == 6, timeout=WAIT_MS)
    assert scan.entries[-1].kind == "expired" and _cell(scan.table, 0, 2) == "期限外"
    assert "有効期間外" in scan.result_title.text() and window.sounds.played[-1] == "failure"
    assert scan.accepted_count == 2 and "受付不可 4件" in scan.summary.text()
    scan.stop_camera()

    # a shop types the third voucher's number: redeemed online
    monkeypatch.setenv(ENV_SOURCE, str(tmp_path / "no-camera-here"))
    shop = make_desk("A0001", ["shop"])
    shop.sync()
    shop_window = _window_for(make_window, shop)
    shop_scan = _scan_screen(shop_window)
    assert not shop_scan.batch.isVisible()  # batch mode is the office's
    number = issue.last.vouchers[2].number
    shop_scan.number.setText(f"{number[:6]} {number[6:]}")
    qtbot.keyClick(shop_scan.number, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(shop_scan.entries) == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: shop_scan.camera.state_text == "使えません", timeout=WAIT_MS)
    assert len(shop_scan.entries) == 1
    entry = shop_scan.entries[0]
    assert (entry.kind, entry.number, entry.via) == ("ok", number, "number")
    assert shop_scan.result_title.text().startswith("OK 使えます")
    screenshot(shop_window, "voucher_scan_4_typed_number")


def test_missing_camera_is_said_plainly_and_the_scanner_field_still_works(
    qtbot: QtBot, make_window: MakeWindow, office: Desk
) -> None:
    window = _window_for(make_window, office)
    scan = _scan_screen(window)
    scan.start_camera(7)  # no such camera
    qtbot.waitUntil(lambda: scan.camera.state_text == "使えません", timeout=WAIT_MS)
    assert "カメラを使えません" in scan.camera.text()
    assert "スキャナー入力か券番号" in scan.camera_note.text()
    window.status.refresh()
    assert window.status.camera.text() == "カメラ: 使えません"
    assert scan.camera_button.text() == "カメラを開始"
    qtbot.keyClicks(scan.wedge, "HELLO WORLD")
    qtbot.keyClick(scan.wedge, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(scan.entries) == 1, timeout=WAIT_MS)
    assert scan.entries[0].kind == "unreadable"  # not a voucher: refused, flagged
    assert _cell(scan.table, 0, 2) == "券ではない"
    assert "読み取れません" in scan.result_detail.text()
    screenshot(window, "voucher_scan_5_no_camera")


def test_settings_camera_preview_and_printer_test_print(
    qtbot: QtBot, make_window: MakeWindow, office: Desk, tmp_path: Path
) -> None:
    folder = tmp_path / "camera"
    _render(_test_page_pdf(tmp_path / "test.pdf"), folder)
    window = _window_for(make_window, office)
    window.open_mode("settings")
    settings = window.screens["settings"]
    assert isinstance(settings, SettingsScreen)
    devices = settings.devices
    devices.camera.setEditText(str(folder))
    devices.toggle_preview()
    qtbot.waitUntil(lambda: "MYKEY PRINT TEST" in devices.read_text.text(), timeout=WAIT_MS)
    assert devices.view.frames_shown > 0  # the test page's QR, read by the chosen camera
    window.resize(1280, 800)
    area = settings.findChild(QScrollArea)
    assert area is not None
    area.ensureWidgetVisible(devices.view)
    screenshot(window, "settings_camera_preview")
    area.ensureWidgetVisible(devices.printer)
    screenshot(window, "settings_printer")
    devices.paper.setCurrentIndex(devices.paper.findData("80"))
    settings.save()
    assert office.counter.store.setting("ui.camera", "") == str(folder)
    printer: dict[str, object] = office.counter.store.setting("ui.printer", {})
    assert printer["paper"] == "80"
    dialog = devices.test_print()
    qtbot.waitExposed(dialog)
    screenshot(dialog, "settings_printer_test_preview")
    dialog.close()
    window.open_mode("history")  # leaving stops the preview
    assert not devices.view.running


def _test_page_pdf(path: Path) -> Path:
    from terminal.vouchers.layout import receipt
    from ui.printing.testpage import write_test_page_pdf

    return write_test_page_pdf(receipt(80), path)
