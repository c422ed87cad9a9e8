"""Reader and card presence as Qt signals.

:class:`ReaderState` is what the screens watch. It is fed by :class:`PcscWatcher` (the PC/SC
:class:`cardio.monitor.CardMonitor` on its own thread, re-emitted into the GUI thread) or, for
the in-process demo card and the tests, by calling its slots directly.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from cardio.monitor import CardMonitor

log = logging.getLogger(__name__)


class ReaderState(QObject):
    """Readers present, readers holding a card, the chosen reader, the last reader error."""

    changed = Signal()
    card_inserted = Signal(str)
    card_removed = Signal(str)

    def __init__(self, preferred: str | None = None) -> None:
        super().__init__()
        self.readers: list[str] = []
        self.cards: set[str] = set()
        self.error: str | None = None
        #: None: automatic (the first reader with a card)
        self.preferred = preferred

    def watches(self, reader: str) -> bool:
        """True when events of ``reader`` matter (automatic choice, or the chosen one)."""
        return self.preferred is None or reader == self.preferred

    @property
    def card_present(self) -> bool:
        """A card lies on the reader in use."""
        return any(self.watches(r) for r in self.cards)

    def active_reader(self) -> str | None:
        """The reader to open (None lets the card layer pick the first with a card)."""
        if self.preferred is not None:
            return self.preferred
        return next(iter(sorted(self.cards)), None)

    @Slot(str)
    def reader_added(self, name: str) -> None:
        """A reader appeared."""
        if name not in self.readers:
            self.readers.append(name)
        self.error = None
        self.changed.emit()

    @Slot(str)
    def reader_removed(self, name: str) -> None:
        """A reader disappeared (with any card on it)."""
        if name in self.readers:
            self.readers.remove(name)
        if name in self.cards:
            self.card_out(name)
        self.changed.emit()

    @Slot(str)
    def card_in(self, name: str) -> None:
        """A card was placed on ``name``."""
        if name not in self.readers:
            self.readers.append(name)
        self.cards.add(name)
        self.changed.emit()
        if self.watches(name):
            self.card_inserted.emit(name)

    @Slot(str)
    def card_out(self, name: str) -> None:
        """The card left ``name``."""
        self.cards.discard(name)
        self.changed.emit()
        if self.watches(name):
            self.card_removed.emit(name)

    @Slot(str)
    def set_error(self, message: str) -> None:
        """The reader service failed (no PC/SC, no reader): shown in the status bar."""
        self.error = message
        self.changed.emit()


class _Bridge(QObject):
    """Signals emitted on the monitor thread; Qt queues them into the GUI thread."""

    added = Signal(str)
    removed = Signal(str)
    inserted = Signal(str)
    ejected = Signal(str)
    failed = Signal(str)


class PcscWatcher:
    """Feeds a :class:`ReaderState` from the PC/SC card monitor."""

    def __init__(self, state: ReaderState) -> None:
        self._bridge = _Bridge()
        self._bridge.added.connect(state.reader_added)
        self._bridge.removed.connect(state.reader_removed)
        self._bridge.inserted.connect(state.card_in)
        self._bridge.ejected.connect(state.card_out)
        self._bridge.failed.connect(state.set_error)
        self._monitor = CardMonitor(
            on_reader_added=self._bridge.added.emit,
            on_reader_removed=self._bridge.removed.emit,
            on_card_inserted=self._inserted,
            on_card_removed=self._bridge.ejected.emit,
            on_error=self._failed,
        )

    def _inserted(self, name: str, atr: bytes) -> None:
        self._bridge.inserted.emit(name)

    def _failed(self, error: Any) -> None:
        self._bridge.failed.emit(str(getattr(error, "message_ja", error)))

    def start(self) -> None:
        """Start watching."""
        self._monitor.start()

    def stop(self) -> None:
        """Stop watching."""
        self._monitor.stop()
