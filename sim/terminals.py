"""A terminal of the run: its real store (a SQLite file), counter and sync engine, with a crash
switch. A crash ends the running use case or sync round at a chosen point without letting it
finish, closes the store object, and opens it again, as a power cut and a restart would."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from cardio.auth import TrustStore
from sim.clock import SkewedClock
from sim.kit import TerminalSpec
from sim.network import SimLink
from sync.engine import SyncEngine
from sync.protocol import PullResponse, Transaction, TransactionResult
from terminal.services.counter import Counter
from terminal.store import OutboxRow, TerminalStore

#: Where a terminal may crash: the counter's named crash points (``terminal.services.submit``)
#: and the sync round's store calls.
CRASH_POINTS = (
    "before-local-commit",
    "after-local-commit",
    "after-server-answer",
    "sync:after-mark-sent",
    "sync:before-record-results",
    "sync:before-apply-pull",
    "sync:after-apply-pull",
)


class TerminalCrashed(BaseException):
    """The terminal lost power at a crash point (a BaseException: no handler may swallow it)."""


@dataclass(frozen=True)
class PullSeen:
    """A pull the terminal applied: when (simulator tick), the server time, and the age of the
    revocation data it carried."""

    tick: int
    server_time: datetime
    revocation_data_time: datetime | None


@dataclass
class Bookkeeping:
    """What the simulator saw a terminal do, for the invariant checks."""

    row_ticks: dict[UUID, int] = field(default_factory=dict)
    pulls: list[PullSeen] = field(default_factory=list)


_ticks = itertools.count(1)


def next_tick() -> int:
    """A global, increasing event counter (orders rows and pulls across terminals)."""
    return next(_ticks)


#: The terminal acting right now (the counter's crash points are global functions).
_acting: list[SimTerminal] = []


def crash_hook(name: str) -> None:
    """Replacement of ``terminal.services.submit.crash_point`` inside the simulator."""
    if _acting and _acting[-1].armed == name:
        _acting[-1].armed = None
        raise TerminalCrashed(name)


class SimStore:
    """The real store, with the crash switch and the bookkeeping on the calls the sync round
    and the counter make (everything else is passed through)."""

    def __init__(self, store: TerminalStore, terminal: SimTerminal) -> None:
        self._store = store
        self._terminal = terminal

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def _crash(self, point: str) -> None:
        if self._terminal.armed == point:
            self._terminal.armed = None
            raise TerminalCrashed(point)

    def add_transaction(self, tx: Transaction, **kwargs: Any) -> OutboxRow:
        row = self._store.add_transaction(tx, **kwargs)
        self._terminal.book.row_ticks.setdefault(row.id, next_tick())
        return row

    def mark_sent(self, ids: Sequence[UUID]) -> None:
        self._store.mark_sent(ids)
        self._crash("sync:after-mark-sent")

    def record_results(self, results: Sequence[TransactionResult]) -> list[OutboxRow]:
        self._crash("sync:before-record-results")
        return self._store.record_results(results)

    def apply_pull(self, pull: PullResponse, *, received_at: datetime) -> None:
        self._crash("sync:before-apply-pull")
        self._store.apply_pull(pull, received_at=received_at)
        age = pull.revocation.age_seconds
        data_time = None if age is None else received_at - timedelta(seconds=age)
        self._terminal.book.pulls.append(PullSeen(next_tick(), pull.server_time, data_time))
        self._crash("sync:after-apply-pull")


class SimTerminal:
    """One terminal: spec, clock, link, and its store opened (again after each crash)."""

    def __init__(
        self, spec: TerminalSpec, path: Path, link: SimLink, clock: SkewedClock, trust: TrustStore
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.path = path
        self.link = link
        self.clock = clock
        self.trust = trust
        self.book = Bookkeeping()
        #: the crash point armed for this terminal's next operation, if any
        self.armed: str | None = None
        self.crashes = 0
        self.store = TerminalStore.open(path)
        self.counter = self._counter()

    def _counter(self) -> Counter:
        proxy = cast(TerminalStore, SimStore(self.store, self))
        return Counter(self.spec.identity, proxy, self.link, self.trust, clock=self.clock)

    def sync_engine(self) -> SyncEngine:
        """A sync engine over this terminal's store and link (one round per call of sync_now)."""
        proxy = self.counter.store
        return SyncEngine(
            self.link,
            proxy,
            proxy,
            server_public_key=self.spec.identity.server_public_key,
            clock=self.clock,
        )

    def acting(self) -> _Acting:
        """Context: this terminal is the one acting (its counter crash points are live)."""
        return _Acting(self)

    def crash_and_restart(self) -> None:
        """Close the store object as it is (whatever was committed stays) and open it again."""
        self.store.close()
        self.store = TerminalStore.open(self.path)
        self.counter = self._counter()
        self.crashes += 1

    def close(self) -> None:
        """Close the store."""
        self.store.close()


class _Acting:
    def __init__(self, terminal: SimTerminal) -> None:
        self.terminal = terminal

    def __enter__(self) -> SimTerminal:
        _acting.append(self.terminal)
        return self.terminal

    def __exit__(self, *exc: object) -> None:
        _acting.pop()
