"""The face of one point voucher, painted into a rectangle in millimetres.

It follows DOMAIN.md §5 (the source material's voucher image): title and program name, validity
dates, points in large type, issue date, voucher number, where it can be used, the stamp boxes
発行認印 and 利用店舗印, and the QR code drawn as vector squares at whole printer dots.  A reprint
carries 再発行 in white on a black box (legible on a mono thermal printer too).

Three arrangements, picked from the rectangle's shape:

- sheet (wider than tall, A4): as in the image, QR at the bottom right beside the stamp boxes;
- wide receipt (80 mm roll): QR to the right of the points and number, stamps underneath;
- narrow receipt (58 mm roll): everything stacked and centred, the QR as wide as it may be.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter

from terminal.vouchers.layout import ISSUER_STAMP, REISSUE_MARK, SHOP_STAMP, VoucherFace
from ui.fonts import register_fonts
from ui.printing.canvas import ALIGN_CENTER, ALIGN_LEFT, ALIGN_RIGHT, WRAP, Canvas
from ui.printing.qr import module_dots, paint_qr, qr_matrix

#: Largest QR module (mm): beyond this a bigger code only costs paper.
MAX_MODULE_MM = 0.8
#: Narrowest content (mm) that still gets the wide-receipt arrangement.
WIDE_RECEIPT_MM = 60.0
LIGHT = QColor(175, 175, 175)
BLACK = QColor("black")
WHITE = QColor("white")


def _points(
    canvas: Canvas,
    x: float,
    y: float,
    w: float,
    h: float,
    face: VoucherFace,
    align: int = ALIGN_CENTER,
) -> None:
    """The amount in large type followed by ポイント on one baseline."""
    digits = face.points_text()
    unit = " ポイント"
    big = h * 0.95
    small = big * 0.40
    total = canvas.advance(digits, big) + canvas.advance(unit, small)
    if total > w:
        big *= w / total
        small *= w / total
        total = w
    left = x + (w - total) / 2 if align == ALIGN_CENTER else x
    baseline = y + h * 0.5 + big * 0.36
    painter = canvas.painter
    painter.setPen(BLACK)
    painter.setFont(canvas.font(big))
    painter.drawText(canvas.rect(left, baseline, 0, 0).topLeft(), digits)
    painter.setFont(canvas.font(small))
    after = left + canvas.advance(digits, big)
    painter.drawText(canvas.rect(after, baseline, 0, 0).topLeft(), unit)


def _stamp_box(canvas: Canvas, x: float, y: float, w: float, h: float, label: str) -> None:
    """A box for a seal: the label in a band at the top, a faint dashed ring with 印 inside."""
    band = min(4.0, h * 0.28)
    canvas.box(x, y, w, h, line_mm=0.3)
    canvas.line(x, y + band, x + w, y + band, line_mm=0.2)
    canvas.text(x, y, w, band, label, band * 0.74, ALIGN_CENTER)
    ring = min(w, h - band) * 0.7
    cx, cy = x + w / 2, y + band + (h - band) / 2
    canvas.box(
        cx - ring / 2,
        cy - ring / 2,
        ring,
        ring,
        line_mm=0.15,
        radius_mm=ring / 2,
        color=LIGHT,
        style=Qt.PenStyle.DashLine,
    )
    canvas.text(
        cx - ring / 2, cy - ring / 2, ring, ring, "印", ring * 0.42, ALIGN_CENTER, color=LIGHT
    )


def _stamps(canvas: Canvas, x: float, y: float, w: float, h: float, gap: float) -> None:
    """The two stamp boxes side by side: 発行認印 (office) then 利用店舗印 (shop)."""
    each = (w - gap) / 2
    _stamp_box(canvas, x, y, each, h, ISSUER_STAMP)
    _stamp_box(canvas, x + each + gap, y, each, h, SHOP_STAMP)


def _reissue(canvas: Canvas, x: float, y: float, w: float, h: float) -> None:
    """再発行 in white on a black rounded box."""
    canvas.box(x, y, w, h, line_mm=0.1, radius_mm=h * 0.2, fill=BLACK, color=BLACK)
    canvas.text(x, y, w, h, REISSUE_MARK, h * 0.74, ALIGN_CENTER, color=WHITE)


def _qr(canvas: Canvas, face: VoucherFace, x: float, y: float, side: float) -> float:
    """The payload's QR, quiet zone included, in the largest whole-dot module that fits the
    square; centred in it.  Returns the symbol's side without quiet zone (mm)."""
    matrix = qr_matrix(face.payload)
    max_dots = max(1, int(MAX_MODULE_MM * canvas.dots_per_mm))
    module = module_dots(matrix, canvas.dots(side), max_dots=max_dots)
    drawn = matrix.size_with_quiet_zone * module / canvas.dots_per_mm
    offset = (side - drawn) / 2
    paint_qr(canvas.painter, matrix, canvas.rect(x + offset, y + offset, 0, 0).topLeft(), module)
    return matrix.size * module / canvas.dots_per_mm


