"""``python -m sim --seeds N [--seed S] [--steps K] [--jobs J] [--log]``: run seeds S..S+N-1.

A failing seed prints its violations and the exact command that replays it; the exit code is 1
when any seed failed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from sim.kit import scratch_root
from sim.runner import DEFAULT_STEPS, SeedResult, run_seed, use_scratch_parent
from sim.world import STUCK_REQUESTS

MAX_SHOWN = 12


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sim", description=__doc__)
    parser.add_argument("--seeds", type=int, default=None, help="how many seeds (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="the first seed (default 0)")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="steps per seed")
    parser.add_argument(
        "--jobs", type=int, default=0, help="worker processes (default: one per CPU)"
    )
    parser.add_argument("--log", action="store_true", help="print each seed's event log")
    parser.add_argument(
        "--stuck",
        type=float,
        default=STUCK_REQUESTS,
        help=f"share of delayed requests still in flight when time moves on ({STUCK_REQUESTS})",
    )
    args = parser.parse_args(argv)
    if args.seeds is None:
        args.seeds = 1 if "--seed" in (argv if argv is not None else sys.argv) else 100
    if args.seeds < 1 or args.steps < 1:
        parser.error("--seeds and --steps must be at least 1")
    return args


Job = tuple[int, int, float]


def _one(job: Job) -> SeedResult:
    seed, steps, stuck = job
    return run_seed(seed, steps, stuck=stuck)


@contextmanager
def _results(jobs: list[Job], workers: int) -> Iterator[Iterable[SeedResult]]:
    """The seeds' results, from worker processes when there are several workers (each makes
    its kit in a folder removed here at the end)."""
    if workers <= 1 or len(jobs) == 1:
        yield map(_one, jobs)
        return
    parent = scratch_root()
    pool = multiprocessing.get_context("fork").Pool(
        workers, initializer=use_scratch_parent, initargs=(parent,)
    )
    try:
        yield pool.imap_unordered(_one, jobs, chunksize=4)
        pool.close()
        pool.join()
    finally:
        pool.terminate()
        shutil.rmtree(parent, ignore_errors=True)


def _report(result: SeedResult, show_log: bool) -> None:
    out = sys.stdout
    if show_log:
        out.write(f"--- seed {result.seed} event log ---\n")
        out.write("\n".join(result.events) + "\n")
    if result.ok:
        return
    out.write(f"FAIL seed {result.seed}: {len(result.violations)} violation(s)\n")
    for line in result.violations[:MAX_SHOWN]:
        out.write(f"  {line}\n")
    if len(result.violations) > MAX_SHOWN:
        out.write(f"  ... and {len(result.violations) - MAX_SHOWN} more\n")
    out.write(f"  reproduce: {result.reproduce()}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the seeds; 0 when every invariant held in every seed."""
    args = _args(argv)
    workers = args.jobs or min(os.cpu_count() or 1, args.seeds)
    jobs = [(seed, args.steps, args.stuck) for seed in range(args.seed, args.seed + args.seeds)]
    started = time.perf_counter()
    failed: list[int] = []
    totals: dict[str, int] = {}
    with _results(jobs, workers) as results:
        for result in results:
            _report(result, args.log)
            if not result.ok:
                failed.append(result.seed)
            for key, value in result.stats.items():
                totals[key] = totals.get(key, 0) + value
    elapsed = time.perf_counter() - started
    out = sys.stdout
    out.write(
        f"sim: {len(jobs)} seeds x {args.steps} steps, {len(failed)} failed, "
        f"{elapsed:.1f} s, {len(jobs) / elapsed:.2f} seeds/s ({workers} worker(s))\n"
    )
    interesting = (
        "use:",
        "grant:",
        "terminal-crash",
        "server-crash",
        "expired-points",
        "voucher",
    )
    shown = {k: v for k, v in sorted(totals.items()) if k.startswith(interesting)}
    out.write("  " + ", ".join(f"{k}={v}" for k, v in shown.items()) + "\n")
    if failed:
        out.write(f"failed seeds: {' '.join(str(s) for s in sorted(failed))}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
