"""One QPainter renderer for point vouchers, on a QPrinter (OS driver), a QPdfWriter or an image.

Pages come from a :class:`terminal.vouchers.layout.PaperLayout` (A4 sheet with cut marks, or one
voucher on a 58/80 mm receipt roll); each voucher's face is painted by
:func:`ui.printing.face.paint_voucher`.  The same code path serves the printer, the print preview,
PDF files (tests, demo) and the sheet as an image (the demo shows it to the camera).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter
from PySide6.QtPrintSupport import QPrinter

from terminal.vouchers.layout import PaperLayout, VoucherFace
from ui.fonts import register_fonts
from ui.printing.canvas import Canvas
from ui.printing.errors import NothingToPrintError, PrintError
from ui.printing.face import paint_voucher

log = logging.getLogger(__name__)

GRAY = QColor(150, 150, 150)

__all__ = [
    "page_layout",
    "paint_cut_marks",
    "paint_voucher",
    "pdf_writer",
    "print_vouchers",
    "sheet_image",
    "write_pdf",
]


def paint_cut_marks(painter: QPainter, layout: PaperLayout, used: int, dots_per_mm: float) -> None:
    """Cutting guides for a sheet: a light dashed line round each voucher and trim marks in the
    page margin on every grid line (so a guillotine or scissors can follow them)."""
    canvas = Canvas(painter, register_fonts(), dots_per_mm, QPointF(0, 0))
    w, h = layout.voucher_mm
    page_w, page_h = layout.page_mm
    origins = list(layout.origins_mm)[:used]
    xs = sorted({round(x, 3) for x, _ in origins} | {round(x + w, 3) for x, _ in origins})
    ys = sorted({round(y, 3) for _, y in origins} | {round(y + h, 3) for _, y in origins})
    painter.save()
    for x, y in origins:
        canvas.box(x, y, w, h, line_mm=0.15, color=GRAY, style=Qt.PenStyle.DashLine)
    left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
    gap = 1.0
    for x in xs:
        if top - gap > 2.0:
            canvas.line(x, max(0.5, top - gap - 5.0), x, top - gap, line_mm=0.2)
        if page_h - bottom - gap > 2.0:
            canvas.line(x, bottom + gap, x, min(page_h - 0.5, bottom + gap + 5.0), line_mm=0.2)
    for y in ys:
        if left - gap > 2.0:
            canvas.line(max(0.5, left - gap - 5.0), y, left - gap, y, line_mm=0.2)
        if page_w - right - gap > 2.0:
            canvas.line(right + gap, y, min(page_w - 0.5, right + gap + 5.0), y, line_mm=0.2)
    painter.restore()


def page_layout(layout: PaperLayout) -> QPageLayout:
    """The Qt page layout for the paper: its size (A4 is recognised as A4), no margins."""
    w, h = layout.page_mm
    orientation = QPageLayout.Orientation.Portrait
    if w > h:
        w, h = h, w
        orientation = QPageLayout.Orientation.Landscape
    size = QPageSize(QSizeF(w, h), QPageSize.Unit.Millimeter, layout.name)
    return QPageLayout(size, orientation, QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter)


def _device_dots_per_mm(device: QPrinter | QPdfWriter | QImage) -> float:
    return device.logicalDpiX() / 25.4


def print_vouchers(
    faces: Sequence[VoucherFace], layout: PaperLayout, device: QPrinter | QPdfWriter | QImage
) -> int:
    """Paint every voucher onto ``device``, as many per page as the layout has places.

    The device's page should already be the layout's paper (``page_layout``); a QPrinter is
    switched to full-page mode so millimetres count from the paper's edge.  An image holds one
    page.  Returns the number of pages.  Raises :class:`NothingToPrintError` or :class:`PrintError`.
    """
    if not faces:
        raise NothingToPrintError("no faces")
    per_page = len(layout.origins_mm)
    if per_page == 0:
        raise PrintError(f"layout {layout.name!r} has no voucher places")
    register_fonts()
    if isinstance(device, QPrinter):
        device.setFullPage(True)
    dots_per_mm = _device_dots_per_mm(device)
    painter = QPainter()
    if not painter.begin(device):
        raise PrintError("the printer could not be opened (QPainter.begin failed)")
    pages = 1
    try:
        for index, face in enumerate(faces):
            slot = index % per_page
            if slot == 0 and index > 0:
                if isinstance(device, QImage) or not device.newPage():
                    raise PrintError(f"could not start page {pages + 1}")
                pages += 1
            if slot == 0 and layout.cut_marks:
                used = min(per_page, len(faces) - index)
                paint_cut_marks(painter, layout, used, dots_per_mm)
            x, y = layout.origins_mm[slot]
            w, h = layout.voucher_mm
            paint_voucher(painter, face, QRectF(x, y, w, h), dots_per_mm)
    finally:
        painter.end()
    log.info("printed %d voucher(s) on %d page(s), layout %s", len(faces), pages, layout.name)
    return pages


def pdf_writer(layout: PaperLayout, path: Path, title: str) -> QPdfWriter:
    """A QPdfWriter on ``path`` with the layout's paper at its printer resolution (whole dots)."""
    writer = QPdfWriter(str(path))
    writer.setResolution(round(layout.dots_per_mm * 25.4))
    if not writer.setPageLayout(page_layout(layout)):
        raise PrintError(f"the PDF writer refused the page layout {layout.name!r}")
    writer.setTitle(title)
    writer.setCreator("MyKey point terminal")
    return writer


def sheet_image(faces: Sequence[VoucherFace], layout: PaperLayout, dpi: int) -> QImage:
    """The first sheet at ``dpi``, white paper as a printer would give it: what a camera sees
    without a PDF renderer (Windows has none)."""
    w_mm, h_mm = layout.page_mm
    image = QImage(round(w_mm * dpi / 25.4), round(h_mm * dpi / 25.4), QImage.Format.Format_RGB32)
    image.setDotsPerMeterX(round(dpi / 0.0254))
    image.setDotsPerMeterY(round(dpi / 0.0254))
    image.fill(Qt.GlobalColor.white)
    print_vouchers(faces[: len(layout.origins_mm)], layout, image)
    return image


def write_pdf(faces: Sequence[VoucherFace], layout: PaperLayout, path: Path | str) -> Path:
    """Write the vouchers to a PDF (font embedded as a subset); returns the path written."""
    target = Path(path)
    writer = pdf_writer(layout, target, "ポイント券")
    print_vouchers(faces, layout, writer)
    del writer  # the file is complete once the painter ended; release it now
    if not target.is_file() or target.stat().st_size == 0:
        raise PrintError(f"the PDF was not written: {target}")
    return target
