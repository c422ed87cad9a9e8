"""The deterministic simulation in CI: a fixed handful of seeds must keep every invariant, a seed
must replay the same event log, and the checker must notice a ledger that lost or doubled points
(so a green run means something)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from server_stub.db.engine import make_engine
from sim.invariants import check
from sim.runner import counter_crash_points, quiet_logs, run_seed, shared_kit
from sim.world import World, run_world

#: Seeds run in CI (``make sim SEEDS=N`` runs many more); each is a few dozen steps.
CI_SEEDS = range(8)
STEPS = 30


@pytest.mark.parametrize("seed", CI_SEEDS)
def test_seed_keeps_every_invariant(seed: int) -> None:
    result = run_seed(seed, STEPS)
    assert result.ok, "\n".join([*result.violations, f"reproduce: {result.reproduce()}"])
    assert any(" use " in line for line in result.events)


def test_a_seed_replays_the_same_event_log() -> None:
    first, second = run_seed(5, STEPS), run_seed(5, STEPS)
    assert first.events == second.events
    assert first.events != run_seed(6, STEPS).events


@pytest.fixture
def finished_world(tmp_path: Path) -> Iterator[World]:
    """A finished run, left open for tampering."""
    kit, prepared = shared_kit()
    with counter_crash_points(), quiet_logs():
        world = run_world(kit, prepared, 2, STEPS, tmp_path)
    yield world
    for terminal in world.terminals.values():
        terminal.close()
    world.server.crash()


def _tamper(world: World, *statements: str) -> None:
    engine = make_engine(world.database_url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def test_the_checker_sees_points_that_appear_from_nowhere(finished_world: World) -> None:
    assert check(finished_world) == []
    _tamper(
        finished_world,
        "UPDATE accounts SET balance = balance + 7 WHERE id = "
        "(SELECT min(id) FROM accounts WHERE kind = 'resident')",
    )
    found = check(finished_world)
    assert any(line.startswith("audit: ledger-unbalanced") for line in found)
    assert any(line.startswith("replay-mismatch: resident") for line in found)


def test_the_checker_sees_a_confirmed_use_that_was_lost(finished_world: World) -> None:
    uses = [
        tx_id
        for tx_id, confirmed in finished_world.confirmed.items()
        if confirmed.kind == "point_use"
    ]
    assert uses, "the seed confirms at least one point use"
    _tamper(
        finished_world,
        f"UPDATE transactions SET status = 'rejected' WHERE id = '{uses[0]}'",
    )
    found = check(finished_world)
    assert any(line.startswith("applied-row-not-on-server") for line in found)
    assert any(line.startswith("audit: refused-moved-points") for line in found)
