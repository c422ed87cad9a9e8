"""お会計 through the real PC/SC stack: the card monitor sees the virtual card arrive in the vpcd
reader through pcscd, and the card worker talks to it through pyscard (as on a shop's PC)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from cardio.virtual.card import VirtualJpkiCard
from cardio.virtual.profile import CardProfile
from mykey.app_context import pcsc_session
from tests.card_pcsc.conftest import bridge, pcscd, reader  # noqa: F401 - fixtures
from tests.card_pcsc.support import READER, Reader
from tests.ledger.conftest import World, resident
from tests.terminal.conftest import MakeCounter
from tests.ui.support import WAIT_MS, screenshot, type_pin, wait_state
from ui.card_flow import FlowState
from ui.context import AppServices
from ui.main_window import MainWindow
from ui.prefs import Prefs
from ui.reader import PcscWatcher, ReaderState
from ui.screens.checkout import CheckoutScreen

pytestmark = pytest.mark.pcsc


@pytest.fixture
def watched() -> Iterator[ReaderState]:
    """Reader state fed by the real PC/SC card monitor."""
    state = ReaderState()
    watcher = PcscWatcher(state)
    watcher.start()
    yield state
    watcher.stop()


def test_checkout_with_the_card_in_a_real_pcsc_reader(
    qtbot: QtBot,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    fresh_cards: list[CardProfile],
    reader: Reader,  # noqa: F811 - the imported fixture
    watched: ReaderState,
) -> None:
    card = fresh_cards[0]
    resident(engine, world, card, "SV000301", 1000)
    counter, _ = make_counter("A0001", ["shop"])
    services = AppServices(counter, None, pcsc_session, watched)
    window = MainWindow(services, Prefs(reader=READER))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    try:
        qtbot.waitUntil(lambda: READER in watched.readers, timeout=WAIT_MS)
        screen = window.screens["checkout"]
        assert isinstance(screen, CheckoutScreen) and screen.flow is not None
        flow = screen.flow
        reader.insert(VirtualJpkiCard(card))
        type_pin(qtbot, flow)
        qtbot.waitUntil(lambda: flow.stack.currentWidget() is screen.amount_page, timeout=WAIT_MS)
        screen.amount.setText("250")
        qtbot.keyClick(screen.amount, Qt.Key.Key_Return)
        qtbot.keyClick(screen.confirm_page, Qt.Key.Key_Return)
        wait_state(qtbot, flow, FlowState.RESULT)
        assert "新しい残高: 750 ポイント" in flow.result_lines.text()
        window.status.refresh()
        assert window.status.reader.text() == "リーダー: カードあり"
        screenshot(window, "pcsc_checkout_done")
        reader.remove()
        wait_state(qtbot, flow, FlowState.PLACE)
    finally:
        window.shutdown()
