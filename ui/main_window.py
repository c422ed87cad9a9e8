"""The main window: the modes this terminal's roles allow (function keys), the current screen,
and the status bar (click: 同期)."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui.card_worker import CardWorker
from ui.context import AppServices
from ui.prefs import Prefs, style_sheet
from ui.screens.base import Screen
from ui.screens.registry import Mode, modes_for
from ui.sound import Sounds
from ui.status_bar import StatusBar
from ui.text import tr
from ui.widgets import big_label

log = logging.getLogger(__name__)

STATUS_REFRESH_MS = 1000


class MainWindow(QMainWindow):
    """The terminal's window."""

    def __init__(self, services: AppServices, prefs: Prefs | None = None) -> None:
        super().__init__()
        self.services = services
        store = None if services.counter is None else services.counter.store
        self.prefs = prefs if prefs is not None else Prefs.load(store)
        services.reader.preferred = self.prefs.reader
        self.sounds = Sounds(self.prefs.sounds)
        self.worker = CardWorker(services.open_session, services.reader.active_reader)
        self.modes: list[Mode] = modes_for(services)
        self.screens: dict[str, Screen] = {}
        self.buttons: dict[str, QPushButton] = {}
        self.areas: dict[str, QWidget] = {}
        self.current: str | None = None
        self.setWindowTitle(self._title())
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        body = QHBoxLayout()
        menu = QWidget()
        menu.setObjectName("modes")
        menu_layout = QVBoxLayout(menu)
        self.stack = QStackedWidget()
        for mode in self.modes:
            screen = mode.factory(services, self.worker, self.sounds)
            if screen.flow is not None:
                screen.flow.state_changed.connect(self._refresh_status)
            prefs_changed = getattr(screen, "prefs_changed", None)
            if prefs_changed is not None:
                prefs_changed.connect(self.apply_prefs)
            self.screens[mode.name] = screen
            self.areas[mode.name] = self._framed(screen)
            self.stack.addWidget(self.areas[mode.name])
            item = QPushButton(f"{mode.key}  {mode.label}")
            item.setObjectName("mode")
            item.setCheckable(True)
            item.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            item.setMinimumHeight(48)
            item.clicked.connect(lambda _=False, n=mode.name: self.open_mode(n))
            menu_layout.addWidget(item)
            self.buttons[mode.name] = item
            shortcut = QShortcut(QKeySequence(mode.key), self)
            shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
            shortcut.activated.connect(lambda n=mode.name: self.open_mode(n))
        menu_layout.addStretch(1)
        if services.counter is not None:
            identity = services.counter.identity
            menu_layout.addWidget(big_label(identity.business_id, role="hint"))
        self.menu = menu
        body.addWidget(menu)
        body.addWidget(self.stack, 1)
        outer.addLayout(body, 1)
        self.status = StatusBar(services)
        self.status.clicked.connect(lambda: self.open_mode("sync"))
        outer.addWidget(self.status)
        self.setCentralWidget(central)
        services.reader.changed.connect(self.status.refresh)
        self.timer = QTimer(self)
        self.timer.setInterval(STATUS_REFRESH_MS)
        self.timer.timeout.connect(self.status.refresh)
        self.timer.start()
        self.apply_prefs(self.prefs)
        self.open_mode(self.modes[0].name)

    @staticmethod
    def _framed(screen: Screen) -> QWidget:
        """A card-flow screen scrolls when taller than the window (very large text) instead of
        growing it; table screens lay themselves out (their tables give way)."""
        if screen.flow is None:
            return screen
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area.setWidget(screen)
        return area

    def _title(self) -> str:
        counter = self.services.counter
        if counter is None:
            return tr("MyKey ポイント端末（未登録）")
        business = counter.store.business()
        name = business.name if business is not None else counter.identity.business_id
        return tr("MyKey ポイント端末 — {name}").format(name=name)

    def _refresh_status(self, _state: str) -> None:
        self.status.refresh()

    def open_mode(self, name: str) -> None:
        """Show mode ``name`` (ignored when this terminal does not have it)."""
        screen = self.screens.get(name)
        if screen is None:
            return
        if self.current is not None and self.current != name:
            self.screens[self.current].deactivate()
        self.current = name
        for mode_name, item in self.buttons.items():
            item.setChecked(mode_name == name)
        self.stack.setCurrentWidget(self.areas[name])
        screen.activate()
        self.status.refresh()

    def apply_prefs(self, prefs: Prefs) -> None:
        """Text size, contrast, sounds and reader choice, at once."""
        self.prefs = prefs
        self.sounds.enabled = prefs.sounds
        self.services.reader.preferred = prefs.reader
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setStyleSheet(style_sheet(prefs))
        else:
            self.setStyleSheet(style_sheet(prefs))
        widest = 0
        for item in self.buttons.values():
            item.ensurePolished()
            widest = max(widest, item.sizeHint().width())
        self.menu.setFixedWidth(widest + 24)  # every mode's name in full, at any text size

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        """Stop the timers and the card thread."""
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Release the card, stop the worker thread (idempotent)."""
        self.timer.stop()
        if self.current is not None:
            self.screens[self.current].deactivate()
            self.current = None
        for screen in self.screens.values():
            stop = getattr(screen, "shutdown", None)
            if callable(stop):
                stop()
        self.worker.shutdown()
