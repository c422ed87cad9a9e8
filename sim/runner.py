"""Running seeds: one world per seed, its invariants checked, the result kept small."""

from __future__ import annotations

import atexit
import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import terminal.services.submit as submit_module
from sim.invariants import check
from sim.kit import Kit, scratch_root
from sim.terminals import crash_hook
from sim.world import STUCK_REQUESTS, Prepared, prepare, run_world

DEFAULT_STEPS = 30

_shared: list[tuple[Kit, Prepared]] = []
#: Where worker processes make their kits (their parent removes it: workers skip atexit).
_parent: list[Path] = []


def use_scratch_parent(parent: Path) -> None:
    """Make this process's kit inside ``parent`` (a worker's initializer)."""
    _parent[:] = [parent]


def shared_kit() -> tuple[Kit, Prepared]:
    """This process's kit and starting state (made on first use: a CA, cards, the template
    ledger, the first syncs)."""
    if not _shared:
        kit = Kit(scratch_root(_parent[0] if _parent else None))
        if not _parent:
            atexit.register(kit.close)
        with counter_crash_points(), quiet_logs():
            _shared.append((kit, prepare(kit)))
    return _shared[0]


@dataclass
class SeedResult:
    """What one seed did and whether its invariants held."""

    seed: int
    steps: int
    events: list[str]
    violations: list[str]
    stats: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    stuck: float = STUCK_REQUESTS

    @property
    def ok(self) -> bool:
        """True when every invariant held."""
        return not self.violations

    def reproduce(self) -> str:
        """The exact command that replays this seed with its event log."""
        command = f"python -m sim --seed {self.seed} --seeds 1 --steps {self.steps} --log"
        if self.stuck != STUCK_REQUESTS:
            command += f" --stuck {self.stuck}"
        return command


@contextmanager
def counter_crash_points() -> Iterator[None]:
    """The counter's crash points raise the simulator's power cut (restored on exit)."""
    original = submit_module.crash_point
    submit_module.crash_point = crash_hook
    try:
        yield
    finally:
        submit_module.crash_point = original


@contextmanager
def quiet_logs() -> Iterator[None]:
    """The run's own log is the event log; the libraries' warnings about injected faults are
    expected and would only be noise."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        root.setLevel(level)


def run_seed(
    seed: int,
    steps: int = DEFAULT_STEPS,
    *,
    stuck: float = STUCK_REQUESTS,
) -> SeedResult:
    """Run one seed in a fresh folder and check the invariants."""
    kit, prepared = shared_kit()
    started = time.perf_counter()
    root = kit.root / f"seed-{seed}"
    root.mkdir()
    try:
        with counter_crash_points(), quiet_logs():
            world = run_world(kit, prepared, seed, steps, root, stuck=stuck)
            try:
                found = check(world)
            finally:
                for terminal in world.terminals.values():
                    terminal.close()
                world.server.crash()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return SeedResult(
        seed,
        steps,
        world.events,
        found,
        dict(world.stats.counts),
        time.perf_counter() - started,
        stuck,
    )
