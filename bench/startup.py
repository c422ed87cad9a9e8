"""Benchmark: time to the first painted main window, and memory after the headless demo.

Run:  .venv/bin/python bench/startup.py [--runs 7] [--skip-demo]

Startup: from process start (the parent's clock just before it spawns the child) to the first
paint event of the main window, offscreen (``QT_QPA_PLATFORM=offscreen``). Two children,
alternating, ``--runs`` times each, median reported:

- *baseline*: a bare PySide6 window (QApplication, a QMainWindow with one label, 1280 × 800);
- *mykey*: ``mykey`` with no arguments (``mykey.cli.main([])`` → ``mykey.gui.main``: terminal,
  store, sync engine, reader watcher, every screen of the shop terminal) over the demo world's
  shop terminal (``MYKEY_TERMINAL_DATA``), the window sized as on a counter.

Each child installs the same application event filter before anything else; on the first
``QEvent.Paint`` of a ``QMainWindow`` it prints ``time.time()`` and exits at once. Aim: mykey ≤ 2×
the baseline.

Memory: ``mykey demo --headless`` as a child (the whole story, every screen), its peak resident
set size (``ru_maxrss`` from ``wait4``). Aim: ≤ 250 MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FILTER = """
import os, sys, time
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and isinstance(obj, QMainWindow):
            sys.stdout.write(f"{time.time():.6f}\\n")
            sys.stdout.flush()
            os._exit(0)
        return False

app = QApplication(sys.argv)
first_paint = FirstPaint()
app.installEventFilter(first_paint)
"""

BASELINE = (
    FILTER
    + """
from PySide6.QtWidgets import QLabel
window = QMainWindow()
window.setCentralWidget(QLabel("MyKey"))
window.resize(1280, 800)
window.show()
app.exec()
"""
)

MYKEY = (
    FILTER
    + """
from mykey.cli import main
sys.exit(main([]))
"""
)


def _first_paint_s(code: str, env: dict[str, str]) -> float:
    """Seconds from spawning ``python -c code`` to the time it prints."""
    start = time.time()
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"the child painted nothing: {done.stderr[-2000:]}")
    return float(lines[-1]) - start


def _shop_terminal(base: Path) -> Path:
    """The demo world in ``base`` (made once, terminals enrolled); the shop's data folder."""
    from mykey.demo_world import running_world

    with running_world(base) as (world, _ledger):
        return world.terminals["shop"].root


def startup(runs: int, base: Path) -> tuple[list[float], list[float]]:
    """Alternating runs of the baseline and mykey; both lists of seconds."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    app_env = {**env, "MYKEY_TERMINAL_DATA": str(_shop_terminal(base))}
    _first_paint_s(BASELINE, env)  # warm the file cache for both
    _first_paint_s(MYKEY, app_env)
    bare: list[float] = []
    mykey: list[float] = []
    for _ in range(runs):
        bare.append(_first_paint_s(BASELINE, env))
        mykey.append(_first_paint_s(MYKEY, app_env))
    return bare, mykey


def demo_peak_rss_mb(out: Path) -> tuple[float, int]:
    """Peak RSS (MB) of ``mykey demo --headless`` and its exit code."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    child = subprocess.Popen(
        [sys.executable, "-m", "mykey", "demo", "--headless", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, child.returncode


def main() -> int:
    """Run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-demo", action="store_true", help="startup only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mykey-bench-startup-") as tmp:
        bare, mykey = startup(args.runs, Path(tmp) / "world")
        b, m = statistics.median(bare), statistics.median(mykey)
        out = sys.stdout
        out.write(f"first painted window, offscreen, median of {args.runs} alternating runs\n")
        out.write(f"  bare PySide6 window   {b * 1000:8.0f} ms  (runs: ")
        out.write(", ".join(f"{x * 1000:.0f}" for x in bare) + ")\n")
        out.write(f"  mykey (shop terminal) {m * 1000:8.0f} ms  (runs: ")
        out.write(", ".join(f"{x * 1000:.0f}" for x in mykey) + ")\n")
        verdict = "ok" if m / b <= 2.0 else "over the aim"
        out.write(f"  ratio mykey / bare    {m / b:8.2f}     (aim ≤ 2.00: {verdict})\n")
        if not args.skip_demo:
            rss, code = demo_peak_rss_mb(Path(tmp) / "demo-out")
            verdict = "ok" if rss <= 250 else "over the aim"
            out.write(
                f"headless demo peak RSS  {rss:8.0f} MB  (aim ≤ 250 MB: {verdict}; "
                f"demo exit code {code})\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
