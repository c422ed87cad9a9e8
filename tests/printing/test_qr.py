"""The QR code is drawn at whole device dots: every module is a solid block of its colour."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication

from ui.printing.qr import QUIET_ZONE, module_dots, paint_qr, qr_matrix

pytestmark = pytest.mark.gui

PAYLOAD = "PV1:" + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:" * 3


def test_level_m_matrix_of_a_voucher_sized_payload() -> None:
    matrix = qr_matrix(PAYLOAD)
    assert matrix.version <= 7
    assert matrix.size == 17 + 4 * matrix.version
    assert matrix.size_with_quiet_zone == matrix.size + 2 * QUIET_ZONE


def test_module_dots_is_the_largest_whole_number_that_fits() -> None:
    matrix = qr_matrix(PAYLOAD)
    n = matrix.size_with_quiet_zone
    assert module_dots(matrix, n * 4 + 3) == 4
    assert module_dots(matrix, n * 4) == 4
    assert module_dots(matrix, n * 4 - 1) == 3
    assert module_dots(matrix, n * 9, max_dots=6) == 6
    assert module_dots(matrix, 10) == 1  # never zero


def test_every_module_lands_on_whole_dots(qapp: QApplication) -> None:
    matrix = qr_matrix(PAYLOAD)
    module = 3
    side = matrix.size_with_quiet_zone * module
    image = QImage(side + 20, side + 20, QImage.Format.Format_Grayscale8)
    image.fill(QColor(128, 128, 128))
    painter = QPainter(image)
    area = paint_qr(painter, matrix, QPointF(10.4, 9.6), module)  # rounded to (10, 10)
    painter.end()
    assert (area.x(), area.y(), area.width()) == (10, 10, side)
    start = 10 + QUIET_ZONE * module
    for y in range(matrix.size):
        for x in range(matrix.size):
            want = 0 if matrix.rows[y][x] else 255
            for dy in range(module):
                for dx in range(module):
                    got = image.pixelColor(start + x * module + dx, start + y * module + dy)
                    assert got.value() == want, (x, y)
    for i in range(side):  # the quiet zone is white all round
        assert image.pixelColor(10 + i, 10).value() == 255
        assert image.pixelColor(10, 10 + i).value() == 255
