"""Every user-visible string of the window goes through :func:`tr` (Japanese source text; the
English comes from ``ui/i18n/mykey_en.qm``, built from ``mykey_en.ts`` by ``make``)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

#: the one translation context of the application (``ui/i18n/extract.py`` collects ``tr`` calls)
CONTEXT = "mykey"


def tr(text: str) -> str:
    """``text`` (Japanese) in the current language."""
    return QCoreApplication.translate(CONTEXT, text)
