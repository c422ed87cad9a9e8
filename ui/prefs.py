"""The window's own settings (language, text size, contrast, sounds, reader), kept in the
terminal store's settings table, or in memory before enrollment."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from terminal.store import TerminalStore

TextSize = Literal["normal", "large", "huge"]
#: base font size in pixels per text size
FONT_PX: dict[str, int] = {"normal": 18, "large": 22, "huge": 28}
PREFS_KEY = "ui.prefs"


@dataclass
class Prefs:
    """User-facing options of this terminal's window."""

    language: Literal["ja", "en"] = "ja"
    text_size: TextSize = "large"
    high_contrast: bool = False
    sounds: bool = True
    #: None: automatic (the first reader with a card)
    reader: str | None = None

    @classmethod
    def load(cls, store: TerminalStore | None) -> Prefs:
        """The saved options (defaults for anything missing or unreadable)."""
        if store is None:
            return cls()
        data: dict[str, object] = store.setting(PREFS_KEY, {})
        prefs = cls()
        if isinstance(data, dict):
            for name, value in data.items():
                if hasattr(prefs, name):
                    setattr(prefs, name, value)
        if prefs.text_size not in FONT_PX:
            prefs.text_size = "large"
        return prefs

    def save(self, store: TerminalStore | None) -> None:
        """Keep the options (no-op before enrollment)."""
        if store is not None:
            store.set_setting(PREFS_KEY, asdict(self))


def style_sheet(prefs: Prefs) -> str:
    """The application style sheet: large type, and the high-contrast colours when chosen."""
    base = FONT_PX.get(prefs.text_size, 22)
    if prefs.high_contrast:
        colours = {
            "bg": "#000000",
            "fg": "#ffffff",
            "hint": "#ffff00",
            "ok": "#00ff66",
            "warn": "#ffcc00",
            "bad": "#ff6666",
            "button": "#000000",
            "border": "#ffffff",
            "primary": "#ffff00",
            "primary_fg": "#000000",
            "panel": "#000000",
        }
    else:
        colours = {
            "bg": "#f7f7f4",
            "fg": "#1a1a1a",
            "hint": "#4a4a4a",
            "ok": "#0b7a32",
            "warn": "#9a5b00",
            "bad": "#b3261e",
            "button": "#ffffff",
            "border": "#8a8a8a",
            "primary": "#1f5fbf",
            "primary_fg": "#ffffff",
            "panel": "#e8ebef",
        }
    c = colours
    return f"""
QWidget {{ font-size: {base}px; color: {c["fg"]}; background: {c["bg"]}; }}
QLabel#title {{ font-size: {int(base * 1.7)}px; font-weight: bold; }}
QLabel#prompt {{ font-size: {int(base * 1.3)}px; }}
QLabel#huge {{ font-size: {int(base * 3.6)}px; font-weight: bold; letter-spacing: 4px; }}
QLabel#hint {{ color: {c["hint"]}; }}
QLabel#ok {{ font-size: {int(base * 1.9)}px; font-weight: bold; color: {c["ok"]}; }}
QLabel#warn {{ font-size: {int(base * 1.4)}px; font-weight: bold; color: {c["warn"]}; }}
QLabel#bad {{ font-size: {int(base * 1.6)}px; font-weight: bold; color: {c["bad"]}; }}
QLabel#section {{ font-size: {int(base * 1.2)}px; font-weight: bold; }}
QPushButton {{ background: {c["button"]}; border: 2px solid {c["border"]}; border-radius: 6px;
    padding: 6px 14px; }}
QPushButton#key {{ font-size: {int(base * 1.6)}px; font-weight: bold; min-width: 80px; }}
QPushButton#primary {{ background: {c["primary"]}; color: {c["primary_fg"]};
    font-weight: bold; border-color: {c["primary"]}; }}
QPushButton#danger {{ background: {c["bad"]}; color: #ffffff; font-weight: bold; }}
QPushButton#mode {{ text-align: left; padding: 10px 14px; }}
QPushButton#mode:checked {{ background: {c["primary"]}; color: {c["primary_fg"]};
    font-weight: bold; }}
QWidget#modes, QWidget#statusbar {{ background: {c["panel"]}; }}
QWidget#statusbar QLabel {{ background: {c["panel"]}; padding: 2px 10px;
    font-size: {min(base, 20)}px; }}
QCheckBox::indicator {{ width: {base}px; height: {base}px; border: 2px solid {c["border"]};
    background: {c["button"]}; }}
QCheckBox::indicator:checked {{ background: {c["primary"]}; }}
QLineEdit, QComboBox, QSpinBox {{ border: 2px solid {c["border"]}; padding: 6px;
    background: {c["button"]}; }}
QLineEdit#amount {{ font-size: {int(base * 2.4)}px; font-weight: bold; }}
QTableWidget {{ gridline-color: {c["border"]}; }}
QHeaderView::section {{ background: {c["panel"]}; padding: 4px; font-weight: bold; }}
"""
