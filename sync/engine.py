"""The sync engine: pushes the outbox to the ledger, pulls the caches back, in the background.

One round (:meth:`SyncEngine.sync_now`): push every pending transaction in batches, oldest
first and in the outbox's order (``mark_sent`` before a request, ``record_results`` after it),
then pull by cursor until the cursor stops moving. Each pull's revocation snapshot must carry a
valid Ed25519 signature of the server's key (learnt at enrollment) before anything of that pull
is applied. A push the server refuses as a whole because of some rows it holds (another
business's row, a body too large...) is split in halves down to those rows, which stay
unsynced with the reason while the others go through. A failed round records the error in plain
Japanese and English words for the screen; the background thread then backs off (exponential,
full jitter, capped) until the server answers again.

The engine knows nothing of the terminal package: the store satisfies :class:`OutboxPort` and
:class:`CachePort` structurally, and :class:`sync.client.LedgerClient` satisfies
:class:`LedgerPort`.
"""

from __future__ import annotations

import base64
import binascii
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.client import CLOCK_SKEW_CODE, RetryPolicy
from sync.protocol import (
    MAX_BATCH,
    LedgerError,
    LedgerRefusedError,
    LedgerUnreachableError,
    PullResponse,
    PushResponse,
    ResultStatus,
    RevocationSnapshot,
    Transaction,
    TransactionResult,
    snapshot_bytes,
)

log = logging.getLogger(__name__)

#: A round stops pulling after this many pulls even if the cursor still moves.
MAX_PULLS_PER_ROUND = 20
#: A round stops splitting refused batches after this many single rows were held back.
MAX_HELD_BACK_PER_ROUND = 8
#: Default backoff of the background thread while the server is unreachable or refusing.
DEFAULT_BACKOFF = RetryPolicy(attempts=1, base_delay=2.0, max_delay=300.0)


class OutboxPort(Protocol):
    """What the engine needs of the outbox (the terminal store)."""

    def pending_transactions(self, limit: int) -> list[Transaction]: ...
    def mark_sent(self, ids: Sequence[UUID]) -> None: ...
    def record_results(self, results: Sequence[TransactionResult]) -> Any: ...
    def record_failure(self, ids: Sequence[UUID], error: str) -> None: ...
    def unsynced_count(self) -> int: ...


class CachePort(Protocol):
    """What the engine needs of the caches (the terminal store)."""

    def sync_cursor(self) -> str | None: ...
    def apply_pull(self, pull: PullResponse, *, received_at: datetime) -> None: ...
    def record_sync_success(self, at: datetime) -> None: ...
    def record_sync_error(self, message: str, at: datetime) -> None: ...


class LedgerPort(Protocol):
    """What the engine needs of the ledger client. A client that also has
    ``last_clock_offset`` (seconds, server minus terminal; :class:`sync.client.LedgerClient`
    has it) lets the clock-skew message say how far off the clock is."""

    def push(self, transactions: list[Transaction]) -> PushResponse: ...
    def pull(self, cursor: str | None) -> PullResponse: ...


class UntrustedSnapshotError(LedgerError):
    """A pulled revocation snapshot whose signature is not the server's: nothing was applied."""


@dataclass(frozen=True)
class SyncProgress:
    """What the screen shows about sync. The counts are those of the current (or last) round."""

    pending: int
    online: bool
    last_success_at: datetime | None
    last_error: str | None
    next_attempt_at: datetime | None
    pushed: int = 0
    applied: int = 0
    rejected: int = 0
    conflicts: int = 0


@dataclass(frozen=True)
class SyncReport:
    """The outcome of one round.

    ``pushed`` transactions got an answer; each counts once in ``applied``,
    ``accepted_offline``, ``rejected`` or ``conflicts`` (a duplicate by its original status)
    and, if the server had already seen it, also in ``duplicates``. ``error`` is the plain-word
    message when the round stopped early.
    """

    pushed: int = 0
    applied: int = 0
    accepted_offline: int = 0
    rejected: int = 0
    conflicts: int = 0
    duplicates: int = 0
    pulled: bool = False
    error: str | None = None


