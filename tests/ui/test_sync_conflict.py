"""同期 with a real conflict: one voucher redeemed offline at two shops of the street; the second
shop's sync screen retries now and names both shops and both times."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from cardio.jpki import JpkiSession
from cardio.secrets import Pin
from cardio.virtual.profile import CardProfile
from terminal.services.counter import prove_pin, read_card, resolve_holder
from terminal.services.submit import OutcomeStatus
from terminal.services.vouchers import issue_vouchers, redeem_voucher
from terminal.store import OutboxState
from tests.ledger.conftest import World, resident
from tests.terminal.conftest import session_for  # noqa: F401 - fixture
from tests.ui.conftest import MakeWindow
from tests.ui.support import PIN, WAIT_MS, screenshot
from tests.vouchers.conftest import MakeDesk, make_desk  # noqa: F401 - fixture
from ui.screens.sync_screen import SyncScreen
from ui.status_bar import jst_text


def test_a_voucher_redeemed_at_two_shops_shows_both_shops_and_times_after_retry_now(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_desk: MakeDesk,  # noqa: F811 - the fixture
    session_for: Callable[[CardProfile], JpkiSession],  # noqa: F811 - the fixture
    engine: Engine,
    world: World,
    fresh_cards: list[CardProfile],
    tmp_path: Path,
) -> None:
    card = fresh_cards[1]
    resident(engine, world, card, "SV000501", 1000)
    office = make_desk("S0001", ["office", "shop"])
    office.sync()
    session = session_for(card)
    checked = read_card(office.counter, session)
    holder = resolve_holder(office.counter, checked, prove_pin(session, checked, Pin(PIN)))
    issued = issue_vouchers(
        office.counter,
        session,
        holder,
        world.program_id,
        [800],
        voucher_key=office.voucher_key,
        street_name="元住吉商店街",
    )
    payload = issued.faces[0].payload
    first, second = make_desk("A0001", ["shop"]), make_desk("A0002", ["shop"])
    for shop in (first, second):
        shop.sync()
        shop.ledger.down = True
        assert redeem_voucher(shop.counter, payload).status is OutcomeStatus.ACCEPTED_OFFLINE
    first.ledger.down = False
    first.sync()

    window, _ = make_window(second.counter, second.ledger)  # the fishmonger's window
    window.open_mode("sync")
    screen = window.screens["sync"]
    assert isinstance(screen, SyncScreen)
    assert screen.queue.rowCount() == 1 and screen.problems.rowCount() == 0
    with qtbot.waitSignal(screen.runner.done, timeout=WAIT_MS):
        qtbot.keyClick(screen, Qt.Key.Key_Return)  # still offline: the retry fails plainly
    assert "同期できませんでした" in screen.result.text()
    second.ledger.down = False
    with qtbot.waitSignal(screen.runner.done, timeout=WAIT_MS):
        qtbot.mouseClick(screen.sync_button, Qt.MouseButton.LeftButton)  # 今すぐ同期
    assert "競合 1件" in screen.result.text()
    assert screen.queue.rowCount() == 0 and screen.problems.rowCount() == 1
    [row] = second.counter.store.problems()
    assert row.state is OutboxState.CONFLICT and row.result is not None
    conflict = row.result.conflict
    assert conflict is not None
    cell = screen.problems.item(0, 4)
    assert cell is not None
    text = cell.text()
    assert issued.faces[0].number in text
    assert f"1回目 A0001（{jst_text(conflict.first.terminal_time)}）" in text
    assert f"2回目 当店 魚屋（{jst_text(conflict.second.terminal_time)}）" in text
    assert "—" not in text  # both times known
    assert screen.problems_hint.isVisible() and "確認が必要" in screen.result.text()
    window.status.refresh()
    QApplication.processEvents()  # the labels lay out their new text before the picture
    screenshot(window, "sync_conflict")
