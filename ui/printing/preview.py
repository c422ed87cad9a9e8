"""Print preview for the UI: the same painter as the printer, shown in a QPrintPreviewDialog.

The dialog's printer starts on the layout's paper (A4 or the receipt roll); its print button
opens the system's printer choice.  The caller shows it with ``open()`` or ``exec()``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QWidget

from terminal.vouchers.layout import PaperLayout, VoucherFace
from ui.printing.errors import NothingToPrintError
from ui.printing.testpage import print_test_page
from ui.printing.voucher_painter import page_layout, print_vouchers

log = logging.getLogger(__name__)


def configure_printer(printer: QPrinter, layout: PaperLayout, doc_name: str = "ポイント券") -> None:
    """Put ``printer`` on the layout's paper, full page (millimetres from the paper's edge)."""
    if not printer.setPageLayout(page_layout(layout)):
        log.warning("printer %s refused page layout %s", printer.printerName(), layout.name)
    printer.setFullPage(True)
    printer.setDocName(doc_name)


def print_dialog(layout: PaperLayout, parent: QWidget | None = None) -> QPrintDialog:
    """The system's printer choice, its printer already on the layout's paper.

    After ``exec()`` returns Accepted, print with
    ``print_vouchers(faces, layout, dialog.printer())``.  The dialog keeps its printer alive.
    """
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    configure_printer(printer, layout)
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("プリンターの選択 / Choose a printer")
    dialog.setProperty("mykey_layout", layout.name)
    dialog._mykey_printer = printer  # type: ignore[attr-defined]  # Qt does not own it
    return dialog


def preview_dialog(
    faces: Sequence[VoucherFace], layout: PaperLayout, parent: QWidget | None = None
) -> QPrintPreviewDialog:
    """A print preview of ``faces`` on ``layout``; printing from it uses the same renderer."""
    if not faces:
        raise NothingToPrintError("preview of no faces")
    kept = tuple(faces)
    dialog = QPrintPreviewDialog(parent)
    dialog.setWindowTitle("印刷プレビュー / Print preview")
    configure_printer(dialog.printer(), layout)

    def paint(printer: QPrinter) -> None:
        print_vouchers(kept, layout, printer)

    dialog.paintRequested.connect(paint)
    return dialog


def printer_test_preview(
    layout: PaperLayout, parent: QWidget | None = None, *, now: datetime | None = None
) -> QPrintPreviewDialog:
    """A print preview of the printer test page (Settings)."""
    dialog = QPrintPreviewDialog(parent)
    dialog.setWindowTitle("テスト印刷 / Printer test")
    configure_printer(dialog.printer(), layout, "テスト印刷")

    def paint(printer: QPrinter) -> None:
        print_test_page(layout, printer, now=now)

    dialog.paintRequested.connect(paint)
    return dialog
