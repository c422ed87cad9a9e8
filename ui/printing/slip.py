"""The customer's slip (ご利用控え) after a point use, on a 58 or 80 mm receipt roll.

One QPainter path serves the receipt printer (QPrinter), the print preview and PDF files:
shop name, date and time (JST), the program, the points used, the new balance or
"オフライン受付（同期後に確定）", and the transaction number's short form. The slip is built from
the stored transaction only: nothing on it can come from the PIN.

The receipt printer is the printer chosen in 設定 when its paper is a 58 or 80 mm roll (the
screen maps that choice to a :class:`ReceiptChoice`); otherwise the slip is previewed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from PySide6.QtCore import QMarginsF, QPointF, QSizeF
from PySide6.QtGui import QPageLayout, QPageSize, QPainter, QPdfWriter
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo, QPrintPreviewDialog
from PySide6.QtWidgets import QWidget

from terminal.vouchers.layout import RECEIPT_DOTS_PER_MM
from ui.fonts import register_fonts
from ui.printing.canvas import ALIGN_CENTER, ALIGN_LEFT, ALIGN_RIGHT, Canvas
from ui.printing.errors import PrintError

log = logging.getLogger(__name__)

JST = ZoneInfo("Asia/Tokyo")
Width = Literal[58, 80]
#: printable width (mm) of each roll
PRINTABLE_MM: dict[int, float] = {58: 48.0, 80: 72.0}
OFFLINE_LINE = "オフライン受付（同期後に確定）"
TOP_MM = 4.0
BOTTOM_MM = 8.0  # room for the cutter


def short_number(transaction_id: UUID) -> str:
    """The transaction number as printed: the last 8 hex digits, ``9F3A-12C4`` (random bits
    of the UUIDv7, so two slips of the same minute differ; the CSV carries the full ID)."""
    tail = transaction_id.hex[-8:].upper()
    return f"{tail[:4]}-{tail[4:]}"


@dataclass(frozen=True)
class SlipData:
    """Everything printed on one slip."""

    shop_name: str
    at: datetime
    program_name: str
    points: int
    #: the balance after the use (None: offline, settled at the next sync)
    balance: int | None
    offline: bool
    transaction_id: UUID

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) rows of the slip's body, in print order."""
        rows = [
            ("日時", f"{self.at.astimezone(JST):%Y/%m/%d %H:%M} JST"),
            ("ポイント", self.program_name),
            ("ご利用", f"{self.points:,} pt"),
        ]
        if self.offline or self.balance is None:
            rows.append(("残高", OFFLINE_LINE))
        else:
            rows.append(("ご利用後の残高", f"{self.balance:,} pt"))
        rows.append(("取引番号", short_number(self.transaction_id)))
        return rows


@dataclass(frozen=True)
class ReceiptChoice:
    """The receipt printer (None: the system's default printer) and its roll width."""

    printer: str | None = None
    width_mm: Width = 80


def _paint(canvas: Canvas | None, data: SlipData, width_mm: Width) -> float:
    """Paint the slip (or only measure it when ``canvas`` is None); returns its height (mm)."""
    w = PRINTABLE_MM[width_mm]
    narrow = width_mm == 58
    body = 3.0 if narrow else 3.4
    y = TOP_MM

    def text(h: float, value: str, size: float, flags: int, x: float = 0.0, wid: float = w) -> None:
        if canvas is not None:
            canvas.text(x, y, wid, h, value, size, flags)

    text(7.0, data.shop_name, 5.0 if narrow else 5.6, ALIGN_CENTER)
    y += 7.5
    text(5.0, "ポイントご利用控え", body + 0.4, ALIGN_CENTER)
    y += 6.0
    if canvas is not None:
        canvas.line(0, y, w, y, line_mm=0.3)
    y += 2.0
    label_w = w * (0.38 if narrow else 0.34)
    for label, value in data.lines():
        big = label == "ご利用"
        h = 8.0 if big else body + 2.0
        if value == OFFLINE_LINE:
            text(h, label, body, ALIGN_LEFT, 0.0, label_w)
            y += h
            text(h, value, body, ALIGN_CENTER)  # a whole line: it must be read in full
        else:
            text(h, label, body, ALIGN_LEFT, 0.0, label_w)
            text(h, value, 6.0 if big else body, ALIGN_RIGHT, label_w, w - label_w)
        y += h + 0.6
    y += 1.0
    if canvas is not None:
        canvas.line(0, y, w, y, line_mm=0.3)
    y += 2.0
    text(5.0, "ご利用ありがとうございました", body, ALIGN_CENTER)
    y += 5.0
    return y + BOTTOM_MM


