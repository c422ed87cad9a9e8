"""The settlement statement (精算書) for the office: one period's transactions of this terminal
as an A4 PDF, painted with the bundled font (embedded) through the same QPainter path as the
vouchers.

Page one starts with the shop, the terminal and the period, then the totals per kind (count and
points: applied, accepted offline or still unsent, as on the 履歴・精算 screen), the counts not
in the totals (refused and in conflict), then every row: time (JST), kind, points, sync state,
transaction number (short form). Rows run on over as many pages as needed, the column heads
repeated, each page numbered.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QMarginsF, QPointF
from PySide6.QtGui import QPageLayout, QPageSize, QPainter, QPdfWriter

from sync.protocol import TransactionKind
from terminal.services.history import COUNTED, UNSYNCED, totals
from terminal.store import OutboxRow, OutboxState
from ui.fonts import register_fonts
from ui.printing.canvas import ALIGN_LEFT, ALIGN_RIGHT, Canvas
from ui.printing.errors import PrintError
from ui.printing.slip import short_number
from ui.screens.labels import kind_text, state_text

log = logging.getLogger(__name__)

JST = ZoneInfo("Asia/Tokyo")
PAGE_MM = (210.0, 297.0)
MARGIN_MM = 15.0
ROW_MM = 6.0
TEXT_MM = 3.2
DPI = 300
#: the row table's columns: (head, width in mm, alignment)
COLUMNS: tuple[tuple[str, float, int], ...] = (
    ("日時", 42.0, ALIGN_LEFT),
    ("種類", 36.0, ALIGN_LEFT),
    ("ポイント", 26.0, ALIGN_RIGHT),
    ("同期状態", 46.0, ALIGN_LEFT),
    ("取引番号", 30.0, ALIGN_RIGHT),
)
KIND_ORDER = (
    TransactionKind.POINT_USE,
    TransactionKind.VOUCHER_REDEEM,
    TransactionKind.VOUCHER_ISSUE,
    TransactionKind.GRANT,
    TransactionKind.SERVICE_ID_LINK,
    TransactionKind.MYKEY_SETUP,
)


@dataclass(frozen=True)
class Settlement:
    """What one statement covers."""

    shop_name: str
    business_id: str
    terminal_id: str
    #: the period as printed: ``2026年11月`` or ``2026年11月24日``
    period: str
    made_at: datetime
    #: the period's rows (any order; printed oldest first)
    rows: Sequence[OutboxRow]


@dataclass(frozen=True)
class KindTotal:
    """One kind's line in the totals: counted rows and their points."""

    kind: TransactionKind
    count: int
    points: int


def kind_totals(rows: Sequence[OutboxRow]) -> list[KindTotal]:
    """Per kind, the rows that count (applied, accepted offline or unsent) and their points."""
    found: dict[TransactionKind, list[int]] = {}
    for row in rows:
        if row.state not in COUNTED and row.state not in UNSYNCED:
            continue
        entry = found.setdefault(row.kind, [0, 0])
        entry[0] += 1
        entry[1] += row.points
    order = [k for k in KIND_ORDER if k in found] + [k for k in found if k not in KIND_ORDER]
    return [KindTotal(k, found[k][0], found[k][1]) for k in order]


class _Pages:
    """Paints top to bottom, starting a new page when the next block does not fit."""

    def __init__(self, writer: QPdfWriter, painter: QPainter, family: str) -> None:
        self.writer = writer
        self.painter = painter
        self.canvas = Canvas(painter, family, writer.resolution() / 25.4, QPointF(0, 0))
        self.y = MARGIN_MM
        self.page = 1
        self.width = PAGE_MM[0] - 2 * MARGIN_MM

    def room(self, height: float) -> bool:
        """True when ``height`` mm still fit above the footer."""
        return self.y + height <= PAGE_MM[1] - MARGIN_MM - 8.0

    def footer(self) -> None:
        """This page's number at its bottom right."""
        bottom = PAGE_MM[1] - MARGIN_MM - 5.0
        self.canvas.text(
            MARGIN_MM, bottom, self.width, 5.0, f"{self.page} ページ", 3.0, ALIGN_RIGHT
        )

    def new_page(self) -> None:
        """Finish this page (its number) and start the next."""
        self.footer()
        if not self.writer.newPage():
            raise PrintError(f"could not start page {self.page + 1}")
        self.page += 1
        self.y = MARGIN_MM

    def text(self, text: str, size: float = TEXT_MM, height: float = ROW_MM) -> None:
        """A full-width line."""
        self.canvas.text(MARGIN_MM, self.y, self.width, height, text, size, ALIGN_LEFT)
        self.y += height

    def cells(self, cells: Sequence[str], *, bold_line: bool = False) -> None:
        """One table row in :data:`COLUMNS`."""
        x = MARGIN_MM
        for (_, width, align), text in zip(COLUMNS, cells, strict=True):
            self.canvas.text(x + 1.0, self.y, width - 2.0, ROW_MM, text, TEXT_MM, align)
            x += width
        self.y += ROW_MM
        self.canvas.line(
            MARGIN_MM, self.y, MARGIN_MM + self.width, self.y, line_mm=0.3 if bold_line else 0.1
        )


