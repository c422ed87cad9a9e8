"""設定 → 端末の登録 without a restart: the window enrolls through a real ledger server (uvicorn),
opens the new terminal from its data folder as the application does, rebuilds its modes for
the terminal's roles and starts the sync engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from cardio.virtual.ca import TestCA
from mykey.app_context import load_terminal
from server_stub import operator as op
from sync.client import enroll
from sync.protocol import EnrollResponse
from terminal.config import TerminalPaths, enroll_terminal
from tests.sync.support import SHOP, LedgerServer
from tests.ui.support import WAIT_MS, Tray, screenshot
from ui.context import AppServices
from ui.main_window import Enrolled, MainWindow
from ui.prefs import Prefs
from ui.reader import ReaderState
from ui.screens.settings import SettingsScreen


def test_enrolling_from_settings_opens_the_roles_modes_and_starts_sync_without_restart(
    qtbot: QtBot, test_ca: TestCA, tmp_path: Path
) -> None:
    data = tmp_path / "terminal"
    paths = TerminalPaths.at(data)

    def enroll_here(server: str, code: str, name: str) -> None:
        def call(
            url: str, code: str, key: Ed25519PrivateKey, voucher_key: Ed25519PrivateKey, name: str
        ) -> EnrollResponse:
            return enroll(url, code, key, voucher_key=voucher_key, name=name)

        enroll_terminal(paths, server, code, name=name, enroll=call)  # installs the CAs too

    def open_enrolled() -> Enrolled:
        terminal = load_terminal(data)
        return Enrolled(terminal.counter(), terminal.engine(), terminal.close)

    with LedgerServer(tmp_path / "ledger", test_ca.trust_directory) as server:
        with server.engine.begin() as conn:
            code = op.create_enrollment_code(conn, SHOP, ["shop"]).code
        reader = ReaderState()
        tray = Tray(reader)
        services = AppServices(None, None, tray.open, reader, enroll=enroll_here)
        window = MainWindow(services, Prefs(text_size="huge"), open_enrolled=open_enrolled)
        qtbot.addWidget(window)
        window.show()
        try:
            assert list(window.screens) == ["settings"]
            settings = window.screens["settings"]
            assert isinstance(settings, SettingsScreen)
            settings.server.setText(server.base_url)
            settings.code.setText(code)
            settings.terminal_name.setText("レジ1")
            screenshot(window, "enroll_1_code_typed")
            with qtbot.waitSignal(settings.enrolled, timeout=WAIT_MS):
                qtbot.mouseClick(settings.enroll_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: "checkout" in window.screens, timeout=WAIT_MS)
            assert list(window.screens) == [
                "checkout",
                "scan_vouchers",
                "service_id",
                "history",
                "sync",
                "settings",
            ]
            counter: Any = services.counter
            assert counter is not None and counter.identity.business_id == SHOP
            assert window.current == "settings"
            fresh = window.screens["settings"]
            assert isinstance(fresh, SettingsScreen) and fresh is not settings
            assert "登録が完了しました" in fresh.enroll_note.text()
            role_row = fresh.findChildren(type(fresh.enroll_note))
            assert any(label.text() == "お店" for label in role_row)
            assert window.prefs.text_size == "huge"
            assert Prefs.load(counter.store).text_size == "huge"  # kept in the new store
            assert services.engine is not None and services.engine.running
            qtbot.waitUntil(
                lambda: counter.store.sync_state().last_success_at is not None, timeout=WAIT_MS
            )
            window._tick()
            window.open_mode("history")
            window.open_mode("settings")  # shown again: with the business's name
            assert fresh.business_label.text() == "A0001 パン屋"
            QApplication.processEvents()  # the status bar lays out its new text
            assert "最終同期 —" not in window.status.last_sync.text()
            assert "パン屋" in window.windowTitle()  # the business's name came with the sync
            screenshot(window, "enroll_2_done_modes_rebuilt")
            qtbot.keyClick(window, Qt.Key.Key_F1)
            assert window.current == "checkout"
            counter.store.set_setting("probe", 1)  # the store is open until the window closes
        finally:
            window.shutdown()
        assert not services.engine.running
