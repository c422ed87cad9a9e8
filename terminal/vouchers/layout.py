"""What is printed on a voucher and where vouchers sit on paper: plain data, no Qt.

The face follows the source material's voucher (DOMAIN.md §5): title, point program name,
validity dates, points in large type, issue date, voucher number, where it can be used, the
stamp boxes 発行認印 and 利用店舗印, and the QR code. The renderer (``ui.printing``) draws a
:class:`VoucherFace` into one voucher rectangle of a :class:`PaperLayout`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

TITLE = "★★★ポイント券★★★"
REISSUE_MARK = "再発行"
ISSUER_STAMP = "発行認印"
SHOP_STAMP = "利用店舗印"
#: printer resolutions: office printers at 600 dpi, thermal receipt printers at 203 dpi
OFFICE_DOTS_PER_MM = 600 / 25.4
RECEIPT_DOTS_PER_MM = 8.0


def usable_at_text(street_name: str | None) -> str:
    """The line saying where the voucher can be used."""
    return f"★{street_name or '商店街'}の各店舗でご利用頂けます。"


def _ja_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class VoucherFace:
    """Everything printed on one voucher."""

    title: str
    program_name: str
    points: int
    valid_from: date
    valid_until: date
    issued_on: date
    number: str
    usable_at: str
    payload: str
    reissue: bool = False

    def validity_line(self) -> str:
        """【有効期間】2016年12月15日～2016年12月17日"""
        return f"【有効期間】{_ja_date(self.valid_from)}～{_ja_date(self.valid_until)}"

    def points_text(self) -> str:
        """The points as printed large: "2,420"."""
        return f"{self.points:,}"

    def issued_line(self) -> str:
        """発行日：2016/12/15"""
        return f"発行日：{self.issued_on:%Y/%m/%d}"

    def number_line(self) -> str:
        """発券番号：1234567890123"""
        return f"発券番号：{self.number}"


@dataclass(frozen=True)
class PaperLayout:
    """A paper size and where each voucher goes on one page (millimetres from the top left)."""

    name: str
    page_mm: tuple[float, float]
    voucher_mm: tuple[float, float]
    origins_mm: list[tuple[float, float]]
    cut_marks: bool
    dots_per_mm: float

    @property
    def per_page(self) -> int:
        """How many vouchers one page holds."""
        return len(self.origins_mm)


def a4_sheet() -> PaperLayout:
    """A4 portrait, 2 × 4 vouchers of 90 × 65 mm centred, with cut marks (office printer)."""
    page = (210.0, 297.0)
    size = (90.0, 65.0)
    columns, rows = 2, 4
    left = (page[0] - columns * size[0]) / 2
    top = (page[1] - rows * size[1]) / 2
    origins = [
        (left + column * size[0], top + row * size[1])
        for row in range(rows)
        for column in range(columns)
    ]
    return PaperLayout("a4", page, size, origins, True, OFFICE_DOTS_PER_MM)


def receipt(width_mm: Literal[58, 80]) -> PaperLayout:
    """One voucher on receipt paper (printable 48 mm of 58, 72 mm of 80), 5 mm top margin."""
    printable = {58: 48.0, 80: 72.0}[width_mm]
    size = (printable, 100.0 if width_mm == 58 else 90.0)
    margin = 5.0
    page = (float(width_mm), size[1] + 2 * margin)
    origins = [((width_mm - printable) / 2, margin)]
    return PaperLayout(f"receipt-{width_mm}", page, size, origins, False, RECEIPT_DOTS_PER_MM)
