"""`mykey` with no arguments: the desktop window over the terminal in the user data folder.

A composition root: the terminal (``mykey.app_context``), the PC/SC reader watcher, the sync
engine in its background thread, and the window. Before enrollment the window opens with 設定
only, where the enrollment code is typed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mykey.app_context import Terminal, load_terminal, pcsc_session
from sync.client import enroll
from terminal.config import TerminalPaths, enroll_terminal
from terminal.errors import NotEnrolledError
from ui.app import make_app
from ui.context import AppServices
from ui.main_window import MainWindow
from ui.prefs import Prefs
from ui.reader import PcscWatcher, ReaderState

log = logging.getLogger(__name__)

WINDOW_SIZE = (1280, 800)


def _enroll_in(data: Path | None) -> Any:
    paths = TerminalPaths.at(data)

    def run(server: str, code: str, name: str) -> None:
        def call(url: str, code: str, key: Any, voucher_key: Any, name: str) -> Any:
            return enroll(url, code, key, voucher_key=voucher_key, name=name)

        enroll_terminal(paths, server.rstrip("/"), code, name=name, enroll=call)

    return run


def main(data: Path | None = None) -> int:
    """Open the window; returns the application's exit code."""
    terminal: Terminal | None
    try:
        terminal = load_terminal(data)
    except NotEnrolledError:
        log.info("not enrolled yet: the window opens with the settings only")
        terminal = None
    reader = ReaderState()
    counter = None if terminal is None else terminal.counter()
    engine = None if terminal is None else terminal.engine()
    if counter is not None and engine is not None:
        counter.on_new_row = engine.wake
    prefs = Prefs.load(None if terminal is None else terminal.store)
    app = make_app(prefs)
    watcher = PcscWatcher(reader)
    services = AppServices(counter, engine, pcsc_session, reader, enroll=_enroll_in(data))
    window = MainWindow(services, prefs)
    window.resize(*WINDOW_SIZE)
    window.show()
    watcher.start()
    if engine is not None:
        engine.start()
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
