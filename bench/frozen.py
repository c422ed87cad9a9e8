"""The frozen app next to the interpreter: installed size and start-up time, in one run.

    .venv/bin/python bench/frozen.py [--runs 7]        (after `make dist`; or: make bench-frozen)

Size: dist/mykey (the Linux one-folder build) and, when `make windows` has run, the Windows
folder build/windows/dist/mykey and the installer dist/MyKeyTerminal-Setup-*.exe (aim: ≤ 200 MB
installed on Windows).

Start-up: a new process each time, alternating frozen and interpreter runs so that both see the
same machine load, for two commands: ``--version`` (start and argument parsing only) and
``--selftest`` (start, imports of every package, the checks). The page cache is warm: both read
their files from memory after the first run (dropping caches would slow down everyone sharing
the machine). Median and minimum per command, and the frozen/interpreter ratio of the medians
(aim: ≤ 1.5).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import IO


def out(*parts: object, file: IO[str] = sys.stdout) -> None:
    """One line of the report (benchmarks write tables to stdout, never a PIN)."""
    file.write(" ".join(str(part) for part in parts) + "\n")


ROOT = Path(__file__).resolve().parent.parent
FROZEN_DIR = ROOT / "dist" / "mykey"
FROZEN = FROZEN_DIR / "mykey-debug"
WINDOWS_DIR = ROOT / "build" / "windows" / "dist" / "mykey"


def folder_size(folder: Path) -> tuple[int, int]:
    """(bytes, files) under ``folder``; symbolic links count as nothing."""
    total = files = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
            files += 1
    return total, files


def timed(command: list[str], env: dict[str, str]) -> float:
    """Wall time of one run of ``command`` (which must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, timeout=300)
    return time.perf_counter() - started


def mb(size: int) -> str:
    """Bytes as MB (10^6)."""
    return f"{size / 1e6:.1f} MB"


def main() -> int:
    """Print the size table and the start-up table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command and variant")
    args = parser.parse_args()
    if not FROZEN.exists():
        out(f"{FROZEN} is missing: run `make dist` first", file=sys.stderr)
        return 2

    out("## Installed size\n")
    out("| build | size | files |")
    out("|---|---:|---:|")
    size, files = folder_size(FROZEN_DIR)
    out(f"| Linux one-folder (dist/mykey) | {mb(size)} | {files} |")
    if WINDOWS_DIR.exists():
        size, files = folder_size(WINDOWS_DIR)
        out(f"| Windows one-folder (build/windows/dist/mykey) | {mb(size)} | {files} |")
    for setup in sorted((ROOT / "dist").glob("MyKeyTerminal-Setup-*.exe")):
        out(f"| Windows installer ({setup.name}) | {mb(setup.stat().st_size)} | 1 |")

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    variants = {
        "frozen": [str(FROZEN)],
        "python -m": [str(ROOT / ".venv" / "bin" / "python"), "-m", "mykey"],
    }
    out(f"\n## Start-up ({args.runs} alternating runs each, warm page cache)\n")
    out("| command | frozen median | python -m median | frozen min | python -m min | ratio |")
    out("|---|---:|---:|---:|---:|---:|")
    for flag in ("--version", "--selftest"):
        for command in variants.values():  # one untimed run each: fill the page cache
            timed([*command, flag], env)
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.runs):
            for name, command in variants.items():
                times[name].append(timed([*command, flag], env))
        frozen, python = (statistics.median(times[name]) for name in variants)
        out(
            f"| `mykey {flag}` | {frozen:.3f} s | {python:.3f} s | {min(times['frozen']):.3f} s "
            f"| {min(times['python -m']):.3f} s | {frozen / python:.2f}× |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
