"""``make evidence``: run the evidence suite at report size and write docs/EVIDENCE.md.

What runs (each part's exact command is written into the document, so anyone can repeat it):

1. the deterministic fault-injection simulation (``python -m sim --seeds N``);
2. kill -9 crash tests of the ledger server and of the terminal's sync process, N cycles each,
   on SQLite and PostgreSQL (``tests/crash``);
3. the security suite, schemathesis over the whole OpenAPI (in-process on SQLite and against a
   real server process on PostgreSQL) and the hypothesis fuzz tests (``tests/security``,
   ``tests/ledger_ops/test_schemathesis.py``, ``tests/fuzz``);
4. atheris (coverage-guided) on every fuzz target, N runs each;
5. the load benchmark: T terminals for S seconds on SQLite and PostgreSQL (``bench/load.py``).

Usage: ``.venv/bin/python scripts/evidence.py [--sim-seeds 1000] [--crash-cycles 100]
[--atheris-runs 200000] [--terminals 200] [--seconds 60] [--out docs/EVIDENCE.md]``.
Exit code 1 when any part failed (the document is written anyway and says which).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import re
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
JST = timezone(timedelta(hours=9))
ATHERIS_TARGETS = ("apdu", "certificate", "csv", "csv-import", "voucher")


@dataclass
class Part:
    """One section of the document."""

    title: str
    command: str
    ok: bool
    seconds: float
    lines: list[str] = field(default_factory=list)


def _run(
    command: list[str], env: dict[str, str] | None = None, timeout: float = 7200
) -> tuple[int, str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - started


def _shown(command: list[str], env: dict[str, str] | None = None) -> str:
    prefix = " ".join(f"{k}={v}" for k, v in (env or {}).items())
    text = " ".join(shlex.quote(c) for c in command).replace(PY, ".venv/bin/python")
    return f"{prefix} {text}".strip()


def simulation(seeds: int) -> Part:
    """``python -m sim --seeds N``: its summary lines."""
    command = [PY, "-m", "sim", "--seeds", str(seeds)]
    if not (ROOT / "sim" / "__main__.py").exists():
        return Part("Deterministic simulation", _shown(command), False, 0, ["sim/ is missing"])
    code, out, seconds = _run(command)
    lines = [line for line in out.splitlines() if line.startswith(("sim:", "  ", "FAIL", "failed"))]
    body = ["```", *lines[-20:], "```"]
    return Part("Deterministic simulation", _shown(command), code == 0, seconds, body)


def pytest_part(title: str, paths: list[str], env: dict[str, str] | None = None) -> Part:
    """A pytest run; every test with its outcome (from the junit report)."""
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        command = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "timeout=7200", *paths]
        code, out, seconds = _run([*command, f"--junitxml={junit}"], env)
        lines: list[str] = []
        counts = {"passed": 0, "failed": 0, "xfailed": 0, "skipped": 0}
        if junit.exists():
            for case in ET.parse(junit).getroot().iter("testcase"):  # noqa: S314
                name = f"{case.get('classname', '').split('.')[-1]}::{case.get('name')}"
                outcome, note = "passed", ""
                for child in case:
                    if child.tag in ("failure", "error"):
                        outcome, note = "FAILED", (child.get("message") or "")[:160]
                    elif child.tag == "skipped":
                        xfail = "xfail" in (child.get("type") or "") + (child.get("message") or "")
                        outcome = "xfailed (known bug)" if xfail else "skipped"
                        note = (child.get("message") or "")[:200]
                key = {"FAILED": "failed", "passed": "passed", "skipped": "skipped"}.get(
                    outcome, "xfailed"
                )
                counts[key] += 1
                lines.append(
                    f"| `{name}` | {outcome} | {float(case.get('time', 0)):.1f} | {note} |"
                )
        summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
        table = ["| test | outcome | s | note |", "|---|---|---|---|", *lines]
        if code not in (0, 1) and not lines:
            table = [f"pytest failed to run (exit {code}):", "```", out[-2000:], "```"]
    return Part(title, _shown(command, env), code == 0, seconds, [f"**{summary}**", "", *table])


def atheris_part(runs: int) -> Part:
    """Every atheris target for ``runs`` inputs."""
    lines = ["| target | runs | s | result |", "|---|---|---|---|"]
    if importlib.util.find_spec("atheris") is None:
        lines = ["atheris is not installed (`.venv/bin/pip install atheris`): not run."]
        return Part("Coverage-guided fuzzing (atheris)", "", False, 0.0, lines)
    ok, total = True, 0.0
    for target in ATHERIS_TARGETS:
        with tempfile.TemporaryDirectory() as artifacts:  # a finding's input lands here
            command = [PY, "-m", "tests.fuzz.run_atheris", target, f"-runs={runs}"]
            code, out, seconds = _run([*command, f"-artifact_prefix={artifacts}/"])
        total += seconds
        done = re.search(r"Done (\d+) runs in (\d+) second", out)
        result = (
            "no finding"
            if code == 0
            else f"FINDING (exit {code}): " + out.strip().splitlines()[-1][:200]
        )
        ok = ok and code == 0
        lines.append(f"| {target} | {done.group(1) if done else '?'} | {seconds:.0f} | {result} |")
    command_text = f".venv/bin/python -m tests.fuzz.run_atheris TARGET -runs={runs}"
    return Part("Coverage-guided fuzzing (atheris)", command_text, ok, total, lines)


def load_part(terminals: int, seconds: float, thinks: list[float]) -> Part:
    """bench/load.py's figures, once per think time (busy counters, then a stress run)."""
    lines = [
        "| back-end | think s | terminals | s | requests | req/s | tx applied/s | p50 ms |"
        " p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    kinds = [
        "",
        "| back-end | think s | kind | requests | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    ok, took, shown = True, 0.0, ""
    for think in thinks:
        with tempfile.TemporaryDirectory() as tmp:
            out_json = Path(tmp) / "load.json"
            command = [PY, "bench/load.py", "--terminals", str(terminals), "--seconds",
                       str(seconds), "--think", str(think)]  # fmt: skip
            code, out, seconds_taken = _run([*command, "--json", str(out_json)])
            took += seconds_taken
            shown += _shown(command) + "\n"
            if not out_json.exists():
                return Part("Load", shown.strip(), False, took, ["```", out[-3000:], "```"])
            data = json.loads(out_json.read_text())
        ok = ok and code == 0
        for r in data["results"]:
            lines.append(
                f"| {r['backend']} | {think:g} | {r['terminals']} | {r['seconds']} |"
                f" {r['requests']} | {r['requests_per_s']} | {r['transactions_per_s']} |"
                f" {r['p50_ms']} | {r['p99_ms']} | {r['errors']} |"
            )
            for kind, k in r["by_kind"].items():
                kinds.append(
                    f"| {r['backend']} | {think:g} | {kind} | {k['requests']} | {k['p50_ms']} |"
                    f" {k['p99_ms']} |"
                )
            if r["errors"]:
                lines.append(f"| errors ({r['backend']}, think {think:g}) | {r['error_kinds']} |")
    return Part("Load", shown.strip(), ok, took, lines + kinds)


def machine() -> list[str]:
    """What the figures were measured on."""
    cpu = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    load = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    postgres = subprocess.run(
        ["/usr/lib/postgresql/15/bin/postgres", "--version"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return [
        f"- machine: {platform.node()}, {platform.system()} {platform.release()},"
        f" {platform.machine()}",
        f"- CPU: {cpu or '?'} ({os.cpu_count()} logical cores), memory {memory or '?'}",
        f"- load average when the run ended: {load or '?'} (other jobs share this machine)",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {postgres}",
        f"- commit {commit}{' with uncommitted changes' if dirty else ''}",
    ]


def write(parts: list[Part], args: argparse.Namespace, started: datetime) -> str:
    """The Markdown document."""
    now = datetime.now(UTC)
    lines = [
        "# Evidence: simulation, crash tests, attack, fuzzing and load",
        "",
        "Generated by `make evidence` (`scripts/evidence.py`); do not edit by hand. "
        "Regenerate and commit it when the figures change.",
        "",
        f"- run: {started.astimezone(JST):%Y-%m-%d %H:%M} – {now.astimezone(JST):%H:%M} JST "
        f"({started:%Y-%m-%d %H:%M} UTC)",
        *machine(),
        f"- sizes: {args.sim_seeds} simulation seeds; {args.crash_cycles} kill -9 cycles per crash "
        f"test; {args.atheris_runs} atheris runs per target; {args.terminals} terminals for "
        f"{args.seconds:g} s of load (think {', '.join(f'{t:g}' for t in args.think)} s)",
        "",
        "| part | result | minutes |",
        "|---|---|---|",
    ]
    for part in parts:
        lines.append(
            f"| {part.title} | {'ok' if part.ok else '**FAILED**'} | {part.seconds / 60:.1f} |"
        )
    for part in parts:
        lines += ["", f"## {part.title}", "", "```", part.command, "```", "", *part.lines]
    lines += [
        "",
        "## Reproduce",
        "",
        "```",
        f".venv/bin/python scripts/evidence.py --sim-seeds {args.sim_seeds} "
        f"--crash-cycles {args.crash_cycles} --atheris-runs {args.atheris_runs} "
        f"--terminals {args.terminals} --seconds {args.seconds:g} "
        f"--think {' '.join(f'{t:g}' for t in args.think)}",
        "```",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every part and write the document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sim-seeds", type=int, default=1000)
    parser.add_argument("--crash-cycles", type=int, default=100)
    parser.add_argument("--atheris-runs", type=int, default=200_000)
    parser.add_argument("--terminals", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--think",
        type=float,
        nargs="+",
        default=[5.0, 0.5],
        help="mean think times of the load runs, s (default: 5 = busy counters, 0.5 = stress)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "EVIDENCE.md")
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["sim", "crash", "attack", "atheris", "load"]
    )
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    parts: list[Part] = []
    steps = [
        ("sim", lambda: simulation(args.sim_seeds)),
        ("crash", lambda: pytest_part(
            "Crash tests (kill -9, real processes)", ["tests/crash"],
            {"MYKEY_CRASH_CYCLES": str(args.crash_cycles)})),
        ("attack", lambda: pytest_part(
            "Security suite, schemathesis and fuzz tests",
            ["tests/security", "tests/ledger_ops/test_schemathesis.py", "tests/fuzz"])),
        ("atheris", lambda: atheris_part(args.atheris_runs)),
        ("load", lambda: load_part(args.terminals, args.seconds, args.think)),
    ]  # fmt: skip
    for name, step in steps:
        if name in args.skip:
            continue
        sys.stderr.write(f"evidence: {name}...\n")
        parts.append(step())
        sys.stderr.write(f"evidence: {name}: {'ok' if parts[-1].ok else 'FAILED'}\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(write(parts, args, started), encoding="utf-8")
    sys.stderr.write(f"evidence: wrote {args.out}\n")
    return 0 if all(p.ok for p in parts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