@dataclass
class _Round:
    pushed: int = 0
    applied: int = 0
    accepted_offline: int = 0
    rejected: int = 0
    conflicts: int = 0
    duplicates: int = 0
    pulled: bool = False
    seen: set[UUID] = field(default_factory=set)
    #: the background thread's round: it ends early (between requests) when stop() is called
    stoppable: bool = False
    held_back: int = 0

    def count(self, results: Sequence[TransactionResult]) -> None:
        for result in results:
            self.pushed += 1
            status = result.status
            if status is ResultStatus.DUPLICATE:
                self.duplicates += 1
                status = result.original_status or ResultStatus.APPLIED
            if status is ResultStatus.APPLIED:
                self.applied += 1
            elif status is ResultStatus.ACCEPTED_OFFLINE:
                self.accepted_offline += 1
            elif status is ResultStatus.REJECTED:
                self.rejected += 1
            elif status is ResultStatus.CONFLICT:
                self.conflicts += 1

    def report(self, error: str | None) -> SyncReport:
        return SyncReport(
            self.pushed,
            self.applied,
            self.accepted_offline,
            self.rejected,
            self.conflicts,
            self.duplicates,
            self.pulled,
            error,
        )


# --- plain words ---------------------------------------------------------------------------


def _about(seconds: float) -> tuple[str, str]:
    """ "約2時間" / "about 2 hours" for an offset in seconds."""
    value = abs(seconds)
    if value >= 5400:
        n = round(value / 3600)
        return f"約{n}時間", f"about {n} hour{'s' if n != 1 else ''}"
    if value >= 90:
        n = round(value / 60)
        return f"約{n}分", f"about {n} minutes"
    n = max(1, round(value))
    return f"約{n}秒", f"about {n} second{'s' if n != 1 else ''}"


def describe_error(error: Exception, clock_offset: float | None = None) -> str:
    """The plain Japanese / English words for the screen about a failed round."""
    if isinstance(error, UntrustedSnapshotError):
        return (
            "失効リストの署名を確認できません。受信データは適用していません"
            " / The revocation list's signature is not valid; nothing received was applied"
        )
    if isinstance(error, LedgerUnreachableError):
        return "サーバーに接続できません / Server unreachable"
    if isinstance(error, LedgerRefusedError):
        if error.code == CLOCK_SKEW_CODE:
            if clock_offset is None:
                return "端末の時計がずれています / The terminal clock is off"
            ja, en = _about(clock_offset)
            return f"端末の時計がずれています（{ja}） / The terminal clock is off by {en}"
        if error.code == "terminal-revoked":
            return "この端末は無効にされています / This terminal has been revoked"
        if error.status == 401:
            return (
                "端末の認証に失敗しました。端末登録を確認してください"
                " / Terminal authentication failed; check the enrollment"
            )
        ja, en = error.title_ja.rstrip("。"), error.title_en.rstrip(".")
        return f"サーバーが拒否しました: {ja} / The server refused: {en}"
    return "同期に失敗しました / Sync failed"


#: Refusals of a whole push caused by what some of its rows hold (not by the terminal itself).
_ITEM_REFUSAL_CODES = frozenset({"wrong-business", "wrong-role", "invalid-input"})


def _refuses_items(error: LedgerRefusedError) -> bool:
    """True when a smaller batch without the offending rows could go through."""
    return error.status in (413, 422) or error.code in _ITEM_REFUSAL_CODES


