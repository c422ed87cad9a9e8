"""Run one blocking call (sync round, enrollment) off the GUI thread; the answer comes back as
a Qt signal. Card I/O never goes here: it has its own worker (:mod:`ui.card_worker`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from ui.failure import Failure

log = logging.getLogger(__name__)


class BackgroundCall(QObject):
    """One call at a time on a daemon thread; ``done(result)`` or ``failed(Failure)``."""

    done = Signal(object)
    failed = Signal(object)

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        """True while a call runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, call: Callable[[], object]) -> bool:
        """Start ``call``; False when one is already running."""
        if self.busy:
            return False

        def run() -> None:
            try:
                result = call()
            except Exception as error:
                self.failed.emit(Failure.of(error))
            else:
                self.done.emit(result)

        self._thread = threading.Thread(target=run, name=self._name, daemon=True)
        self._thread.start()
        return True

    def wait(self, timeout: float = 10.0) -> None:
        """Wait for a running call (shutdown)."""
        if self._thread is not None:
            self._thread.join(timeout)
