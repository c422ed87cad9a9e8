"""The simulated clock, and the ledger server's clock bound to it for the length of a run."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

#: The first moment of every run (JST 2026-04-01 09:00).
SIM_EPOCH = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)

#: Modules of the server that read ``utc_now`` (imported by name, so each is rebound).
_SERVER_CLOCK_USERS = (
    "server_stub.clock",
    "server_stub.api.terminal",
    "server_stub.api.signatures",
    "server_stub.api.enroll",
    "server_stub.operator",
    "server_stub.admin.api",
)


class SimClock:
    """True simulated time (aware UTC); only the simulator advances it."""

    def __init__(self, start: datetime = SIM_EPOCH) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        """Move time forward (never back)."""
        if delta < timedelta(0):
            raise ValueError("the simulated clock never goes back")
        self.now += delta


class SkewedClock:
    """A terminal's clock: simulated time plus the terminal's current skew."""

    def __init__(self, base: SimClock) -> None:
        self.base = base
        self.skew = timedelta(0)

    def __call__(self) -> datetime:
        return self.base.now + self.skew


@contextmanager
def server_clock(clock: Callable[[], datetime]) -> Iterator[None]:
    """Make the ledger server read ``clock`` instead of the wall clock, restored on exit.

    The server has no clock parameter, so its modules' ``utc_now`` names are rebound here
    (only inside the simulator's process)."""
    modules = [importlib.import_module(name) for name in _SERVER_CLOCK_USERS]
    saved = [getattr(module, "utc_now") for module in modules]  # noqa: B009
    for module in modules:
        setattr(module, "utc_now", clock)  # noqa: B010
    try:
        yield
    finally:
        for module, original in zip(modules, saved, strict=True):
            setattr(module, "utc_now", original)  # noqa: B010
