"""履歴・精算 → 精算書 (PDF): the office's statement read back with pdftotext: totals per kind,
every row with its sync state, JST, page after page, the bundled font embedded."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from cardio.jpki import JpkiSession
from cardio.virtual.profile import CardProfile
from terminal.services.grant import grant_points
from terminal.store import OutboxState
from tests.ledger.conftest import World, resident
from tests.terminal.conftest import MakeCounter, session_for  # noqa: F401 - fixture
from tests.terminal.support import FakeClock
from tests.ui.conftest import MakeWindow, engine_for
from tests.ui.support import screenshot
from ui.printing.slip import short_number
from ui.screens.history import HistoryScreen
from ui.screens.sync_screen import SyncScreen

ONLINE_GRANTS = 34


def pdf_text(path: Path) -> str:
    """The PDF's text (NFKC: pdftotext maps some kanji of the font to radicals)."""
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return unicodedata.normalize("NFKC", out)


def test_settlement_pdf_totals_rows_sync_states_pages_and_font(
    qtbot: QtBot,
    make_window: MakeWindow,
    make_counter: MakeCounter,
    engine: Engine,
    world: World,
    fresh_cards: list[CardProfile],
    new_card: Any,
    session_for: Callable[[CardProfile], JpkiSession],  # noqa: F811 - the fixture
    clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    card, stranger = fresh_cards[0], new_card()
    resident(engine, world, card, "SV000401")
    counter, ledger = make_counter("D0001", ["municipal"])
    sync = engine_for(counter, ledger)
    assert sync.sync_now().error is None
    for _ in range(ONLINE_GRANTS):
        clock.now += timedelta(seconds=1)
        assert grant_points(counter, session_for(card), world.grant_program_id, points=500).done
    ledger.down = True
    clock.now += timedelta(seconds=1)
    grant_points(
        counter, session_for(stranger), world.grant_program_id, points=500
    )  # nobody's card
    ledger.down = False
    assert sync.sync_now().rejected == 1  # the server refuses it at sync
    ledger.down = True
    clock.now += timedelta(seconds=1)
    grant_points(counter, session_for(card), world.grant_program_id, points=500)  # queued, unsent

    window, _ = make_window(counter, ledger)
    window.open_mode("history")
    history = window.screens["history"]
    assert isinstance(history, HistoryScreen)
    QApplication.processEvents()  # lay out the loaded period before the picture
    screenshot(window, "history_settlement_buttons")
    target = tmp_path / "statement.pdf"
    monkeypatch.setattr(
        "ui.screens.history.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), "")
    )
    history.export_pdf()
    assert "精算書を保存しました" in history.saved.text()
    text = pdf_text(target)
    counted = ONLINE_GRANTS + 1
    assert re.search(rf"付与\s+{counted}件\s+{counted * 500:,} pt", text), text[:800]
    assert "未送信 1件" in text and "却下 1件" in text
    business = counter.store.business()
    assert business is not None and business.name in text and "D0001" in text
    rows = counter.store.rows()
    assert len(rows) == counted + 1
    for row in rows:  # every row, with its time in JST and its sync state
        assert short_number(row.id) in text
    first = min(rows, key=lambda r: r.created_at)
    jst = first.created_at + timedelta(hours=9)
    assert f"{jst:%Y/%m/%d %H:%M:%S}" in text
    assert text.count("同期済み") == ONLINE_GRANTS and "オフライン受付・未送信" in text
    rejected = next(r for r in rows if r.state is OutboxState.REJECTED)
    line = next(ln for ln in text.splitlines() if short_number(rejected.id) in ln)
    assert "却下" in line
    info = subprocess.run(["pdfinfo", str(target)], check=True, capture_output=True, text=True)
    assert re.search(r"Pages:\s+2", info.stdout)
    assert "2 ページ" in text and "(続き)" in text
    fonts = subprocess.run(["pdffonts", str(target)], check=True, capture_output=True, text=True)
    ipa = [ln for ln in fonts.stdout.splitlines() if "IPAexGothic" in ln]
    assert ipa and all(" yes " in ln for ln in ipa)  # embedded

    window.open_mode("sync")  # the refusal, in the server's own words
    screen = window.screens["sync"]
    assert isinstance(screen, SyncScreen)
    assert screen.problems.rowCount() == 1
    reason = screen.problems.item(0, 4)
    assert reason is not None and rejected.result is not None
    assert rejected.result.message_ja and rejected.result.message_ja in reason.text()
