"""The QApplication: Fusion style, the bundled font, the translator, the style sheet; and
:func:`after_first_paint` for work that can wait until the window is on screen."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QLocale, QObject, QTimer, QTranslator
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from ui.prefs import Prefs, style_sheet

log = logging.getLogger(__name__)

I18N_DIR = Path(__file__).resolve().parent / "i18n"
#: the system fonts tried, in order, while the bundled font is not there
FALLBACK_FAMILIES = ("Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "Yu Gothic UI", "Meiryo")
#: start the deferred work by then even if the window was never painted (e.g. minimised)
FIRST_PAINT_LATEST_MS = 1000


class _FirstPaint(QObject):
    """Runs ``callback`` once, just after ``widget``'s first paint (or at the latest after
    :data:`FIRST_PAINT_LATEST_MS`)."""

    def __init__(self, widget: QObject, callback: Callable[[], None]) -> None:
        super().__init__(widget)
        self._widget = widget
        self._callback: Callable[[], None] | None = callback
        widget.installEventFilter(self)
        QTimer.singleShot(FIRST_PAINT_LATEST_MS, self, self._run)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        """On the first paint, run the callback once the paint is done."""
        if watched is self._widget and event.type() == QEvent.Type.Paint:
            self._widget.removeEventFilter(self)
            QTimer.singleShot(0, self, self._run)
        return False

    def _run(self) -> None:
        callback, self._callback = self._callback, None
        if callback is not None:
            callback()


def after_first_paint(widget: QObject, callback: Callable[[], None]) -> None:
    """Run ``callback`` in the GUI thread right after ``widget`` is first painted, so work
    that the first picture does not need (starting the sync engine, the reader watcher) does
    not delay it."""
    _FirstPaint(widget, callback)


def register_font() -> str | None:
    """The bundled Japanese font (``ui.fonts``) if present, else a Japanese system font."""
    try:
        from ui.fonts import register_fonts  # the bundled font (printing work)
    except ImportError:
        log.info("no bundled font module; using a system font")
    else:
        try:
            family: str = register_fonts()
            return family
        except Exception:
            log.exception("the bundled font could not be registered")
    families = set(QFontDatabase.families())
    return next((f for f in FALLBACK_FAMILIES if f in families), None)


def install_translator(
    app: QApplication, language: str, qm: Path = I18N_DIR / "mykey_en.qm"
) -> QTranslator | None:
    """Load the English translation when ``language`` is ``en`` (Japanese is the source)."""
    if language != "en":
        return None
    translator = QTranslator(app)
    if not translator.load(str(qm)):
        log.warning("no English translation at %s (run make); staying in Japanese", qm)
        return None
    app.installTranslator(translator)
    return translator


def make_app(prefs: Prefs, argv: list[str] | None = None) -> QApplication:
    """The application object (or the existing one, e.g. under pytest-qt), set up."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv)
    app.setApplicationName("MyKey Terminal")
    app.setStyle("Fusion")
    family = register_font()
    if family is not None:
        app.setFont(QFont(family))
    QLocale.setDefault(
        QLocale(QLocale.Language.Japanese if prefs.language == "ja" else QLocale.Language.English)
    )
    install_translator(app, prefs.language)
    app.setStyleSheet(style_sheet(prefs))
    return app
