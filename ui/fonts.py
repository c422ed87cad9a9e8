"""The bundled Japanese font (IPAexGothic, IPA Font License v1.0), registered with Qt at start.

Vouchers, receipts and screens use this one font so that a PDF embeds it and a printout looks
the same on every machine, whatever fonts the operating system has.  The font file and its
licence text live in ``ui/assets/fonts/``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QFontDatabase, QGuiApplication

log = logging.getLogger(__name__)

#: Folder holding the bundled font files and their licence texts.
FONT_DIR = Path(__file__).resolve().parent / "assets" / "fonts"
#: The font file every voucher and screen uses.
FONT_FILE = "ipaexg.ttf"
#: Its licence, shipped next to it (the licence requires that).
LICENSE_FILE = "IPA_Font_License_Agreement_v1.0.txt"
#: Family name the font registers under.
FAMILY = "IPAexGothic"

_registered: dict[Path, str] = {}


class FontError(Exception):
    """The bundled font cannot be loaded: a broken installation, not a user mistake."""

    code = "font-missing"
    message_ja = "日本語フォントを読み込めません。アプリを再インストールしてください。"
    message_en = "The Japanese font cannot be loaded. Please reinstall the application."

    def __init__(self, detail: str) -> None:
        super().__init__(f"[{self.code}] {self.message_en} ({detail})")
        self.detail = detail

    def user_lines(self) -> tuple[str, str]:
        """The Japanese line first, then the English line."""
        return self.message_ja, self.message_en


def font_path() -> Path:
    """Path of the bundled font file (it may be missing in a broken installation)."""
    return FONT_DIR / FONT_FILE


def register_fonts() -> str:
    """Register the bundled font with Qt once and return its family name.

    Needs a ``QGuiApplication`` (or ``QApplication``).  Calling it again is cheap and returns the
    same family.  Raises :class:`FontError` when the file is missing or Qt rejects it.
    """
    if QGuiApplication.instance() is None:
        raise FontError("no QGuiApplication exists yet; create the application first")
    path = font_path()
    family = _registered.get(path)
    if family is not None:
        return family
    if not path.is_file():
        raise FontError(f"font file not found: {path}")
    font_id = QFontDatabase.addApplicationFont(str(path))
    if font_id < 0:
        raise FontError(f"Qt could not load the font file: {path}")
    families = QFontDatabase.applicationFontFamilies(font_id)
    family = FAMILY if FAMILY in families else (families[0] if families else "")
    if not family:
        raise FontError(f"the font file has no family name: {path}")
    _registered[path] = family
    log.info("registered font %s from %s", family, path)
    return family
