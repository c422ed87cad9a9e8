"""The printer test page (Settings → テスト印刷): checks paper size, scale, font and QR.

One card in the layout's first voucher place: what paper the terminal thinks it has, the time,
a 40 mm ruler (measure it: a driver that scales the page shows here), a Japanese font sample, a
10 mm square and a QR code drawn exactly like a voucher's (same module rule), which the terminal's
scanner should read as :data:`TEST_PAYLOAD`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainter, QPdfWriter
from PySide6.QtPrintSupport import QPrinter

from terminal.vouchers.layout import PaperLayout
from ui.fonts import register_fonts
from ui.printing.canvas import ALIGN_CENTER, ALIGN_LEFT, Canvas
from ui.printing.errors import PrintError
from ui.printing.qr import module_dots, paint_qr, qr_matrix
from ui.printing.voucher_painter import pdf_writer

#: What the test page's QR code says (QR alphanumeric characters only).
TEST_PAYLOAD = "MYKEY PRINT TEST"
TITLE = "印刷テスト / Printer test"
SAMPLE = "日本語 ポイント券 0123456789 ★"
RULER_MM = 40.0
JST = ZoneInfo("Asia/Tokyo")


def _ruler(canvas: Canvas, x: float, y: float, length: float) -> None:
    canvas.line(x, y + 3.0, x + length, y + 3.0, line_mm=0.2)
    for mm in range(int(length) + 1):
        tick = 3.0 if mm % 10 == 0 else (2.0 if mm % 5 == 0 else 1.0)
        canvas.line(x + mm, y + 3.0 - tick, x + mm, y + 3.0, line_mm=0.12)
    canvas.text(x, y + 3.4, 20.0, 3.4, f"{length:.0f} mm", 2.6, ALIGN_LEFT)


def paint_test_page(
    painter: QPainter, layout: PaperLayout, dots_per_mm: float, now: datetime
) -> None:
    """Paint the test card into the layout's first voucher place."""
    x, y = layout.origins_mm[0]
    w, h = layout.voucher_mm
    canvas = Canvas(painter, register_fonts(), dots_per_mm, QPointF(x, y))
    pad = 3.0
    iw = w - 2 * pad
    canvas.box(1.0, 1.0, w - 2.0, h - 2.0, line_mm=0.3, radius_mm=1.5)
    top = pad
    canvas.text(pad, top, iw, 6.0, TITLE, 4.2, ALIGN_CENTER)
    top += 6.5
    page_w, page_h = layout.page_mm
    paper = f"用紙 {layout.name}: {page_w:g}×{page_h:g} mm, {dots_per_mm * 25.4:.0f} dpi"
    canvas.text(pad, top, iw, 4.0, paper, 3.0, ALIGN_LEFT)
    top += 4.2
    canvas.text(pad, top, iw, 4.0, f"{now.astimezone(JST):%Y/%m/%d %H:%M} JST", 3.0, ALIGN_LEFT)
    top += 4.8
    _ruler(canvas, pad, top, min(RULER_MM, iw))
    top += 7.2
    canvas.text(pad, top, iw, 4.2, SAMPLE, 3.2, ALIGN_LEFT)
    top += 5.0
    matrix = qr_matrix(TEST_PAYLOAD)
    side = min(h - pad - top, iw - 14.0, 30.0)
    if side <= 0:
        raise PrintError(f"layout {layout.name!r} is too small for the test page")
    module = module_dots(matrix, canvas.dots(side), max_dots=max(1, int(0.8 * dots_per_mm)))
    paint_qr(painter, matrix, canvas.rect(pad, top, 0, 0).topLeft(), module)
    canvas.box(pad + side + 2.0, top + 1.0, 10.0, 10.0, line_mm=0.2)
    canvas.text(pad + side + 2.0, top + 11.5, 12.0, 3.6, "10 mm", 2.6, ALIGN_LEFT)


def print_test_page(
    layout: PaperLayout, device: QPrinter | QPdfWriter, *, now: datetime | None = None
) -> None:
    """Print the test page on ``device`` (whose page should be the layout's paper)."""
    register_fonts()
    if isinstance(device, QPrinter):
        device.setFullPage(True)
    painter = QPainter()
    if not painter.begin(device):
        raise PrintError("the printer could not be opened (QPainter.begin failed)")
    try:
        paint_test_page(painter, layout, device.logicalDpiX() / 25.4, now or datetime.now(JST))
    finally:
        painter.end()


def write_test_page_pdf(
    layout: PaperLayout, path: Path | str, *, now: datetime | None = None
) -> Path:
    """The test page as a PDF (for tests and for sending to support)."""
    target = Path(path)
    writer = pdf_writer(layout, target, TITLE)
    print_test_page(layout, writer, now=now)
    del writer
    return target
