"""The history screen's daily chart: its axis label stays readable at any text size."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from ui.screens.chart import DailyChart


def test_largest_value_label_is_drawn_whole_at_a_large_text_size(qtbot: QtBot) -> None:
    chart = DailyChart()
    qtbot.addWidget(chart)
    chart.setStyleSheet("font-size: 28px")  # 設定 → 文字の大きさ: 特大 (huge)
    chart.resize(900, 300)
    chart.set_days([(1, 1_234_567, 0), (2, 0, 5)])
    image = chart.grab().toImage()
    background = image.pixelColor(image.width() - 1, image.height() // 2).rgb()

    def inked(x: int, y: int) -> bool:
        return image.pixelColor(x, y).rgb() != background

    # the y axis: the first inked column at mid-height; the top label lies left of it
    axis = next(x for x in range(image.width()) if inked(x, image.height() // 2))
    columns = [x for x in range(axis) if any(inked(x, y) for y in range(image.height() // 3))]
    drawn_width = max(columns) - min(columns) + 1
    assert drawn_width >= 0.9 * chart.fontMetrics().horizontalAdvance("1,234,567")
