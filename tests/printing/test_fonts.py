"""The bundled Japanese font: present, licensed, registered once, and a clear error if not."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QFont, QRawFont
from PySide6.QtWidgets import QApplication

from ui import fonts

pytestmark = pytest.mark.gui


def test_the_font_ships_with_its_licence() -> None:
    assert fonts.font_path().is_file()
    licence = (fonts.FONT_DIR / fonts.LICENSE_FILE).read_text(encoding="utf-8")
    assert "IPAフォントライセンスv1.0" in licence
    assert "IPA Font License Agreement v1.0" in licence


def test_register_fonts_returns_a_family_that_draws_japanese(qapp: QApplication) -> None:
    family = fonts.register_fonts()
    assert family == "IPAexGothic"
    assert fonts.register_fonts() == family  # idempotent
    raw = QRawFont.fromFont(QFont(family))
    assert raw.familyName() == family
    for char in "★ポイント券発行認印利用店舗再０1":
        assert raw.supportsCharacter(ord(char)), char


def test_a_missing_font_file_gives_a_clear_error(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(fonts, "FONT_DIR", tmp_path)
    with pytest.raises(fonts.FontError) as caught:
        fonts.register_fonts()
    assert caught.value.user_lines()[0].startswith("日本語フォントを読み込めません")
    assert str(tmp_path) in caught.value.detail