def verify_snapshot(snapshot: RevocationSnapshot, server_public_key: str) -> None:
    """Check the snapshot's Ed25519 signature with the server's key (raw, base64), else
    raise :class:`UntrustedSnapshotError`."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(server_public_key))
        signature = base64.b64decode(snapshot.signature, validate=True)
        key.verify(signature, snapshot_bytes(snapshot))
    except (InvalidSignature, ValueError, binascii.Error) as exc:
        raise UntrustedSnapshotError("the revocation snapshot's signature is not valid") from exc


def _utc_now() -> datetime:
    return datetime.now(UTC)


# --- the engine ----------------------------------------------------------------------------


class SyncEngine:
    """Push the outbox and pull the caches, on demand (:meth:`sync_now`) or in a background
    thread (:meth:`start`, :meth:`wake`, :meth:`stop`)."""

    def __init__(
        self,
        client: LedgerPort,
        outbox: OutboxPort,
        cache: CachePort,
        *,
        server_public_key: str,
        batch_size: int = MAX_BATCH,
        on_progress: Callable[[SyncProgress], None] | None = None,
        clock: Callable[[], datetime] = _utc_now,
        backoff: RetryPolicy = DEFAULT_BACKOFF,
        interval: float = 30.0,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be 1 to {MAX_BATCH}")
        verify_key = base64.b64decode(server_public_key)
        if len(verify_key) != 32:
            raise ValueError("server_public_key must be a raw Ed25519 key (32 bytes, base64)")
        self._client = client
        self._outbox = outbox
        self._cache = cache
        self._server_key = server_public_key
        self._batch_size = batch_size
        self._on_progress = on_progress
        self._clock = clock
        self._backoff = backoff
        self._interval = interval
        self._rng = random.Random()  # noqa: S311 - jitter, not a secret
        self._round_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._progress = SyncProgress(
            pending=0, online=False, last_success_at=None, last_error=None, next_attempt_at=None
        )

    # --- progress ---------------------------------------------------------------------------

    @property
    def progress(self) -> SyncProgress:
        """The latest progress (also sent to ``on_progress`` on each change)."""
        with self._state_lock:
            return self._progress

    def _publish(self, **changes: Any) -> None:
        with self._state_lock:
            self._progress = replace(self._progress, **changes)
            progress = self._progress
        if self._on_progress is not None:
            try:
                self._on_progress(progress)
            except Exception:
                log.exception("the sync progress callback failed")

    def _counts(self, state: _Round) -> dict[str, int]:
        return {
            "pushed": state.pushed,
            "applied": state.applied + state.accepted_offline,
            "rejected": state.rejected,
            "conflicts": state.conflicts,
        }

    def _clock_offset(self) -> float | None:
        offset = getattr(self._client, "last_clock_offset", None)
        return offset if isinstance(offset, int | float) else None

    # --- one round --------------------------------------------------------------------------

    def sync_now(self) -> SyncReport:
        """One full round (blocking): push everything pending, then pull. Ledger failures end
        the round and come back as ``report.error`` (also recorded in the cache); other
        failures (e.g. of the local store) propagate."""
        return self._sync(_Round())

    def _stopping(self, state: _Round) -> bool:
        return state.stoppable and self._stop.is_set()

    def _sync(self, state: _Round) -> SyncReport:
        with self._round_lock:
            self._publish(pending=self._outbox.unsynced_count(), **self._counts(state))
            try:
                held = self._push_all(state)
                if self._stopping(state):
                    return state.report(None)  # stopping: the next start goes on from here
                self._pull_all(state)
            except LedgerError as error:
                return self._failed(state, error)
            if held is not None:
                return self._failed(state, held)
            now = self._clock()
            self._cache.record_sync_success(now)
            self._publish(
                pending=self._outbox.unsynced_count(),
                online=True,
                last_success_at=now,
                last_error=None,
                next_attempt_at=None,
                **self._counts(state),
            )
            log.info(
                "sync: %d pushed (%d applied, %d offline, %d rejected, %d conflicts, "
                "%d duplicates)",
                state.pushed,
                state.applied,
                state.accepted_offline,
                state.rejected,
                state.conflicts,
                state.duplicates,
            )
            return state.report(None)

    def _failed(self, state: _Round, error: LedgerError) -> SyncReport:
        message = describe_error(error, self._clock_offset())
        log.warning("sync failed: %s (%s)", error, message)
        self._cache.record_sync_error(message, self._clock())
        self._publish(
            pending=self._outbox.unsynced_count(),
            online=not isinstance(error, LedgerUnreachableError),
            last_error=message,
            **self._counts(state),
        )
        return state.report(message)

    def _push_all(self, state: _Round) -> LedgerRefusedError | None:
        """Push every pending row; the refusal that held some rows back, if any."""
        held: LedgerRefusedError | None = None
        while not self._stopping(state):  # stop() ends a long catch-up between batches
            batch = self._outbox.pending_transactions(self._batch_size)
            if not batch or state.seen.intersection(tx.id for tx in batch):
                # empty, or what is left was already tried this round (held back, or a store
                # that did not record the results): the next round tries again
                return held
            state.seen.update(tx.id for tx in batch)
            held = self._push_batch(batch, state) or held
        return held

    def _push_batch(self, batch: list[Transaction], state: _Round) -> LedgerRefusedError | None:
        """Push one batch. A refusal of the whole request because of what some rows hold
        (:func:`_refuses_items`) splits the batch in halves, pushed in order, down to the single
        rows the server refuses: those stay unsynced with the reason, the others go through.
        Any other failure is recorded on the batch's rows and raised (the round stops)."""
        ids = [tx.id for tx in batch]
        self._outbox.mark_sent(ids)
        try:
            answer = self._client.push(batch)
        except LedgerError as error:
            self._outbox.record_failure(ids, describe_error(error, self._clock_offset()))
            if not (isinstance(error, LedgerRefusedError) and _refuses_items(error)):
                raise
            if state.held_back >= MAX_HELD_BACK_PER_ROUND:
                raise  # many rows refused: they need a person, not a request each
            if len(batch) == 1:
                state.held_back += 1
                log.warning("transaction %s held back: %s", batch[0].id, error)
                return error
            middle = len(batch) // 2
            first = self._push_batch(batch[:middle], state)
            return self._push_batch(batch[middle:], state) or first
        self._outbox.record_results(answer.results)
        state.count(answer.results)
        self._publish(pending=self._outbox.unsynced_count(), online=True, **self._counts(state))
        return None

    def _pull_all(self, state: _Round) -> None:
        cursor = self._cache.sync_cursor()
        for _ in range(MAX_PULLS_PER_ROUND):
            pull = self._client.pull(cursor)
            verify_snapshot(pull.revocation.snapshot, self._server_key)
            self._cache.apply_pull(pull, received_at=self._clock())
            state.pulled = True
            if pull.cursor == cursor:
                return
            cursor = pull.cursor
        log.warning("the pull cursor still moves after %d pulls", MAX_PULLS_PER_ROUND)

    # --- background -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while the background thread runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> None:
        """Start the background thread (a first round runs at once)."""
        if self.running:
            return
        self._stop.clear()
        self._wake.set()
        self._thread = threading.Thread(target=self._run, name="mykey-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the background thread and wait up to ``timeout`` s for it (a request under way
        finishes or times out first)."""
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("the sync thread did not stop within %.1f s", timeout)

    def wake(self) -> None:
        """New rows are waiting: sync soon (not before a backoff after a failure ends)."""
        self._wake.set()

    def _wait(self, delay: float, *, backing_off: bool) -> None:
        """Wait ``delay`` s; a wake() ends the wait early unless backing off."""
        deadline = time.monotonic() + delay
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self._wake.wait(remaining):
                if self._stop.is_set():
                    return
                self._wake.clear()
                if not backing_off:
                    return

    def _run(self) -> None:
        failures = 0
        delay, backing_off = 0.0, False
        while not self._stop.is_set():
            self._wait(delay, backing_off=backing_off)
            if self._stop.is_set():
                return
            self._wake.clear()
            try:
                report = self._sync(_Round(stoppable=True))
                failed = report.error is not None
            except Exception as error:
                log.exception("the sync round failed")
                failed = True
                self._record_unexpected(error)
            if failed:
                failures += 1
                delay, backing_off = self._backoff.delay(failures, self._rng), True
                next_at = self._clock() + timedelta(seconds=delay)
                self._publish(next_attempt_at=next_at)
            else:
                failures = 0
                delay, backing_off = self._interval, False
                self._publish(next_attempt_at=self._clock() + timedelta(seconds=delay))

    def _record_unexpected(self, error: Exception) -> None:
        message = describe_error(error)
        try:
            self._cache.record_sync_error(message, self._clock())
        except Exception:
            log.exception("could not record the sync error")
        self._publish(last_error=message)