def _frame(canvas: Canvas, w: float, h: float, inset: float) -> None:
    canvas.box(inset, inset, w - 2 * inset, h - 2 * inset, line_mm=0.35, radius_mm=1.5)


def _sheet(canvas: Canvas, face: VoucherFace, w: float, h: float) -> None:
    """A4-sheet voucher (about 90 × 65 mm), arranged like the source image."""
    pad = 3.2
    iw, ih = w - 2 * pad, h - 2 * pad
    s = min(iw / 84.0, ih / 58.0)
    x0, y0 = pad, pad
    _frame(canvas, w, h, 1.4)
    canvas.text(x0, y0, iw * 0.6, 7 * s, face.title, 4.8 * s, ALIGN_LEFT)
    canvas.text(x0 + iw * 0.6, y0, iw * 0.4, 7 * s, face.program_name, 4.0 * s, ALIGN_RIGHT)
    canvas.line(x0, y0 + 7.6 * s, x0 + iw, y0 + 7.6 * s, line_mm=0.25)
    vy = y0 + 8.2 * s
    canvas.text(x0, vy, iw, 5.4 * s, face.validity_line(), 3.7 * s, ALIGN_LEFT)
    ly = vy + 6.2 * s  # the lower area: text and stamps on the left, QR on the right
    lh = y0 + ih - ly
    q = min(lh, 30.0 * s, iw * 0.38)
    qx = x0 + iw - q
    _qr(canvas, face, qx, y0 + ih - q, q)
    if face.reissue:
        room = lh - q
        if room >= 4.5:
            _reissue(canvas, qx + q * 0.12, ly, q * 0.76, min(6.5 * s, room - 0.5))
        else:  # no room above the QR: in the middle of the header
            _reissue(canvas, x0 + iw * 0.42, y0 + 0.6 * s, iw * 0.16, 5.8 * s)
    lw = qx - x0 - 2.0 * s
    canvas.text(x0, ly, lw, 4.2 * s, "【利用ポイント】", 3.3 * s, ALIGN_LEFT)
    _points(canvas, x0, ly + 4.2 * s, lw, 10.5 * s, face)
    iy = ly + 15.2 * s
    canvas.text(x0, iy, lw, 4.4 * s, face.issued_line(), 3.3 * s, ALIGN_LEFT)
    canvas.text(x0, iy + 4.4 * s, lw, 4.4 * s, face.number_line(), 3.5 * s, ALIGN_LEFT)
    canvas.text(x0, iy + 8.8 * s, lw, 4.4 * s, face.usable_at, 3.1 * s, ALIGN_LEFT)
    sy = iy + 13.8 * s
    _stamps(canvas, x0, sy, lw, y0 + ih - sy, 2.0 * s)


class _Rows:
    """Top-to-bottom placement: each call hands out the next band of the given height."""

    def __init__(self, top: float, scale: float) -> None:
        self.y = top
        self.scale = scale

    def take(self, height: float, *, scaled: bool = True) -> tuple[float, float]:
        h = height * self.scale if scaled else height
        top = self.y
        self.y += h
        return top, h


def _wide_receipt(canvas: Canvas, face: VoucherFace, w: float, h: float) -> None:
    """80 mm roll (about 72 mm printable): QR right of points/date/number, stamps below."""
    pad = 2.6
    iw, ih = w - 2 * pad, h - 2 * pad
    q = min(32.0, iw * 0.48, ih * 0.4)
    text_h = 25.5 + (6.5 if face.reissue else 0.0)  # scaled rows besides QR and stamps
    s = min(iw / 67.0, (ih - q - 18.0) / text_h, 1.3)
    x0 = pad
    _frame(canvas, w, h, 1.2)
    rows = _Rows(pad, s)
    top, rh = rows.take(6.5)
    canvas.text(x0, top, iw, rh, face.title, 4.8 * s, ALIGN_CENTER)
    top, rh = rows.take(5.5)
    canvas.text(x0, top, iw, rh, face.program_name, 4.0 * s, ALIGN_CENTER)
    if face.reissue:
        top, rh = rows.take(6.5)
        _reissue(canvas, x0 + iw / 2 - 13 * s, top + 0.4 * s, 26 * s, rh - 0.8 * s)
    top, rh = rows.take(5.0)
    canvas.text(x0, top, iw, rh, face.validity_line(), 3.6 * s, ALIGN_CENTER)
    rows.take(1.0)
    top, _ = rows.take(q, scaled=False)
    _qr(canvas, face, x0 + iw - q, top, q)
    lw = iw - q - 1.5
    unit = q / 29.0
    canvas.text(x0, top, lw, 4.5 * unit, "【利用ポイント】", 3.3 * unit, ALIGN_LEFT)
    _points(canvas, x0, top + 4.5 * unit, lw, 10.5 * unit, face)
    canvas.text(x0, top + 15.5 * unit, lw, 4.5 * unit, face.issued_line(), 3.2 * unit, ALIGN_LEFT)
    canvas.text(x0, top + 20.0 * unit, lw, 4.0 * unit, "発券番号：", 3.2 * unit, ALIGN_LEFT)
    canvas.text(x0, top + 24.0 * unit, lw, 5.0 * unit, face.number, 4.2 * unit, ALIGN_LEFT)
    rows.take(1.0)
    top, rh = rows.take(5.0)
    canvas.text(x0, top, iw, rh, face.usable_at, 3.3 * s, ALIGN_CENTER)
    rows.take(1.5)
    stamps_h = min(pad + ih - rows.y, 24.0)
    _stamps(canvas, x0, rows.y, iw, stamps_h, 3.0)


