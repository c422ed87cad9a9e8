"""Millimetre drawing on a QPainter that works in device dots (printer or PDF resolution).

Everything printed is laid out in millimetres from a box's top-left corner; this converts to the
device's dots, picks fonts by height in millimetres and shrinks text that would not fit its box.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

MM_PER_POINT = 25.4 / 72

ALIGN_LEFT = int(Qt.AlignmentFlag.AlignLeft.value | Qt.AlignmentFlag.AlignVCenter.value)
ALIGN_RIGHT = int(Qt.AlignmentFlag.AlignRight.value | Qt.AlignmentFlag.AlignVCenter.value)
ALIGN_CENTER = int(Qt.AlignmentFlag.AlignCenter.value)
WRAP = int(Qt.TextFlag.TextWordWrap.value)


class Canvas:
    """Draws in millimetres relative to ``origin_mm`` on a painter whose unit is one device dot."""

    def __init__(
        self, painter: QPainter, family: str, dots_per_mm: float, origin_mm: QPointF
    ) -> None:
        self.painter = painter
        self.family = family
        self.dots_per_mm = dots_per_mm
        self.origin = origin_mm

    def dots(self, mm: float) -> float:
        """Millimetres to device dots."""
        return mm * self.dots_per_mm

    def rect(self, x: float, y: float, w: float, h: float) -> QRectF:
        """A rectangle in millimetres (relative to the origin) as device dots."""
        d = self.dots_per_mm
        return QRectF((self.origin.x() + x) * d, (self.origin.y() + y) * d, w * d, h * d)

    def font(self, size_mm: float) -> QFont:
        """The bundled font with an em height of ``size_mm`` millimetres."""
        font = QFont(self.family)
        font.setPointSizeF(max(size_mm, 0.5) / MM_PER_POINT)
        font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
        font.setKerning(True)
        return font

    def _fits(self, rect: QRectF, flags: int, text: str, size_mm: float) -> QRectF:
        metrics = QFontMetricsF(self.font(size_mm), self.painter.device())
        return metrics.boundingRect(rect, flags, text)

    def fitted_size(self, rect: QRectF, flags: int, text: str, size_mm: float) -> float:
        """The largest size up to ``size_mm`` at which ``text`` fits ``rect`` (device dots)."""
        size = size_mm
        for _ in range(30):
            bounds = self._fits(rect, flags, text, size)
            too_wide = bounds.width() > rect.width() + 0.5
            too_tall = bounds.height() > rect.height() * 1.05 + 0.5
            if not too_wide and not too_tall:
                return size
            ratio = 0.97
            if too_wide and not flags & WRAP:
                ratio = min(ratio, rect.width() / bounds.width())
            size *= ratio
        return size

    def text(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        text: str,
        size_mm: float,
        flags: int = ALIGN_LEFT,
        color: QColor | None = None,
    ) -> float:
        """Draw ``text`` in the box, shrunk if needed to fit; returns the size used (mm)."""
        rect = self.rect(x, y, w, h)
        size = self.fitted_size(rect, flags, text, size_mm)
        self.painter.setFont(self.font(size))
        self.painter.setPen(color if color is not None else QColor("black"))
        self.painter.drawText(rect, flags, text)
        return size

    def advance(self, text: str, size_mm: float) -> float:
        """Width of ``text`` in millimetres at ``size_mm``."""
        metrics = QFontMetricsF(self.font(size_mm), self.painter.device())
        return metrics.horizontalAdvance(text) / self.dots_per_mm

    def box(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        line_mm: float = 0.3,
        radius_mm: float = 0.0,
        color: QColor | None = None,
        style: Qt.PenStyle = Qt.PenStyle.SolidLine,
        fill: QColor | None = None,
    ) -> None:
        """A rectangle outline (optionally rounded, dashed or filled)."""
        pen = QPen(color if color is not None else QColor("black"))
        pen.setWidthF(self.dots(line_mm))
        pen.setStyle(style)
        self.painter.setPen(pen)
        if fill is not None:
            self.painter.setBrush(fill)
        else:
            self.painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = self.rect(x, y, w, h)
        if radius_mm > 0:
            r = self.dots(radius_mm)
            self.painter.drawRoundedRect(rect, r, r)
        else:
            self.painter.drawRect(rect)
        self.painter.setBrush(Qt.BrushStyle.NoBrush)

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        *,
        line_mm: float = 0.2,
        color: QColor | None = None,
        style: Qt.PenStyle = Qt.PenStyle.SolidLine,
    ) -> None:
        """A straight line between two points given in millimetres."""
        pen = QPen(color if color is not None else QColor("black"))
        pen.setWidthF(self.dots(line_mm))
        pen.setStyle(style)
        self.painter.setPen(pen)
        d = self.dots_per_mm
        ox, oy = self.origin.x(), self.origin.y()
        self.painter.drawLine(
            QPointF((ox + x1) * d, (oy + y1) * d), QPointF((ox + x2) * d, (oy + y2) * d)
        )
