"""The customer's slip (ご利用控え) after お会計: what it says on paper (read back from the PDF
with pdftotext), on the receipt printer or in the preview when none is chosen."""

from __future__ import annotations

import subprocess
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from cardio.virtual.profile import CardProfile
from tests.ledger.conftest import World, resident
from tests.terminal.conftest import MakeCounter
from tests.ui.conftest import MakeWindow, engine_for
from tests.ui.support import PIN, WAIT_MS, screenshot, type_pin, wait_state
from ui.card_flow import FlowState
from ui.printing.slip import (
    OFFLINE_LINE,
    SlipData,
    short_number,
    write_slip_pdf,
)
from ui.screens.checkout import CheckoutScreen
from ui.screens.voucher_devices import PrinterChoice, save_printer_choice

TX = UUID("019a1b2c-3d4e-7f00-8abc-0123456789ab")


def pdf_text(path: Path) -> str:
    """The PDF's text as pdftotext reads it (NFKC: the font maps some kanji to radicals)."""
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return unicodedata.normalize("NFKC", out)


@pytest.mark.parametrize("width", [58, 80])
def test_slip_pdf_says_shop_time_points_balance_and_number(
    qtbot: QtBot, tmp_path: Path, width: Any
) -> None:
    data = SlipData(
        "パン屋", datetime(2026, 11, 24, 7, 3, tzinfo=UTC), "川崎市ポイント", 300, 700, False, TX
    )
    text = pdf_text(write_slip_pdf(data, tmp_path / "slip.pdf", width))
    assert "パン屋" in text and "2026/11/24 16:03 JST" in text  # 07:03 UTC is 16:03 in Tokyo
    assert "300 pt" in text and "700 pt" in text and "川崎市ポイント" in text
    assert short_number(TX) == "4567-89AB" and "4567-89AB" in text
    offline = SlipData("パン屋", data.at, "川崎市ポイント", 1200, None, True, TX)
    text = pdf_text(write_slip_pdf(offline, tmp_path / "offline.pdf", width))
    assert (
        unicodedata.normalize("NFKC", OFFLINE_LINE) in text.replace(" ", "") and "1,200 pt" in text
    )
    assert "残高" in text and " pt\n" not in text.split("1,200 pt", 1)[1]  # no balance figure


def test_checkout_prints_the_slip_on_the_receipt_printer_and_never_the_pin(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    fresh_cards: list[CardProfile],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    card = fresh_cards[2]
    resident(engine, world, card, "SV000301", 1000)
    counter, ledger = make_counter("A0001", ["shop"])
    assert engine_for(counter, ledger).sync_now().error is None  # the shop's name
    save_printer_choice(counter.store, PrinterChoice("TM-T20", "58"))  # as 設定 keeps it
    target = tmp_path / "printed.pdf"

    def pdf_printer(_self: CheckoutScreen, choice: Any) -> QPrinter:
        assert choice.printer == "TM-T20" and choice.width_mm == 58
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)  # Qt's PDF engine stands in
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)  # for the thermal driver
        printer.setOutputFileName(str(target))
        return printer

    monkeypatch.setattr(CheckoutScreen, "slip_printer", pdf_printer)
    window, tray = make_window(counter, ledger)
    window.open_mode("checkout")
    screen = window.screens["checkout"]
    assert isinstance(screen, CheckoutScreen) and screen.flow is not None
    flow = screen.flow
    tray.place(card)
    type_pin(qtbot, flow)
    qtbot.waitUntil(lambda: flow.stack.currentWidget() is screen.amount_page, timeout=WAIT_MS)
    screen.amount.setText("250")
    qtbot.keyClick(screen.amount, Qt.Key.Key_Return)
    qtbot.keyClick(screen.confirm_page, Qt.Key.Key_Return)
    wait_state(qtbot, flow, FlowState.RESULT)
    assert screen.slip_bar.isVisible() and "印刷" in screen.slip_button.text()
    screenshot(window, "checkout_slip_1_offer")
    qtbot.keyClick(flow, Qt.Key.Key_Return)  # Enter prints
    assert "印刷しました" in screen.slip_status.text()
    screenshot(window, "checkout_slip_2_printed")
    text = pdf_text(target)
    row = counter.store.rows()[0]
    assert "250 pt" in text and "750 pt" in text and short_number(row.id) in text
    assert PIN not in text.replace(short_number(row.id), "")
    business = counter.store.business()
    assert business is not None and business.name in text
    size = target.stat().st_size
    qtbot.keyClick(flow, Qt.Key.Key_Return)  # a second Enter does not print a second slip
    assert target.stat().st_size == size and screen.slip_button.text() == "もう一度印刷"
    tray.remove()
    assert not screen.slip_bar.isVisible()  # the next customer starts clean


def test_offline_use_slip_is_previewed_when_no_printer_is_chosen(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    new_card: Any,
    crl_imported: None,
) -> None:
    card = new_card()
    resident(engine, world, card, "SV000302", 5000)
    counter, ledger = make_counter("A0001", ["shop"])
    window, tray = make_window(counter, ledger)
    window.open_mode("checkout")
    screen = window.screens["checkout"]
    assert isinstance(screen, CheckoutScreen) and screen.flow is not None
    flow = screen.flow
    tray.place(card)  # seen online once: cached for offline use
    type_pin(qtbot, flow)
    qtbot.waitUntil(lambda: flow.stack.currentWidget() is screen.amount_page, timeout=WAIT_MS)
    tray.remove()
    assert engine_for(counter, ledger).sync_now().error is None
    ledger.down = True
    tray.place(card)
    type_pin(qtbot, flow)
    qtbot.waitUntil(lambda: flow.stack.currentWidget() is screen.amount_page, timeout=WAIT_MS)
    screen.amount.setText("1200")
    qtbot.keyClick(screen.amount, Qt.Key.Key_Return)
    qtbot.keyClick(screen.confirm_page, Qt.Key.Key_Return)
    wait_state(qtbot, flow, FlowState.RESULT)
    assert "プレビュー" in screen.slip_button.text()
    assert "プリンターが選ばれていません" in screen.slip_status.text()
    assert screen.slip is not None and screen.slip.offline and screen.slip.balance is None
    screenshot(window, "checkout_slip_3_offline_no_printer")
    qtbot.mouseClick(screen.slip_button, Qt.MouseButton.LeftButton)
    dialog = screen.slip_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
    dialog.resize(900, 700)
    screenshot(dialog, "checkout_slip_4_preview")
    dialog.close()
