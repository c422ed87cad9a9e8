"""Reader and card events as plain callbacks (the GUI adapts them to signals).

``CardMonitor`` runs one background thread that waits in PC/SC's ``SCardGetStatusChange`` (with
pcsc-lite's plug-and-play pseudo reader, so a new reader wakes it too) and calls:
``on_reader_added(name)``, ``on_reader_removed(name)``, ``on_card_inserted(name, atr)`` and
``on_card_removed(name)``. Readers and cards already present when it starts are reported as added
and inserted. Callbacks run on the monitor thread and must not block for long.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from cardio.errors import CardError
from cardio.transport import (
    SCARD_E_TIMEOUT,
    SCARD_E_UNKNOWN_READER,
    SCARD_STATE_PRESENT,
    establish_context,
    list_readers,
    pcsc_error,
    reader_names,
    scard_module,
)

log = logging.getLogger(__name__)

__all__ = ["CardMonitor", "list_readers"]

PNP_READER = "\\\\?PnP?\\Notification"
SCARD_E_CANCELLED = 0x80100002
SCARD_STATE_CHANGED = 0x02

ReaderCallback = Callable[[str], None]
CardCallback = Callable[[str, bytes], None]


def _ignore(*_: Any) -> None:
    return None


class CardMonitor:
    """Watches PC/SC readers and cards until ``stop()``; usable as a context manager."""

    def __init__(
        self,
        *,
        on_reader_added: ReaderCallback = _ignore,
        on_reader_removed: ReaderCallback = _ignore,
        on_card_inserted: CardCallback = _ignore,
        on_card_removed: ReaderCallback = _ignore,
        on_error: Callable[[CardError], None] = _ignore,
        wait_ms: int = 500,
    ) -> None:
        self.on_reader_added = on_reader_added
        self.on_reader_removed = on_reader_removed
        self.on_card_inserted = on_card_inserted
        self.on_card_removed = on_card_removed
        self.on_error = on_error
        self.wait_ms = wait_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._context = 0
        self._context_lock = threading.Lock()
        #: reader -> last known state bits (0 until first seen)
        self._states: dict[str, int] = {}

    def start(self) -> None:
        """Start the background thread (once)."""
        if self._thread is not None:
            raise RuntimeError("the monitor is already started")
        self._thread = threading.Thread(target=self._run, name="card-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and wait for it (wakes a pending PC/SC wait at once)."""
        self._stop.set()
        with self._context_lock:
            if self._context:
                scard_module().SCardCancel(self._context)
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> CardMonitor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:  # a broken callback must not kill the monitor
            log.exception("card monitor callback failed")

    def _sync_readers(self, names: list[str]) -> None:
        for gone in [r for r in self._states if r not in names]:
            if self._states.pop(gone) & SCARD_STATE_PRESENT:
                self._call(self.on_card_removed, gone)
            self._call(self.on_reader_removed, gone)
        for new in names:
            if new not in self._states:
                self._states[new] = 0
                self._call(self.on_reader_added, new)

    def _apply(self, name: str, state: int, atr: bytes) -> None:
        before = self._states.get(name, 0)
        self._states[name] = state & ~SCARD_STATE_CHANGED
        was, now = bool(before & SCARD_STATE_PRESENT), bool(state & SCARD_STATE_PRESENT)
        if now and not was:
            self._call(self.on_card_inserted, name, atr)
        elif was and not now:
            self._call(self.on_card_removed, name)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._watch()
            except CardError as error:
                log.debug("card monitor: %s", error)
                self._call(self.on_error, error)
                self._sync_readers([])
                self._stop.wait(1.0)  # pcscd away: try again shortly

    def _watch(self) -> None:
        scard = scard_module()
        context = establish_context()
        with self._context_lock:
            self._context = context
        try:
            while not self._stop.is_set():
                names = reader_names(context)
                self._sync_readers(names)
                query = [(n, self._states[n]) for n in names]
                query.append((PNP_READER, len(names) << 16))
                hresult, states = scard.SCardGetStatusChange(context, self.wait_ms, query)
                code = hresult & 0xFFFFFFFF
                if code in (SCARD_E_TIMEOUT, SCARD_E_CANCELLED, SCARD_E_UNKNOWN_READER):
                    continue  # nothing happened, stop() was called, or a reader just left
                if hresult != 0:
                    raise pcsc_error(hresult, "wait for reader events")
                for name, state, atr in states:
                    if name != PNP_READER:
                        self._apply(name, int(state), bytes(atr))
        finally:
            with self._context_lock:
                self._context = 0
            scard.SCardReleaseContext(context)
