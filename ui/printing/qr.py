"""QR codes drawn as vector squares whose edges fall on whole printer dots.

The matrix comes from the ``qrcode`` library (error correction M, any version that fits); the
painter draws one filled path of dark runs, so a PDF stays small and a printer rasterises each
module to the same number of dots (no blurred or uneven modules on a 203 dpi receipt printer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import qrcode  # type: ignore[import-untyped]
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath

#: Light modules required around the symbol (ISO/IEC 18004).
QUIET_ZONE = 4


@dataclass(frozen=True)
class QrMatrix:
    """The dark/light modules of one QR symbol, without quiet zone; ``rows[y][x]`` is dark."""

    rows: tuple[tuple[bool, ...], ...]
    version: int

    @property
    def size(self) -> int:
        """Modules per side (21 for version 1, +4 per version)."""
        return len(self.rows)

    @property
    def size_with_quiet_zone(self) -> int:
        """Modules per side including the quiet zone on both sides."""
        return self.size + 2 * QUIET_ZONE


def qr_matrix(text: str) -> QrMatrix:
    """Encode ``text`` at error correction level M in the smallest version that holds it."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(text)
    code.make(fit=True)
    rows = tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())
    return QrMatrix(rows=rows, version=int(code.version))


def module_dots(matrix: QrMatrix, box_dots: float, *, max_dots: int | None = None) -> int:
    """The largest whole number of dots per module for which symbol + quiet zone fit the box."""
    dots = math.floor(box_dots / matrix.size_with_quiet_zone + 1e-9)
    if max_dots is not None:
        dots = min(dots, max_dots)
    return max(dots, 1)


def paint_qr(painter: QPainter, matrix: QrMatrix, top_left: QPointF, module: int) -> QRectF:
    """Draw the symbol with its quiet zone from ``top_left`` (device dots), ``module`` dots each.

    The origin is rounded to a whole dot, so every module edge lands on the printer's dot grid.
    Returns the rectangle taken, quiet zone included (in device dots).
    """
    x0 = round(top_left.x())
    y0 = round(top_left.y())
    side = matrix.size_with_quiet_zone * module
    area = QRectF(x0, y0, side, side)
    path = QPainterPath()
    path.setFillRule(Qt.FillRule.WindingFill)
    start = QUIET_ZONE * module
    for y, row in enumerate(matrix.rows):
        x = 0
        while x < matrix.size:
            if not row[x]:
                x += 1
                continue
            run = x
            while run < matrix.size and row[run]:
                run += 1
            path.addRect(
                x0 + start + x * module, y0 + start + y * module, (run - x) * module, module
            )
            x = run
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.fillRect(area, QColor("white"))
    painter.fillPath(path, QColor("black"))
    painter.restore()
    return area
