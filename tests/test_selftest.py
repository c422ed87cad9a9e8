"""`mykey --selftest`: one JSON object, exit 0 only when every check passed.

The frozen build (PyInstaller) is checked by `make dist`, not here: it takes a minute.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from mykey import __version__, selftest

ROOT = Path(__file__).resolve().parent.parent


def _run_selftest(**env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "mykey", "--selftest"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_selftest_prints_one_passing_json_report(tmp_path: Path) -> None:
    screenshot = tmp_path / "window.png"
    result = _run_selftest(**{selftest.SCREENSHOT_ENV: str(screenshot)})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    report = json.loads(lines[0])
    assert report["ok"] is True
    assert report["version"] == __version__
    assert report["frozen"] is False
    assert list(report["checks"]) == [name for name, _ in selftest.CHECKS]
    for name, check in report["checks"].items():
        assert check["ok"] is True, (name, check["detail"])
        assert check["detail"], name
    assert "synchronous=FULL" in report["checks"]["sqlite_wal"]["detail"]
    assert report["checks"]["migrations"]["detail"].startswith("head ")
    # what the window check rendered, kept for a person to look at (make windows saves one)
    assert QImage(str(screenshot)).size().toTuple() == (1280, 800)


def test_a_failing_check_fails_the_report_and_the_exit_code() -> None:
    def broken() -> str:
        raise OSError("libpcsclite.so.1: cannot open shared object file")

    out = io.StringIO()
    code = selftest.main(out, [("sqlite_wal", selftest.check_sqlite_wal), ("pcsc", broken)])
    report = json.loads(out.getvalue())
    assert code == 1
    assert report["ok"] is False
    assert report["checks"]["sqlite_wal"]["ok"] is True  # the others still ran
    assert report["checks"]["pcsc"] == {
        "ok": False,
        "detail": "OSError: libpcsclite.so.1: cannot open shared object file",
    }


def test_a_missing_module_fails_the_imports_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selftest, "REQUIRED_MODULES", ("sqlite3", "no_such_module_for_mykey"))
    monkeypatch.setattr(selftest, "GROUPS", {})
    results = selftest.run_checks([("imports", selftest.check_imports)])
    assert results["imports"]["ok"] is False
    assert "no_such_module_for_mykey" in results["imports"]["detail"]
    assert "sqlite3" not in results["imports"]["detail"]
