"""The status bar at start-up: the last sync comes from the store (a sync of an earlier session),
not from the engine, whose progress is empty until its first round; a failed round keeps it."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.terminal.conftest import MakeCounter
from tests.ui.conftest import MakeWindow, engine_for
from ui.screens.sync_screen import SyncScreen
from ui.status_bar import jst_text


def test_last_sync_at_start_up_comes_from_the_store_and_survives_a_failed_round(
    qtbot: QtBot, make_window: MakeWindow, make_counter: MakeCounter
) -> None:
    counter, ledger = make_counter("A0001", ["shop"])
    assert engine_for(counter, ledger).sync_now().error is None  # an earlier session's sync
    synced_at = counter.store.sync_state().last_success_at
    assert synced_at is not None
    window, _ = make_window(counter, ledger)  # a new session: its engine has not run yet
    engine = window.services.engine
    assert engine is not None and engine.progress.last_success_at is None
    shown = f"最終同期 {jst_text(synced_at)}"
    assert window.status.last_sync.text() == shown
    assert "—" not in window.status.last_sync.text()
    window.open_mode("sync")
    screen = window.screens["sync"]
    assert isinstance(screen, SyncScreen) and jst_text(synced_at) in screen.summary.text()

    ledger.down = True
    assert engine.sync_now().error is not None  # the first round of this session fails
    window.status.refresh()
    assert window.status.last_sync.text() == shown  # still the store's last success
    assert "オフライン" in window.status.network.text()
