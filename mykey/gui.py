"""`mykey` with no arguments: the desktop window over the terminal in the user data folder.

A composition root: the terminal (``mykey.app_context``), the PC/SC reader watcher, the sync
engine in its background thread, and the window. Before enrollment the window opens with 設定
only, where the enrollment code is typed.

The window is shown first; the sync engine and the reader watcher start as soon as it has been
painted, and the HTTP stack is imported on first use.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mykey.app_context import Terminal, load_terminal, pcsc_session
from sync.protocol import Role
from terminal.config import TerminalPaths, enroll_terminal, load_key
from terminal.errors import NotEnrolledError
from ui.app import after_first_paint, make_app
from ui.context import AppServices
from ui.main_window import Enrolled, MainWindow
from ui.prefs import Prefs
from ui.reader import PcscWatcher, ReaderState

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from sync.engine import SyncEngine

log = logging.getLogger(__name__)

WINDOW_SIZE = (1280, 800)


def _enroll_in(data: Path | None) -> Any:
    paths = TerminalPaths.at(data)

    def run(server: str, code: str, name: str) -> None:
        from sync.client import enroll

        def call(url: str, code: str, key: Any, voucher_key: Any, name: str) -> Any:
            return enroll(url, code, key, voucher_key=voucher_key, name=name)

        enroll_terminal(paths, server.rstrip("/"), code, name=name, enroll=call)

    return run


def _voucher_key(terminal: Terminal) -> Ed25519PrivateKey | None:
    """The office's voucher-signing key (only offices issue vouchers)."""
    if not terminal.identity.has_role(Role.OFFICE):
        return None
    return load_key(terminal.paths.voucher_key)


def _open_enrolled(data: Path | None) -> Any:
    """Open the terminal just enrolled from 設定 (the window starts its sync engine)."""

    def run() -> Enrolled:
        terminal = load_terminal(data)
        counter, engine = terminal.counter(), terminal.engine()
        counter.on_new_row = engine.wake
        return Enrolled(counter, engine, terminal.close, _voucher_key(terminal))

    return run


def main(data: Path | None = None) -> int:
    """Open the window; returns the application's exit code."""
    gc.freeze()  # the modules just imported live as long as the process: no need to scan them
    terminal: Terminal | None
    try:
        terminal = load_terminal(data)
    except NotEnrolledError:
        log.info("not enrolled yet: the window opens with the settings only")
        terminal = None
    reader = ReaderState()
    counter = None if terminal is None else terminal.counter()
    prefs = Prefs.load(None if terminal is None else terminal.store)
    app = make_app(prefs)
    watcher = PcscWatcher(reader)
    services = AppServices(
        counter,
        None,  # the sync engine joins once the window is up
        pcsc_session,
        reader,
        enroll=_enroll_in(data),
        voucher_key=None if terminal is None else _voucher_key(terminal),
    )
    window = MainWindow(services, prefs, open_enrolled=_open_enrolled(data))
    window.resize(*WINDOW_SIZE)
    window.show()
    engine: SyncEngine | None = None

    def start_background() -> None:
        """The sync engine and the reader watcher, once the event loop runs."""
        nonlocal engine
        if terminal is not None and counter is not None:
            engine = terminal.engine()
            counter.on_new_row = engine.wake
            services.engine = engine
            engine.start()
        watcher.start()

    after_first_paint(window, start_background)
    try:
        code: int = app.exec()
    finally:
        window.shutdown()
        watcher.stop()
        if engine is not None:
            engine.stop()
        if terminal is not None:
            terminal.close()
    return code
