"""A daily-totals bar chart drawn with QPainter (points used and granted per day)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from ui.text import tr

USED = QColor("#1f5fbf")
GRANTED = QColor("#0b7a32")


class DailyChart(QWidget):
    """Bars per day: ``days`` is [(day of month, points used, points granted)]."""

    def __init__(self) -> None:
        super().__init__()
        self.days: list[tuple[int, int, int]] = []
        self.setMinimumHeight(200)

    def set_days(self, days: list[tuple[int, int, int]]) -> None:
        """New data; repaints."""
        self.days = days
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        """Axes, bars, day numbers, a legend."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().windowText().color()
        top = max([max(u, g) for _, u, g in self.days] + [1])
        # room for the largest value's label at any text size
        margin_left = painter.fontMetrics().horizontalAdvance(f"{top:,}") + 16.0
        margin_bottom, margin_top = 28.0, 30.0
        width, height = float(self.width()), float(self.height())
        plot = QRectF(
            margin_left, margin_top, width - margin_left - 10, height - margin_top - margin_bottom
        )
        painter.setPen(text)
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.drawLine(plot.bottomLeft(), plot.topLeft())
        painter.drawText(
            QRectF(0, margin_top - 10, margin_left - 6, 20),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            f"{top:,}",
        )
        painter.drawText(
            QRectF(0, plot.bottom() - 10, margin_left - 6, 20),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            "0",
        )
        count = max(len(self.days), 1)
        slot = plot.width() / count
        bar = max(slot / 2.6, 1.0)
        for index, (day, used, granted) in enumerate(self.days):
            x = plot.left() + index * slot + slot / 2 - bar
            for offset, value, colour in ((0.0, used, USED), (bar, granted, GRANTED)):
                h = plot.height() * value / top
                painter.fillRect(QRectF(x + offset, plot.bottom() - h, bar, h), colour)
            if count <= 16 or day % 5 == 0 or day == 1:
                painter.drawText(
                    QRectF(plot.left() + index * slot, plot.bottom() + 2, slot, margin_bottom - 4),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                    str(day),
                )
        legend_x = plot.left() + 10
        for label, colour in ((tr("利用"), USED), (tr("付与"), GRANTED)):
            painter.fillRect(QRectF(legend_x, 6, 16, 16), colour)
            painter.drawText(
                QRectF(legend_x + 22, 2, 120, 24), Qt.AlignmentFlag.AlignVCenter, label
            )
            legend_x += 120
        painter.end()
