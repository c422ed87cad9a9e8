"""All card I/O on one worker thread (Electrum's habit): the GUI asks, Qt signals answer.

A *job* is a function run on the worker thread with a :class:`CardContext`: the open card
session (opened on the first job and kept until :meth:`CardWorker.release`), a way to report
the stage, and :meth:`CardContext.ask_pin`, which asks the GUI for the PIN and waits. The PIN
comes back through a ``queue.Queue`` of :class:`cardio.secrets.Pin`
(:meth:`CardWorker.provide_pin`), never through a signal argument or a log line.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from cardio.secrets import Pin
from terminal.services.counter import prove_pin
from ui.failure import Failure, PinCancelled

log = logging.getLogger(__name__)

#: reader name (None: the first with a card) -> a context manager yielding a JPKI session
SessionFactory = Callable[[str | None], AbstractContextManager[Any]]


class CardContext:
    """What a job gets on the worker thread."""

    def __init__(self, worker: CardWorker, session: Any, job_id: int = 0) -> None:
        self.session = session
        self.job_id = job_id
        self._worker = worker
        self._wrong = False

    def stage(self, name: str) -> None:
        """Tell the screen what happens now (``reading``, ``checking``, ``signing``, ...)."""
        self._worker.stage_changed.emit(name)

    def ask_pin(self, tries_left: int) -> Pin:
        """Ask the GUI for the PIN and wait for it (raises ``PinCancelled`` on cancel)."""
        if self.job_id <= self._worker.abandoned:
            raise PinCancelled("the screen that asked was left")
        self._worker.pin_requested.emit(tries_left, self._wrong)
        item = self._worker.pins.get()
        if item is None:
            raise PinCancelled("cancelled at the PIN pad")
        self.stage("checking")
        return item

    def prove_pin(self, card: Any) -> Any:
        """Verify the PIN (asking again after a wrong one) and have the card sign a challenge."""
        while True:
            try:
                return prove_pin(self.session, card, self.ask_pin)
            except Exception as error:
                if getattr(error, "code", None) != "wrong-pin":
                    raise
                log.info("wrong PIN; %s tries left", getattr(error, "tries_left", "?"))
                self._wrong = True


CardJob = Callable[[CardContext], object]


class CardWorker(QObject):
    """Runs card jobs one at a time on its own thread; results come back as signals."""

    stage_changed = Signal(str)
    #: tries left, and whether the previous PIN was wrong (never the PIN itself)
    pin_requested = Signal(int, bool)
    job_done = Signal(int, object)
    job_failed = Signal(int, object)
    _start = Signal(int, object)
    _close = Signal()

    def __init__(self, open_session: SessionFactory, reader: Callable[[], str | None]) -> None:
        super().__init__()
        self.pins: queue.Queue[Pin | None] = queue.Queue()
        self._open_session = open_session
        self._reader = reader
        self._stack: ExitStack | None = None
        self._session: Any = None
        self._next_id = 0
        #: jobs up to this ID were given up by their screen: they get no PIN
        self.abandoned = 0
        self._thread = QThread()
        self._thread.setObjectName("card-worker")
        self.moveToThread(self._thread)
        self._start.connect(self._run)
        self._close.connect(self._close_session)
        self._thread.start()

    # --- called from the GUI thread ---------------------------------------------------------

    def submit(self, job: CardJob) -> int:
        """Queue ``job``; its result arrives as ``job_done(id, result)`` or ``job_failed``."""
        self._next_id += 1
        while not self.pins.empty():  # a PIN typed for an earlier request is never reused
            self.pins.get_nowait()
        self._start.emit(self._next_id, job)
        return self._next_id

    def provide_pin(self, pin: Pin) -> None:
        """Hand the typed PIN to the waiting job."""
        self.pins.put(pin)

    def cancel_pin(self) -> None:
        """End a waiting PIN request (the job fails with ``pin-cancelled``)."""
        self.pins.put(None)

    def abandon(self, job_id: int) -> None:
        """The screen left while job ``job_id`` ran: it must not wait for a PIN."""
        self.abandoned = max(self.abandoned, job_id)

    def release(self) -> None:
        """Close the card session after the queued jobs (the card is done with)."""
        self._close.emit()

    def shutdown(self) -> None:
        """Stop the thread (a waiting PIN request is cancelled first)."""
        self.cancel_pin()
        self.release()
        self._thread.quit()
        self._thread.wait()

    # --- on the worker thread ---------------------------------------------------------------

    @Slot(int, object)
    def _run(self, job_id: int, job: CardJob) -> None:
        try:
            if self._stack is None:
                stack = ExitStack()
                try:
                    self._session = stack.enter_context(self._open_session(self._reader()))
                except BaseException:
                    stack.close()
                    raise
                self._stack = stack
            result = job(CardContext(self, self._session, job_id))
        except Exception as error:
            failure = Failure.of(error)
            log.info("card job %d failed: %s", job_id, failure.code)
            if failure.card_gone:
                self._close_session()
            self.job_failed.emit(job_id, failure)
        else:
            self.job_done.emit(job_id, result)

    @Slot()
    def _close_session(self) -> None:
        stack, self._stack, self._session = self._stack, None, None
        if stack is not None:
            try:
                stack.close()
            except Exception as error:  # the card is gone anyway
                log.info("closing the card session: %s", error)