def _row_cells(row: OutboxRow) -> list[str]:
    return [
        row.created_at.astimezone(JST).strftime("%Y/%m/%d %H:%M:%S"),
        kind_text(row.kind),
        f"{row.points:,}",
        state_text(row),
        short_number(row.id),
    ]


def _header(pages: _Pages, s: Settlement) -> None:
    pages.text("ポイント取引 精算書", 6.0, 10.0)
    pages.text(f"{s.shop_name}（事業者 {s.business_id}・端末 {s.terminal_id}）", 3.8, 7.0)
    pages.text(f"対象期間: {s.period}（日本時間）", 3.8, 7.0)
    pages.text(f"作成: {s.made_at.astimezone(JST):%Y/%m/%d %H:%M} JST", TEXT_MM, ROW_MM)
    pages.y += 3.0


def _totals(pages: _Pages, s: Settlement) -> None:
    t = totals(s.rows)
    pages.text("種類別の合計（反映済み・オフライン受付・未送信を含む）", 4.0, 8.0)
    x = MARGIN_MM
    canvas = pages.canvas
    lines = kind_totals(s.rows)
    if not lines:
        pages.text("取引はありません。")
    for kind_total in lines:
        canvas.text(x + 1.0, pages.y, 60.0, ROW_MM, kind_text(kind_total.kind), TEXT_MM)
        canvas.text(
            x + 60.0, pages.y, 30.0, ROW_MM, f"{kind_total.count:,}件", TEXT_MM, ALIGN_RIGHT
        )
        canvas.text(
            x + 90.0, pages.y, 40.0, ROW_MM, f"{kind_total.points:,} pt", TEXT_MM, ALIGN_RIGHT
        )
        pages.y += ROW_MM
        canvas.line(x, pages.y, x + 130.0, pages.y, line_mm=0.1)
    pages.y += 2.0
    refused = sum(1 for r in s.rows if r.state is OutboxState.REJECTED)
    conflicts = sum(1 for r in s.rows if r.state is OutboxState.CONFLICT)
    pages.text(
        f"取引 {t.transactions}件　未送信 {t.unsynced}件　オフライン受付 {t.offline}件　"
        f"却下 {refused}件　競合 {conflicts}件（却下・競合は合計に含みません）"
    )
    pages.y += 4.0


def _rows(pages: _Pages, s: Settlement) -> None:
    heads = [head for head, _, _ in COLUMNS]
    pages.text("取引の一覧（古い順）", 4.0, 8.0)
    pages.cells(heads, bold_line=True)
    for row in sorted(s.rows, key=lambda r: (r.created_at, r.seq)):
        if not pages.room(ROW_MM):
            pages.new_page()
            pages.text(f"{s.shop_name}　{s.period}（続き）", TEXT_MM)
            pages.cells(heads, bold_line=True)
        pages.cells(_row_cells(row))


def paint_settlement(writer: QPdfWriter, settlement: Settlement) -> int:
    """Paint the statement on ``writer`` (A4 set); returns the number of pages."""
    family = register_fonts()
    painter = QPainter()
    if not painter.begin(writer):
        raise PrintError("the PDF could not be opened (QPainter.begin failed)")
    try:
        pages = _Pages(writer, painter, family)
        _header(pages, settlement)
        _totals(pages, settlement)
        _rows(pages, settlement)
        pages.footer()
    finally:
        painter.end()
    return pages.page


def write_settlement_pdf(settlement: Settlement, path: Path | str) -> Path:
    """Write the statement as an A4 PDF (the bundled font embedded); returns the path."""
    target = Path(path)
    writer = QPdfWriter(str(target))
    writer.setResolution(DPI)
    layout = QPageLayout(
        QPageSize(QPageSize.PageSizeId.A4),
        QPageLayout.Orientation.Portrait,
        QMarginsF(0, 0, 0, 0),
        QPageLayout.Unit.Millimeter,
    )
    if not writer.setPageLayout(layout):
        raise PrintError("the PDF writer refused A4")
    writer.setTitle(f"精算書 {settlement.period}")
    writer.setCreator("MyKey point terminal")
    count = paint_settlement(writer, settlement)
    del writer
    if not target.is_file() or target.stat().st_size == 0:
        raise PrintError(f"the PDF was not written: {target}")
    log.info("settlement PDF of %d rows on %d page(s)", len(settlement.rows), count)
    return target
