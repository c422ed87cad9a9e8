"""The terminal's one store: outbox, caches and sync state over one SQLite file."""

from __future__ import annotations

from terminal.store.caches import CacheMixin
from terminal.store.outbox import OutboxMixin


class TerminalStore(OutboxMixin, CacheMixin):
    """Durable local state shared by the card worker and the sync thread.

    Open with :meth:`TerminalStore.open`. Every public write is one SQLite transaction under an
    internal lock; a write that returns is on disk (WAL, ``synchronous=FULL``).
    """