def _narrow_receipt(canvas: Canvas, face: VoucherFace, w: float, h: float) -> None:
    """58 mm roll (about 48 mm printable): stacked and centred; the QR keeps its size and the
    text rows share what height is left."""
    pad = 2.4
    iw, ih = w - 2 * pad, h - 2 * pad
    q = min(iw * 0.64, 32.0)
    text_h = 72.5 + (6.5 if face.reissue else 0.0)  # all scaled rows, stamps included
    s = min(iw / 46.0, (ih - q) / text_h, 1.2)
    x0 = pad
    _frame(canvas, w, h, 1.0)
    rows = _Rows(pad, s)
    top, rh = rows.take(6.5)
    canvas.text(x0, top, iw, rh, face.title, 4.8 * s, ALIGN_CENTER)
    top, rh = rows.take(5.0)
    canvas.text(x0, top, iw, rh, face.program_name, 4.0 * s, ALIGN_CENTER)
    if face.reissue:
        top, rh = rows.take(6.5)
        _reissue(canvas, x0 + iw / 2 - 13 * s, top + 0.4 * s, 26 * s, rh - 0.8 * s)
    top, rh = rows.take(4.2)
    canvas.text(x0, top, iw, rh, "【有効期間】", 3.3 * s, ALIGN_CENTER)
    top, rh = rows.take(4.8)
    canvas.text(
        x0, top, iw, rh, face.validity_line().removeprefix("【有効期間】"), 3.6 * s, ALIGN_CENTER
    )
    top, rh = rows.take(4.2)
    canvas.text(x0, top, iw, rh, "【利用ポイント】", 3.3 * s, ALIGN_CENTER)
    top, rh = rows.take(10.5)
    _points(canvas, x0, top, iw, rh, face)
    rows.take(0.5)
    top, _ = rows.take(q, scaled=False)
    _qr(canvas, face, x0 + (iw - q) / 2, top, q)
    rows.take(0.5)
    top, rh = rows.take(4.8)
    canvas.text(x0, top, iw, rh, face.number_line(), 3.7 * s, ALIGN_CENTER)
    top, rh = rows.take(4.3)
    canvas.text(x0, top, iw, rh, face.issued_line(), 3.3 * s, ALIGN_CENTER)
    top, rh = rows.take(8.2)
    canvas.text(x0, top, iw, rh, face.usable_at, 3.3 * s, ALIGN_CENTER | WRAP)
    rows.take(1.0)
    stamps_h = min(pad + ih - rows.y, 22.0)
    _stamps(canvas, x0, rows.y, iw, stamps_h, 2.0)


def paint_voucher(
    painter: QPainter, face: VoucherFace, rect_mm: QRectF, dots_per_mm: float
) -> None:
    """Paint one voucher into ``rect_mm`` (millimetres from the page's top-left corner).

    ``painter`` works in device dots, ``dots_per_mm`` of them per millimetre (the printer's or
    the PDF's resolution).  The arrangement follows the rectangle's shape (see module doc).
    """
    canvas = Canvas(painter, register_fonts(), dots_per_mm, QPointF(rect_mm.topLeft()))
    w, h = rect_mm.width(), rect_mm.height()
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    try:
        if w >= h:
            _sheet(canvas, face, w, h)
        elif w - 5.0 >= WIDE_RECEIPT_MM:
            _wide_receipt(canvas, face, w, h)
        else:
            _narrow_receipt(canvas, face, w, h)
    finally:
        painter.restore()
