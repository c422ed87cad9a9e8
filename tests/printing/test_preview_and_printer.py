"""The QPrinter path (as the preview and the print dialog use it) and the printer test page."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PySide6.QtGui import QPageLayout, QPageSize
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewWidget
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from terminal.vouchers import PaperLayout, a4_sheet, receipt
from tests.printing.support import decode_zxing, make_face, pdf_text, rasterise
from ui.printing import preview, testpage
from ui.printing.voucher_painter import print_vouchers, write_pdf

pytestmark = pytest.mark.gui


def test_preview_shows_the_sheet_on_a4_with_one_page_per_eight_vouchers(qtbot: QtBot) -> None:
    key = Ed25519PrivateKey.generate()
    faces = [make_face(key, i, 500) for i in range(1, 10)]
    dialog = preview.preview_dialog(faces, a4_sheet())
    qtbot.addWidget(dialog)
    layout = dialog.printer().pageLayout()
    assert layout.pageSize().id() == QPageSize.PageSizeId.A4
    assert layout.orientation() == QPageLayout.Orientation.Portrait
    assert dialog.printer().fullPage()
    widget = dialog.findChild(QPrintPreviewWidget)
    assert widget is not None
    widget.updatePreview()
    assert widget.pageCount() == 2


def test_preview_of_a_receipt_uses_the_roll_width(qtbot: QtBot) -> None:
    face = make_face(Ed25519PrivateKey.generate(), 1, 500)
    dialog = preview.preview_dialog([face], receipt(58))
    qtbot.addWidget(dialog)
    size = dialog.printer().pageLayout().fullRect(QPageLayout.Unit.Millimeter)
    assert size.width() == pytest.approx(58.0, abs=0.2)
    assert size.height() == pytest.approx(receipt(58).page_mm[1], abs=0.2)


def test_print_dialog_offers_a_printer_on_the_layouts_paper(qtbot: QtBot) -> None:
    dialog = preview.print_dialog(receipt(80))
    qtbot.addWidget(dialog)
    printer = dialog.printer()
    size = printer.pageLayout().fullRect(QPageLayout.Unit.Millimeter)
    assert (round(size.width()), round(size.height())) == (80, round(receipt(80).page_mm[1]))
    assert printer.fullPage()


def test_the_printer_path_prints_decodable_vouchers(qapp: QApplication, tmp_path: Path) -> None:
    """A QPrinter at 1200 dpi (PDF output, as a driver would get it): the same renderer."""
    face = make_face(Ed25519PrivateKey.generate(), 5, 2420, reissue=True)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printer.pdf"))
    preview.configure_printer(printer, receipt(80))
    assert print_vouchers([face], receipt(80), printer) == 1
    (png,) = rasterise(tmp_path / "printer.pdf", "printer-80")
    assert [code.text for code in decode_zxing(png)] == [face.payload]
    assert "再発行" in pdf_text(tmp_path / "printer.pdf")


@pytest.mark.parametrize("layout", [a4_sheet(), receipt(58), receipt(80)], ids=lambda x: x.name)
def test_printer_test_page(qapp: QApplication, tmp_path: Path, layout: PaperLayout) -> None:
    when = datetime(2026, 11, 24, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    pdf = testpage.write_test_page_pdf(layout, tmp_path / "test.pdf", now=when)
    (png, *_) = rasterise(pdf, f"test-page-{layout.name}")
    assert [code.text for code in decode_zxing(png)] == [testpage.TEST_PAYLOAD]
    text = pdf_text(pdf)
    assert "2026/11/24 09:30 JST" in text
    assert "40 mm" in text
    assert layout.name in text


def test_printer_test_preview_builds(qtbot: QtBot) -> None:
    dialog = preview.printer_test_preview(receipt(58))
    qtbot.addWidget(dialog)
    widget = dialog.findChild(QPrintPreviewWidget)
    assert widget is not None
    widget.updatePreview()
    assert widget.pageCount() == 1


def test_printing_does_not_drop_references_to_none(qapp: QApplication, tmp_path: Path) -> None:
    """PySide6-Essentials 6.12.0 on Python 3.11 loses one reference to None on every call of a
    method returning void (about 5,800 per A4 sheet): a few sheets later the application aborts
    with "Fatal Python error: none_dealloc".  6.11.2 does not; pin PySide6-Essentials<6.12."""
    key = Ed25519PrivateKey.generate()
    faces = [make_face(key, i, 500) for i in range(1, 9)]
    write_pdf(faces, a4_sheet(), tmp_path / "warm.pdf")
    before = sys.getrefcount(None)
    write_pdf(faces, a4_sheet(), tmp_path / "sheet.pdf")
    after = sys.getrefcount(None)
    assert after >= before - 50, f"None lost {before - after} references printing one sheet"
