"""The demo's one window: the real terminal window (``ui.main_window.MainWindow``) of the
terminal chosen, and the demo tray beside it. Choosing another terminal in the tray closes the
shown terminal and opens the other one in the same window."""

from __future__ import annotations

import logging

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QHBoxLayout, QWidget

from mykey.demo import DemoSession
from sync.engine import SyncEngine
from terminal.config import load_key
from ui.context import AppServices
from ui.demo_tray import DemoTray
from ui.main_window import MainWindow
from ui.prefs import Prefs
from ui.reader import ReaderState

log = logging.getLogger(__name__)


class DemoWindow(QWidget):
    """Terminal window + demo tray."""

    def __init__(self, session: DemoSession, terminal: str, *, background_sync: bool) -> None:
        super().__init__()
        self.session = session
        self.background_sync = background_sync
        self.main: MainWindow | None = None
        self.engine: SyncEngine | None = None
        self.terminal_name = ""
        self.tray = DemoTray(terminal, session.cards.description)
        self.tray.terminal_chosen.connect(self.switch)
        self.tray.place_requested.connect(self.place)
        self.tray.remove_requested.connect(self.remove)
        self.tray.ledger_toggle_requested.connect(self.toggle_ledger)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(0)
        self.row.addWidget(self.tray)
        self.tray.show_ledger(session.ledger.running)
        self.switch(terminal)

    @property
    def window_(self) -> MainWindow:
        """The terminal window shown now."""
        assert self.main is not None
        return self.main

    def switch(self, name: str) -> None:
        """Show terminal ``name`` (the card stays on the reader)."""
        if name == self.terminal_name and self.main is not None:
            return
        self._close_main()
        terminal = self.session.open_terminal(name)
        counter = terminal.counter()
        engine = terminal.engine()
        counter.on_new_row = engine.wake
        reader = ReaderState()
        prefs = Prefs.load(terminal.store)
        prefs.reader = self.session.cards.reader_name
        services = AppServices(counter, engine, self.session.cards.open_session, reader)
        if not self.session.ledger.running:
            services.online = False
        # the voucher issue screen signs with it (the composition root loads it)
        services.voucher_key = load_key(terminal.paths.voucher_key)
        main = MainWindow(services, prefs)
        self.session.cards.attach(reader)
        self.row.insertWidget(0, main, 1)
        main.show()
        self.main, self.engine, self.terminal_name = main, engine, name
        if self.background_sync:
            engine.start()
        self.tray.show_terminal(name)
        self.setWindowTitle(main.windowTitle() + "（デモ）")

    def _close_main(self) -> None:
        main, engine = self.main, self.engine
        self.main = self.engine = None
        if main is not None:
            main.shutdown()
            self.row.removeWidget(main)
            main.hide()
            main.deleteLater()
        if engine is not None and engine.running:
            engine.stop()
        self.session.cards.detach()
        self.session.close_terminal()

    def place(self, name: str) -> None:
        """Place demo card ``name`` on the reader."""
        self.session.place(name)
        self.tray.show_card(name)

    def remove(self) -> None:
        """Take the card off the reader."""
        self.session.remove()
        self.tray.show_card(None)

    def toggle_ledger(self) -> None:
        """Stop or start the local ledger (the status bar follows at the next call or sync)."""
        running = self.session.toggle_ledger()
        self.tray.show_ledger(running)
        if self.main is not None:
            self.main.services.online = None if running else False
            self.main.status.refresh()

    def shutdown(self) -> None:
        """Close the terminal shown (idempotent)."""
        self._close_main()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        """Close the terminal before the window goes."""
        self.shutdown()
        super().closeEvent(event)
