"""The outbox: every transaction this terminal made, durable before anything is shown as done,
kept with its state until (and after) the server has answered for it."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sync.protocol import (
    ResultStatus,
    Transaction,
    TransactionKind,
    TransactionResult,
    transaction_digest,
)
from terminal.errors import AlreadyTappedError, StoreError
from terminal.store.db import StoreBase, from_iso, iso, now_iso


class OutboxState(StrEnum):
    """Where a row is on its way to the ledger."""

    PENDING = "pending"
    SENT = "sent"
    APPLIED = "applied"
    ACCEPTED_OFFLINE = "accepted_offline"
    REJECTED = "rejected"
    CONFLICT = "conflict"


class LocalDecision(StrEnum):
    """How the terminal decided: online answer, offline policy, or left to sync."""

    ONLINE = "online"
    OFFLINE = "offline"
    UNDECIDED = "undecided"


FINAL_STATES = frozenset(
    {OutboxState.APPLIED, OutboxState.ACCEPTED_OFFLINE, OutboxState.REJECTED, OutboxState.CONFLICT}
)
_UNSYNCED = (OutboxState.PENDING.value, OutboxState.SENT.value)
_STATE_OF = {
    ResultStatus.APPLIED: OutboxState.APPLIED,
    ResultStatus.ACCEPTED_OFFLINE: OutboxState.ACCEPTED_OFFLINE,
    ResultStatus.REJECTED: OutboxState.REJECTED,
    ResultStatus.CONFLICT: OutboxState.CONFLICT,
}
#: Sign of a row's points in the card's balance while it waits for the server.
_DELTA_SIGN = {
    TransactionKind.GRANT.value: 1,
    TransactionKind.POINT_USE.value: -1,
    TransactionKind.VOUCHER_ISSUE.value: -1,
}


@dataclass(frozen=True)
class Tap:
    """One attendance tap: a card at an event (at most one per card and event)."""

    event: str
    grant_program_id: int
    card_fingerprint: str


@dataclass(frozen=True)
class OutboxRow:
    """A stored transaction and what is known of its fate."""

    seq: int
    transaction: Transaction
    digest: bytes
    state: OutboxState
    decision: LocalDecision
    mykey_id: str | None
    program_id: int | None
    points: int
    attempts: int
    last_error: str | None
    result: TransactionResult | None
    created_at: datetime
    updated_at: datetime

    @property
    def id(self) -> UUID:
        """The transaction ID."""
        return self.transaction.id

    @property
    def kind(self) -> TransactionKind:
        """The transaction's kind."""
        return self.transaction.kind

    @property
    def is_final(self) -> bool:
        """True once the server has answered for it (applied, accepted, rejected, conflict)."""
        return self.state in FINAL_STATES


def _to_row(record: dict[str, Any]) -> OutboxRow:
    result = record["result_json"]
    created, updated = from_iso(record["created_at"]), from_iso(record["updated_at"])
    assert created is not None and updated is not None
    return OutboxRow(
        seq=record["seq"],
        transaction=Transaction.model_validate_json(record["tx_json"]),
        digest=bytes(record["digest"]),
        state=OutboxState(record["state"]),
        decision=LocalDecision(record["decision"]),
        mykey_id=record["mykey_id"],
        program_id=record["program_id"],
        points=record["points"],
        attempts=record["attempts"],
        last_error=record["last_error"],
        result=None if result is None else TransactionResult.model_validate_json(result),
        created_at=created,
        updated_at=updated,
    )


def _marks(count: int) -> str:
    return ",".join("?" * count)


