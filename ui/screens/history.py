"""履歴・精算: today's and this month's transactions from the local store with each row's sync
state, the settlement totals, a daily-totals chart, and the settlement for the office as CSV and
as a PDF statement (精算書)."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from sync.protocol import TransactionKind
from terminal.services.history import COUNTED, UNSYNCED, day_range, history, month_range, totals
from terminal.store import OutboxRow
from ui.card_worker import CardWorker
from ui.context import AppServices
from ui.printing.errors import PrintError
from ui.printing.settlement import Settlement, write_settlement_pdf
from ui.screens.base import Screen
from ui.screens.chart import DailyChart
from ui.screens.labels import kind_text, row_mykey, state_text
from ui.sound import Sounds
from ui.text import tr
from ui.widgets import big_label, button

JST = ZoneInfo("Asia/Tokyo")
CSV_HEADER = ["time_jst", "transaction_id", "kind", "points", "state", "offline", "mykey_id"]


def daily_totals(rows: list[OutboxRow], year: int, month: int) -> list[tuple[int, int, int]]:
    """(day, points used, points granted) for every day of the month (counted rows only)."""
    used: dict[int, int] = defaultdict(int)
    granted: dict[int, int] = defaultdict(int)
    for row in rows:
        if row.state not in COUNTED and row.state not in UNSYNCED:
            continue
        day = row.created_at.astimezone(JST).day
        if row.kind is TransactionKind.POINT_USE:
            used[day] += row.points
        elif row.kind is TransactionKind.GRANT:
            granted[day] += row.points
    start, end = month_range(year, month)
    days = (end - start).days
    return [(d, used[d], granted[d]) for d in range(1, days + 1)]


def write_csv(rows: list[OutboxRow], path: Path) -> None:
    """The rows as CSV (UTF-8 with BOM, so spreadsheet programs read the Japanese)."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for r in reversed(rows):  # oldest first
            writer.writerow(
                [
                    r.created_at.astimezone(JST).isoformat(timespec="seconds"),
                    str(r.id),
                    r.kind.value,
                    r.points,
                    r.state.value,
                    int(r.transaction.offline),
                    row_mykey(r),
                ]
            )


class HistoryScreen(Screen):
    """History and settlement totals."""

    def __init__(self, services: AppServices, worker: CardWorker, sounds: Sounds) -> None:
        super().__init__(services, worker, sounds)
        self.period = "month"
        self.period_text = ""
        self.rows: list[OutboxRow] = []
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.periods = QButtonGroup(self)
        for key, label in (("today", tr("今日")), ("month", tr("今月"))):
            choice = QPushButton(label)
            choice.setObjectName("mode")
            choice.setCheckable(True)
            choice.setChecked(key == self.period)
            choice.clicked.connect(lambda _=False, k=key: self.show_period(k))
            self.periods.addButton(choice)
            top.addWidget(choice)
        self.title = big_label("", role="section")
        top.addWidget(self.title, 1)
        export = button(tr("CSVで保存"))
        export.clicked.connect(self.export)
        top.addWidget(export)
        export_pdf = button(tr("精算書をPDFで保存"))
        export_pdf.clicked.connect(self.export_pdf)
        top.addWidget(export_pdf)
        layout.addLayout(top)
        self.summary = big_label("", role="prompt")
        layout.addWidget(self.summary)
        self.chart = DailyChart()
        layout.addWidget(self.chart)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(
            [tr("時刻"), tr("種類"), tr("ポイント"), tr("状態"), tr("マイキーID")]
        )
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)  # 状態: the widest text
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(90)
        layout.addWidget(self.table, 1)
        self.saved = big_label("", role="hint")
        layout.addWidget(self.saved)

    def activate(self) -> None:
        """Reload from the store."""
        self.show_period(self.period)

    def today(self) -> date:
        """Today in JST by the counter's clock."""
        return self.counter.clock().astimezone(JST).date()

    def show_period(self, period: str) -> None:
        """``today`` or ``month``."""
        self.period = period
        today = self.today()
        if period == "today":
            start, end = day_range(today)
            self.period_text = today.strftime("%Y年%m月%d日")
            self.title.setText(today.strftime(tr("%Y年%m月%d日")))
        else:
            start, end = month_range(today.year, today.month)
            self.period_text = today.strftime("%Y年%m月")
            self.title.setText(today.strftime(tr("%Y年%m月")))
        self.rows = history(self.counter, start, end)
        t = totals(self.rows)
        self.summary.setText(
            tr(
                "取引 {n}件　利用 {u:,} pt　付与 {g:,} pt　券発行 {v:,} pt　券受付 {r}枚\n"
                "未送信 {s}件　オフライン受付 {o}件　却下 {x}件"
            ).format(
                n=t.transactions,
                u=t.points_used,
                g=t.points_granted,
                v=t.points_in_vouchers,
                r=t.vouchers_redeemed,
                s=t.unsynced,
                o=t.offline,
                x=t.refused,
            )
        )
        month_rows = (
            self.rows
            if period == "month"
            else history(self.counter, *month_range(today.year, today.month))
        )
        self.chart.set_days(daily_totals(month_rows, today.year, today.month))
        self.table.setRowCount(len(self.rows))
        for index, row in enumerate(self.rows):
            cells = [
                row.created_at.astimezone(JST).strftime("%m/%d %H:%M:%S"),
                kind_text(row.kind),
                f"{row.points:,}",
                state_text(row),
                row_mykey(row),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 2:  # points: right-aligned, as on a receipt
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(index, column, item)

    def export(self) -> None:
        """Ask where, then write the shown rows as CSV."""
        name = f"mykey-{self.period}-{datetime.now(JST):%Y%m%d}.csv"
        path, _ = QFileDialog.getSaveFileName(self, tr("CSVで保存"), name, "CSV (*.csv)")
        if path:
            write_csv(self.rows, Path(path))
            self.saved.setText(tr("保存しました: {p}").format(p=path))

    def settlement(self) -> Settlement:
        """The statement of the period shown."""
        counter = self.counter
        business = counter.store.business()
        identity = counter.identity
        return Settlement(
            shop_name=business.name if business is not None else identity.business_id,
            business_id=identity.business_id,
            terminal_id=identity.terminal_id,
            period=self.period_text,
            made_at=counter.clock(),
            rows=list(self.rows),
        )

    def export_pdf(self) -> None:
        """Ask where, then write the settlement statement of the shown period as a PDF."""
        name = f"mykey-settlement-{self.period}-{self.today():%Y%m%d}.pdf"
        path, _ = QFileDialog.getSaveFileName(self, tr("精算書をPDFで保存"), name, "PDF (*.pdf)")
        if not path:
            return
        try:
            write_settlement_pdf(self.settlement(), Path(path))
        except PrintError as error:
            self.saved.setText(f"{error.message_ja}\n{error.message_en}")
            self.sounds.failure()
            return
        self.saved.setText(tr("精算書を保存しました: {p}").format(p=path))
