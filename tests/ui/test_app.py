"""The application shell: translations complete and loadable, the font, sounds that can be
turned off, and the reader state the card flow tells the clerk about."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.terminal.conftest import MakeCounter
from tests.ui.conftest import MakeWindow
from tests.ui.support import READER, screenshot
from ui.app import install_translator, register_font
from ui.card_flow import FlowState
from ui.i18n.extract import TS_FILE, source_strings
from ui.prefs import Prefs
from ui.sound import Sounds

LRELEASE = Path(sys.executable).parent / "pyside6-lrelease"


def test_every_string_of_the_window_has_english_in_the_ts_file() -> None:
    english = {
        m.findtext("source"): m.find("translation")
        for m in ET.parse(TS_FILE).getroot().iter("message")
    }
    missing = [
        text
        for text in source_strings()
        if english.get(text) is None
        or english[text].get("type") == "unfinished"  # type: ignore[union-attr]
        or not (english[text].text or "").strip()  # type: ignore[union-attr]
    ]
    assert missing == []


def test_english_is_selectable_and_the_window_speaks_it(
    qtbot: QtBot, make_window: MakeWindow, make_counter: MakeCounter, tmp_path: Path
) -> None:
    qm = tmp_path / "mykey_en.qm"
    subprocess.run([str(LRELEASE), str(TS_FILE), "-qm", str(qm)], check=True, capture_output=True)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    translator = install_translator(app, "en", qm)
    assert translator is not None
    try:
        counter, _ = make_counter("A0001", ["shop"])
        window, _ = make_window(counter, prefs=Prefs(language="en"))
        assert window.buttons["checkout"].text() == "F1  Checkout"
        flow = window.screens["checkout"].flow
        assert flow is not None
        assert flow.place_page.findChildren(type(flow.fail_title))[0].text() == (
            "Please place the card on the reader"
        )
        screenshot(window, "english_checkout")
    finally:
        app.removeTranslator(translator)
    assert install_translator(app, "ja") is None  # Japanese is the source: nothing to load


def test_the_bundled_japanese_font_is_used() -> None:
    assert register_font() == "IPAexGothic"


def test_sounds_play_only_when_enabled(qtbot: QtBot) -> None:
    sounds = Sounds(enabled=False)
    sounds.success()
    sounds.failure()
    assert sounds.played == []
    sounds.enabled = True
    sounds.failure()
    assert sounds.played == ["failure"]


def test_no_reader_and_reader_errors_are_said_on_the_place_card_screen(
    qtbot: QtBot, make_window: MakeWindow, make_counter: MakeCounter
) -> None:
    counter, _ = make_counter("A0001", ["shop"])
    window, tray = make_window(counter)
    flow = window.screens["checkout"].flow
    assert flow is not None and flow.state is FlowState.PLACE
    tray.reader.reader_removed(READER)
    assert "カードリーダーが見つかりません" in flow.reader_hint.text()
    window.status.refresh()
    assert window.status.reader.text() == "リーダー: 未接続"
    screenshot(window, "checkout_no_reader")
    tray.reader.set_error("カードリーダーのサービスが動いていません。")
    assert "サービスが動いていません" in flow.reader_hint.text()
    tray.reader.reader_added(READER)
    assert flow.reader_hint.text() == ""
