"""Durable local state of the terminal (SQLite): outbox, offline caches, sync state."""

from terminal.store.caches import CachedCard, SyncState
from terminal.store.db import SCHEMA_VERSION
from terminal.store.outbox import FINAL_STATES, LocalDecision, OutboxRow, OutboxState, Tap
from terminal.store.store import TerminalStore

__all__ = [
    "FINAL_STATES",
    "SCHEMA_VERSION",
    "CachedCard",
    "LocalDecision",
    "OutboxRow",
    "OutboxState",
    "SyncState",
    "Tap",
    "TerminalStore",
]