class OutboxMixin(StoreBase):
    """Outbox methods of :class:`terminal.store.TerminalStore`."""

    def add_transaction(
        self,
        tx: Transaction,
        *,
        mykey_id: str | None,
        program_id: int | None,
        points: int,
        decision: LocalDecision = LocalDecision.ONLINE,
        tap: Tap | None = None,
    ) -> OutboxRow:
        """Store ``tx`` (state pending) and, with ``tap``, its attendance tap, in one commit.

        Returns the row once it is on disk. The same transaction ID again returns the stored row
        unchanged. A card that already tapped at ``tap.event`` raises AlreadyTappedError and
        nothing is written.
        """
        with self._write() as db:
            existing = self._row_record(tx.id)
            if existing is not None:
                return _to_row(existing)
            stamp = now_iso()
            db.table("outbox").insert(
                {
                    "id": str(tx.id),
                    "kind": tx.kind.value,
                    "tx_json": tx.model_dump_json(),
                    "digest": transaction_digest(tx),
                    "state": OutboxState.PENDING.value,
                    "decision": decision.value,
                    "offline": int(tx.offline),
                    "mykey_id": mykey_id,
                    "program_id": program_id,
                    "points": points,
                    "attempts": 0,
                    "created_at": iso(tx.terminal_time),
                    "updated_at": stamp,
                }
            )
            if tap is not None:
                try:
                    db.table("taps").insert(
                        {
                            "event": tap.event,
                            "card_fingerprint": tap.card_fingerprint,
                            "grant_program_id": tap.grant_program_id,
                            "tx_id": str(tx.id),
                        }
                    )
                except sqlite3.IntegrityError as exc:
                    raise AlreadyTappedError(f"event {tap.event!r}") from exc
            return _to_row(self._require(tx.id))

    def mark_offline(self, tx_id: UUID) -> OutboxRow:
        """Flag the stored transaction ``offline`` (same ID and digest) and decide it OFFLINE."""
        with self._write():
            row = _to_row(self._require(tx_id))
            if not row.is_final:
                flagged = row.transaction.model_copy(update={"offline": True})
                if transaction_digest(flagged) != row.digest:
                    raise StoreError(f"digest of {tx_id} changed when marked offline")
                self._db.execute(
                    "UPDATE outbox SET tx_json = ?, offline = 1, decision = ?, updated_at = ? "
                    "WHERE id = ?",
                    (flagged.model_dump_json(), LocalDecision.OFFLINE.value, now_iso(), str(tx_id)),
                )
            return _to_row(self._require(tx_id))

    def mark_undecided(self, tx_id: UUID) -> OutboxRow:
        """Decision UNDECIDED: the online answer was lost and the offline policy did not cover
        it; the row stays unsynced and its result comes with sync."""
        with self._write():
            self._require(tx_id)
            self._db.execute(
                "UPDATE outbox SET decision = ?, updated_at = ? WHERE id = ?",
                (LocalDecision.UNDECIDED.value, now_iso(), str(tx_id)),
            )
            return _to_row(self._require(tx_id))

    def record_results(self, results: Sequence[TransactionResult]) -> list[OutboxRow]:
        """Store the server's answers in one commit; unknown IDs are ignored.

        A duplicate takes its ``original_status``. Returns the updated rows.
        """
        ids: list[UUID] = []
        with self._write():
            stamp = now_iso()
            for result in results:
                status = result.status
                if status is ResultStatus.DUPLICATE:
                    status = result.original_status or ResultStatus.APPLIED
                state = _STATE_OF.get(status)
                if state is None:
                    raise StoreError(f"result {result.id} has no final status ({status})")
                cursor = self._db.execute(
                    "UPDATE outbox SET state = ?, result_json = ?, last_error = NULL, "
                    "updated_at = ? WHERE id = ?",
                    (state.value, result.model_dump_json(), stamp, str(result.id)),
                )
                if cursor.rowcount:
                    ids.append(result.id)
            return [_to_row(self._require(tx_id)) for tx_id in ids]

    def mark_sent(self, ids: Sequence[UUID]) -> None:
        """Rows about to be pushed: pending -> sent, one more attempt (final rows untouched)."""
        with self._write():
            self._db.execute(
                f"UPDATE outbox SET state = ?, attempts = attempts + 1, updated_at = ? "  # noqa: S608
                f"WHERE state IN (?, ?) AND id IN ({_marks(len(ids))})",
                (OutboxState.SENT.value, now_iso(), *_UNSYNCED, *(str(i) for i in ids)),
            )

    def record_failure(self, ids: Sequence[UUID], error: str) -> None:
        """Note why a push failed on the unsynced rows (their state stays)."""
        with self._write():
            self._db.execute(
                f"UPDATE outbox SET last_error = ?, updated_at = ? "  # noqa: S608
                f"WHERE state IN (?, ?) AND id IN ({_marks(len(ids))})",
                (error, now_iso(), *_UNSYNCED, *(str(i) for i in ids)),
            )

    def pending_transactions(self, limit: int) -> list[Transaction]:
        """Up to ``limit`` unsynced transactions, oldest first (insertion order)."""
        records = self._query(
            "SELECT tx_json FROM outbox WHERE state IN (?, ?) ORDER BY seq LIMIT ?",
            (*_UNSYNCED, limit),
        )
        return [Transaction.model_validate_json(r["tx_json"]) for r in records]

    def get(self, tx_id: UUID) -> OutboxRow | None:
        """The row of ``tx_id``, if stored."""
        record = self._row_record(tx_id)
        return None if record is None else _to_row(record)

    def unsynced_count(self) -> int:
        """How many rows the server has not answered for yet."""
        record = self._one("SELECT count(*) AS n FROM outbox WHERE state IN (?, ?)", _UNSYNCED)
        return int(record["n"]) if record else 0

    def rows(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        kinds: Collection[TransactionKind] | None = None,
        limit: int | None = None,
    ) -> list[OutboxRow]:
        """Rows with terminal time in [since, until), of ``kinds``, newest first."""
        where, params = self._time_filter(since, until)
        if kinds is not None:
            where.append(f"kind IN ({_marks(len(kinds))})")
            params.extend(kind.value for kind in kinds)
        sql = "SELECT * FROM outbox"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, seq DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_to_row(r) for r in self._query(sql, params)]

    def problems(self) -> list[OutboxRow]:
        """Rejected and conflicting rows, newest first: for a person to look at."""
        records = self._query(
            "SELECT * FROM outbox WHERE state IN (?, ?) ORDER BY created_at DESC, seq DESC",
            (OutboxState.REJECTED.value, OutboxState.CONFLICT.value),
        )
        return [_to_row(r) for r in records]

    def offline_points(
        self, *, since: datetime | None, until: datetime | None = None, mykey_id: str | None = None
    ) -> int:
        """Points of point uses accepted offline here (not rejected), terminal time in
        [since, until), optionally for one card."""
        where, params = self._time_filter(since, until)
        where += ["kind = ?", "decision = ?", "state != ?"]
        params += [
            TransactionKind.POINT_USE.value,
            LocalDecision.OFFLINE.value,
            OutboxState.REJECTED.value,
        ]
        if mykey_id is not None:
            where.append("mykey_id = ?")
            params.append(mykey_id)
        # only fixed column conditions are joined; every value is a bound parameter
        sql = "SELECT coalesce(sum(points), 0) AS total FROM outbox WHERE "
        sql += " AND ".join(where)
        record = self._one(sql, params)
        return int(record["total"]) if record else 0

    def pending_delta(self, mykey_id: str, program_id: int) -> int:
        """Net points of the card's unsynced rows in the program: grants add, uses and voucher
        issues take. The screen shows cached balance + this."""
        records = self._query(
            "SELECT kind, coalesce(sum(points), 0) AS total FROM outbox "
            "WHERE mykey_id = ? AND program_id = ? AND state IN (?, ?) GROUP BY kind",
            (mykey_id, program_id, *_UNSYNCED),
        )
        return sum(_DELTA_SIGN.get(r["kind"], 0) * int(r["total"]) for r in records)

    def taps(self, event: str) -> list[Tap]:
        """The attendance taps recorded for ``event``."""
        records = self._query("SELECT * FROM taps WHERE event = ? ORDER BY rowid", (event,))
        return [Tap(r["event"], r["grant_program_id"], r["card_fingerprint"]) for r in records]

    # --- helpers

    @staticmethod
    def _time_filter(since: datetime | None, until: datetime | None) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if since is not None:
            where.append("created_at >= ?")
            params.append(iso(since))
        if until is not None:
            where.append("created_at < ?")
            params.append(iso(until))
        return where, params

    def _row_record(self, tx_id: UUID) -> dict[str, Any] | None:
        return self._one("SELECT * FROM outbox WHERE id = ?", (str(tx_id),))

    def _require(self, tx_id: UUID) -> dict[str, Any]:
        record = self._row_record(tx_id)
        if record is None:
            raise StoreError(f"no outbox row for {tx_id}")
        return record
