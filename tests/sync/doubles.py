"""Small list-backed stand-ins for the terminal store's ports (the sync package may not import
the terminal package, so its tests use these; the real store is tested against the same
ports end to end)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from sync.protocol import PullResponse, ResultStatus, Transaction, TransactionResult

PENDING, SENT = "pending", "sent"


@dataclass
class OutboxEntry:
    """One outbox row: the transaction, its state, attempts, last error and result."""

    transaction: Transaction
    state: str = PENDING
    attempts: int = 0
    last_error: str | None = None
    result: TransactionResult | None = None


class ListOutbox:
    """An in-order outbox (implements :class:`sync.engine.OutboxPort`). ``batches`` records
    the IDs of each ``mark_sent`` call, in order: what the engine pushed."""

    def __init__(self, transactions: Sequence[Transaction] = ()) -> None:
        self._lock = threading.Lock()
        self.entries: dict[UUID, OutboxEntry] = {}
        self.batches: list[list[UUID]] = []
        self.add(*transactions)

    def add(self, *transactions: Transaction) -> None:
        """Queue transactions (pending) after the ones already there."""
        with self._lock:
            for tx in transactions:
                self.entries.setdefault(tx.id, OutboxEntry(tx))

    def state(self, tx_id: UUID) -> str:
        """The row's state: pending, sent, or the final status of its result."""
        return self.entries[tx_id].state

    def pending_transactions(self, limit: int) -> list[Transaction]:
        with self._lock:
            rows = [e.transaction for e in self.entries.values() if e.state in (PENDING, SENT)]
        return rows[:limit]

    def mark_sent(self, ids: Sequence[UUID]) -> None:
        with self._lock:
            self.batches.append(list(ids))
            for tx_id in ids:
                entry = self.entries[tx_id]
                if entry.state in (PENDING, SENT):
                    entry.state = SENT
                    entry.attempts += 1

    def record_results(self, results: Sequence[TransactionResult]) -> None:
        with self._lock:
            for result in results:
                entry = self.entries.get(result.id)
                if entry is None:
                    continue
                status = result.status
                if status is ResultStatus.DUPLICATE and result.original_status is not None:
                    status = result.original_status
                entry.state, entry.result, entry.last_error = status.value, result, None

    def record_failure(self, ids: Sequence[UUID], error: str) -> None:
        with self._lock:
            for tx_id in ids:
                self.entries[tx_id].last_error = error

    def unsynced_count(self) -> int:
        with self._lock:
            return sum(1 for e in self.entries.values() if e.state in (PENDING, SENT))


@dataclass
class MemoryCache:
    """The caches' sync side (implements :class:`sync.engine.CachePort`): every applied pull,
    the cursor, successes and errors."""

    cursor: str | None = None
    pulls: list[PullResponse] = field(default_factory=list)
    successes: list[datetime] = field(default_factory=list)
    errors: list[tuple[str, datetime]] = field(default_factory=list)

    def sync_cursor(self) -> str | None:
        return self.cursor

    def apply_pull(self, pull: PullResponse, *, received_at: datetime) -> None:
        self.pulls.append(pull)
        self.cursor = pull.cursor

    def record_sync_success(self, at: datetime) -> None:
        self.successes.append(at)

    def record_sync_error(self, message: str, at: datetime) -> None:
        self.errors.append((message, at))
