"""`mykey demo --headless`: the real window driven offscreen through the whole demo story."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORY = [
    "desk_sync",
    "grant",
    "shop_sync",
    "online_use",
    "ledger_stopped",
    "offline_use",
    "ledger_started_sync",
    "voucher_issue",
    "voucher_scan_redeem",
    "library_lookup",
    "wrong_pin",
    "last_pin_try",
    "revoked_card",
    "every_screen",
    "ledger_audit",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_headless_demo_runs_the_whole_story_and_leaves_its_evidence(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "mykey", "demo", "--headless", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
        check=False,
    )
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    failed = [s for s in summary["steps"] if not s["ok"]]
    assert done.returncode == 0, (failed, done.stdout[-3000:], done.stderr[-3000:])
    assert summary["ok"] is True and failed == []
    assert [s["name"] for s in summary["steps"]] == STORY
    steps = {s["name"]: s for s in summary["steps"]}
    assert "オフラインで受け付けました" in steps["offline_use"]["observed"]
    assert "暗証番号が違います" in steps["wrong_pin"]["observed"]
    assert "失効" in steps["revoked_card"]["observed"]
    assert "プロセス内" in summary["cards"]  # in-process cards: no pcscd needed
    pdf = out / "voucher.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    shots = [out / name for name in summary["screenshots"]]
    assert len(shots) >= 30
    names = " ".join(p.name for p in shots)
    for screen in ("desk_grant", "shop_checkout", "office_history", "library_library"):
        assert screen in names
    for shot in shots:
        assert shot.read_bytes()[:8] == PNG_MAGIC, shot
    assert "Traceback" not in done.stderr