def slip_height_mm(data: SlipData, width_mm: Width) -> float:
    """How long the slip is on the roll (mm)."""
    return _paint(None, data, width_mm)


def slip_page_layout(data: SlipData, width_mm: Width) -> QPageLayout:
    """The roll's width by the slip's length, no margins."""
    size = QPageSize(
        QSizeF(float(width_mm), slip_height_mm(data, width_mm)),
        QPageSize.Unit.Millimeter,
        f"receipt-{width_mm}",
    )
    return QPageLayout(
        size,
        QPageLayout.Orientation.Portrait,
        QMarginsF(0, 0, 0, 0),
        QPageLayout.Unit.Millimeter,
    )


def print_slip(data: SlipData, device: QPrinter | QPdfWriter, width_mm: Width) -> None:
    """Paint the slip on ``device`` (its page should be :func:`slip_page_layout`)."""
    family = register_fonts()
    if isinstance(device, QPrinter):
        device.setFullPage(True)
    painter = QPainter()
    if not painter.begin(device):
        raise PrintError("the receipt printer could not be opened (QPainter.begin failed)")
    try:
        left = (width_mm - PRINTABLE_MM[width_mm]) / 2
        dots_per_mm = device.logicalDpiX() / 25.4
        _paint(Canvas(painter, family, dots_per_mm, QPointF(left, 0.0)), data, width_mm)
    finally:
        painter.end()
    log.info("printed a slip (%d mm)", width_mm)


def configure_slip_printer(printer: QPrinter, data: SlipData, width_mm: Width) -> None:
    """Put ``printer`` on the slip's paper, full page."""
    if not printer.setPageLayout(slip_page_layout(data, width_mm)):
        log.warning("printer %s refused the %d mm slip paper", printer.printerName(), width_mm)
    printer.setFullPage(True)
    printer.setDocName("ご利用控え")


def receipt_printer(choice: ReceiptChoice) -> QPrinter | None:
    """A QPrinter on the chosen receipt printer (None: it is not installed, or no printer is)."""
    installed = QPrinterInfo.availablePrinterNames()
    if choice.printer is not None and choice.printer not in installed:
        log.warning("receipt printer %r is not installed", choice.printer)
        return None
    if choice.printer is None and not installed:
        log.warning("no printer is installed")
        return None
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    if choice.printer is not None:
        printer.setPrinterName(choice.printer)
    return printer


def slip_preview(
    data: SlipData, width_mm: Width, parent: QWidget | None = None
) -> QPrintPreviewDialog:
    """A print preview of the slip; its print button uses the same painter."""
    dialog = QPrintPreviewDialog(parent)
    dialog.setWindowTitle("ご利用控えの印刷プレビュー / Slip preview")
    configure_slip_printer(dialog.printer(), data, width_mm)

    def paint(printer: QPrinter) -> None:
        print_slip(data, printer, width_mm)

    dialog.paintRequested.connect(paint)
    return dialog


def write_slip_pdf(data: SlipData, path: Path | str, width_mm: Width = 80) -> Path:
    """The slip as a PDF at the thermal printer's resolution (font embedded)."""
    target = Path(path)
    writer = QPdfWriter(str(target))
    writer.setResolution(round(RECEIPT_DOTS_PER_MM * 25.4))
    if not writer.setPageLayout(slip_page_layout(data, width_mm)):
        raise PrintError(f"the PDF writer refused the {width_mm} mm slip paper")
    writer.setTitle("ご利用控え")
    writer.setCreator("MyKey point terminal")
    print_slip(data, writer, width_mm)
    del writer
    if not target.is_file() or target.stat().st_size == 0:
        raise PrintError(f"the PDF was not written: {target}")
    return target
