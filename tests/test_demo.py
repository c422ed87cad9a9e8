"""`mykey demo` as a newcomer runs it: virtual card through real pcscd, ledger on SQLite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The demo sits in the second vpcd reader so it never competes with the card tests' reader.
DEMO_VPCD_PORT = "35964"
DEMO_READER = "Virtual PCD 00 01"


def _run_demo(folder: Path) -> subprocess.CompletedProcess[str]:
    subprocess.run([str(ROOT / "scripts" / "pcscd.sh"), "start"], check=True, capture_output=True)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mykey",
            "demo",
            "--dir",
            str(folder),
            "--latency",
            "instant",
            "--vpcd-port",
            DEMO_VPCD_PORT,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.pcsc
def test_demo_moves_points_and_keeps_the_card_between_runs(tmp_path: Path) -> None:
    first = _run_demo(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "MyKey ID set up: DEMO2026" in first.stdout
    assert "granted 500 points → balance 500" in first.stdout
    assert "used 300 points (card-signed) → balance 200" in first.stdout
    assert "ledger audit: ok" in first.stdout

    second = _run_demo(tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "MyKey ID: DEMO2026" in second.stdout
    assert "balance 400" in second.stdout
