"""The main window: the modes this terminal's roles allow (function keys), the current screen,
and the status bar (click: 同期).

Enrolled from 設定, the window opens the new terminal through ``open_enrolled`` (given by the
composition root), rebuilds its modes for the terminal's roles and starts the sync engine: no
restart is needed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

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
from ui.failure import Failure
from ui.prefs import Prefs, style_sheet
from ui.screens.base import Screen
from ui.screens.registry import Mode, modes_for
from ui.sound import Sounds
from ui.status_bar import StatusBar
from ui.text import tr
from ui.widgets import big_label

if TYPE_CHECKING:  # imported by the composition root, not at the window's start
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from sync.engine import SyncEngine
    from terminal.services.counter import Counter

log = logging.getLogger(__name__)

STATUS_REFRESH_MS = 1000


@dataclass
class Enrolled:
    """A terminal opened after an enrollment from 設定: its counter, its sync engine (the
    window starts and stops it) and how to close its store and clients at exit."""

    counter: Counter
    engine: SyncEngine | None
    close: Callable[[], None] | None = None
    voucher_key: Ed25519PrivateKey | None = None


#: opens the terminal just enrolled (from its data folder); raises on failure
OpenEnrolled = Callable[[], Enrolled]


class Screens(Mapping[str, Screen]):
    """The screens by mode name, in menu order. A mode's screen is built the first time it is
    looked up (opening the mode does that), so the window shows without building them all."""

    def __init__(
        self, names: list[str] | None = None, build: Callable[[str], Screen] | None = None
    ) -> None:
        self._names = list(names or [])
        self._build = build
        #: the screens built so far (mode name -> screen)
        self.built: dict[str, Screen] = {}

    def __getitem__(self, name: str) -> Screen:
        screen = self.built.get(name)
        if screen is None:
            if name not in self._names or self._build is None:
                raise KeyError(name)
            screen = self.built[name] = self._build(name)
        return screen

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names


class MainWindow(QMainWindow):
    """The terminal's window."""

    def __init__(
        self,
        services: AppServices,
        prefs: Prefs | None = None,
        *,
        open_enrolled: OpenEnrolled | None = None,
    ) -> None:
        super().__init__()
        self.services = services
        self.open_enrolled = open_enrolled
        self.enrolled: Enrolled | None = None
        store = None if services.counter is None else services.counter.store
        self.prefs = prefs if prefs is not None else Prefs.load(store)
        services.reader.preferred = self.prefs.reader
        self.sounds = Sounds(self.prefs.sounds)
        self.worker = CardWorker(services.open_session, services.reader.active_reader)
        self.modes: list[Mode] = []
        self.screens = Screens()
        self.buttons: dict[str, QPushButton] = {}
        self.areas: dict[str, QWidget] = {}
        self.shortcuts: list[QShortcut] = []
        self.current: str | None = None
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        body = QHBoxLayout()
        menu = QWidget()
        menu.setObjectName("modes")
        self.menu_layout = QVBoxLayout(menu)
        self.stack = QStackedWidget()
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
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self._build_modes()
        self.apply_prefs(self.prefs)
        self.open_mode(self.modes[0].name)

    def _build_modes(self) -> None:
        """(Re)build the menu, the screens and their keys for the terminal's roles."""
        self._drop_modes()
        services = self.services
        menu_layout = self.menu_layout
        self.modes = modes_for(services)
        self.screens = Screens([mode.name for mode in self.modes], self._make_screen)
        self.setWindowTitle(self._title())
        for mode in self.modes:
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
            self.shortcuts.append(shortcut)
        menu_layout.addStretch(1)
        if services.counter is not None:
            identity = services.counter.identity
            menu_layout.addWidget(big_label(identity.business_id, role="hint"))

    def _make_screen(self, name: str) -> Screen:
        """Build mode ``name``'s screen and put it in the stack (when first opened)."""
        mode = next(m for m in self.modes if m.name == name)
        screen = mode.factory(self.services, self.worker, self.sounds)
        if screen.flow is not None:
            screen.flow.state_changed.connect(self._refresh_status)
        prefs_changed = getattr(screen, "prefs_changed", None)
        if prefs_changed is not None:
            prefs_changed.connect(self.apply_prefs)
        enrolled = getattr(screen, "enrolled", None)
        if enrolled is not None:
            enrolled.connect(self._on_enrolled)
        self.areas[name] = self._framed(screen, self.stack)
        return screen

    def _drop_modes(self) -> None:
        """Remove every mode's screen, menu button and key (before a rebuild)."""
        if self.current is not None:
            self.screens[self.current].deactivate()
            self.current = None
        for screen in self.screens.built.values():
            stop = getattr(screen, "shutdown", None)
            if callable(stop):
                stop()
        for area in self.areas.values():
            self.stack.removeWidget(area)
            area.deleteLater()
        for shortcut in self.shortcuts:
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        while self.menu_layout.count():
            item = self.menu_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.screens, self.buttons, self.areas, self.shortcuts = Screens(), {}, {}, []

    def _on_enrolled(self, _result: object = None) -> None:
        """設定 enrolled this terminal: open it and rebuild (after the signal has returned)."""
        if self.open_enrolled is None:
            settings = self.screens.get("settings")
            result = getattr(settings, "enroll_result", None)
            if result is not None:
                result.setText(tr("登録しました。アプリを起動し直すと使えます。"))
            return
        QTimer.singleShot(0, self._adopt_enrolled)

    def _adopt_enrolled(self) -> None:
        assert self.open_enrolled is not None
        try:
            enrolled = self.open_enrolled()
        except Exception as error:
            log.exception("the enrolled terminal could not be opened")
            failure = Failure.of(error)
            settings = self.screens.get("settings")
            result = getattr(settings, "enroll_result", None)
            if result is not None:
                result.setText(
                    tr("登録しましたが、端末を開けませんでした: {e}").format(e=failure.message_ja)
                    + f"\n{failure.message_en}"
                )
            return
        self.adopt(enrolled)

    def adopt(self, enrolled: Enrolled) -> None:
        """Use a newly enrolled terminal: its modes, its sync engine (started), the options."""
        self.enrolled = enrolled
        services = self.services
        services.counter = enrolled.counter
        services.engine = enrolled.engine
        services.voucher_key = enrolled.voucher_key
        services.online = None
        if enrolled.engine is not None:
            enrolled.counter.on_new_row = enrolled.engine.wake
        self.prefs.save(enrolled.counter.store)  # the options chosen before enrollment stay
        self._build_modes()
        self.apply_prefs(self.prefs)
        self.open_mode("settings")
        settings = self.screens.get("settings")
        note = getattr(settings, "enroll_note", None)
        if note is not None:
            note.setText(tr("登録が完了しました。左のメニューから使い始められます。"))
        if enrolled.engine is not None:
            enrolled.engine.start()
        log.info(
            "enrolled as %s; modes %s", enrolled.counter.identity.terminal_id, list(self.screens)
        )

    def _tick(self) -> None:
        self.status.refresh()
        title = self._title()  # the business's name arrives with the first sync
        if title != self.windowTitle():
            self.setWindowTitle(title)

    @staticmethod
    def _framed(screen: Screen, stack: QStackedWidget) -> QWidget:
        """Put ``screen`` in ``stack``: a card-flow screen scrolls when taller than the window
        (very large text) instead of growing it; table screens lay themselves out (their tables
        give way). The frame joins the stack before the screen joins the frame, so the screen
        is styled once."""
        if screen.flow is None:
            stack.addWidget(screen)
            return screen
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        stack.addWidget(area)
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
        """Show mode ``name`` (ignored when this terminal does not have it); its screen is
        built the first time."""
        if name not in self.screens:
            return
        screen = self.screens[name]
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
        sheet = style_sheet(prefs)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            if app.styleSheet() != sheet:  # set once: every widget is polished again
                app.setStyleSheet(sheet)
        elif self.styleSheet() != sheet:
            self.setStyleSheet(sheet)
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
        """Release the card, stop the worker thread, and the sync engine and store of a
        terminal enrolled from this window (idempotent)."""
        self.timer.stop()
        if self.current is not None:
            self.screens[self.current].deactivate()
            self.current = None
        for screen in self.screens.built.values():
            stop = getattr(screen, "shutdown", None)
            if callable(stop):
                stop()
        self.worker.shutdown()
        enrolled, self.enrolled = self.enrolled, None
        if enrolled is not None:
            if enrolled.engine is not None:
                enrolled.engine.stop()
            if enrolled.close is not None:
                enrolled.close()
