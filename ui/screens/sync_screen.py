"""同期: what waits to be sent, what the server refused or found in conflict (both sides named),
retry now, and the last error in plain words."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from sync.engine import SyncReport
from sync.protocol import BusinessInfo
from terminal.store import OutboxRow, OutboxState
from ui.background import BackgroundCall
from ui.card_worker import CardWorker
from ui.context import AppServices
from ui.failure import Failure
from ui.screens.base import Screen
from ui.screens.labels import kind_text, state_text
from ui.sound import Sounds
from ui.status_bar import jst_text
from ui.text import tr
from ui.widgets import big_label, button, set_role

QUEUE_LIMIT = 200


def side_text(business_id: str, own: BusinessInfo | None) -> str:
    """One side of a conflict: this shop by name (当店), another by its business ID."""
    if own is not None and business_id == own.business_id:
        return tr("当店 {name}").format(name=own.name or business_id)
    return business_id


def problem_text(row: OutboxRow, own: BusinessInfo | None = None) -> str:
    """Why the server refused a row (its own words), or the two sides of a conflict."""
    result = row.result
    if result is None:
        return row.last_error or ""
    if result.conflict is not None:
        c = result.conflict
        return tr(
            "ポイント券 {n} が二重に使われました\n1回目 {b1}（{t1}）\n2回目 {b2}（{t2}）"
        ).format(
            n=c.voucher_number,
            b1=side_text(c.first.business_id, own),
            t1=jst_text(c.first.terminal_time),
            b2=side_text(c.second.business_id, own),
            t2=jst_text(c.second.terminal_time),
        )
    return result.message_ja or result.reason or ""


def problem_text_en(row: OutboxRow) -> str:
    """The server's English words for a refused row (shown as the cell's tooltip)."""
    result = row.result
    if result is None or result.conflict is not None:
        return ""
    return result.message_en or ""


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    for column in range(len(headers) - 1):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
    table.setWordWrap(True)  # the last column (the reason) wraps instead of running off
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setMinimumHeight(90)  # the tables give way first; the messages above stay whole
    return table


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            table.setItem(r, c, QTableWidgetItem(text))


class SyncScreen(Screen):
    """The sync screen."""

    def __init__(self, services: AppServices, worker: CardWorker, sounds: Sounds) -> None:
        super().__init__(services, worker, sounds)
        self.runner = BackgroundCall("mykey-sync-now")
        self.runner.done.connect(self._done)
        self.runner.failed.connect(self._failed)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.summary = big_label("", role="prompt")
        self.sync_button = button(tr("今すぐ同期 (Enter)"), role="primary")
        self.sync_button.clicked.connect(self.sync_now)
        top.addWidget(self.summary, 1)
        top.addWidget(self.sync_button)
        layout.addLayout(top)
        self.result = big_label("", role="ok")
        self.result.setVisible(False)
        self.error = big_label("", role="prompt")
        self.error_en = big_label("", role="hint")
        layout.addWidget(self.result)
        layout.addWidget(self.error)
        layout.addWidget(self.error_en)
        layout.addWidget(big_label(tr("送信待ち"), role="section"))
        self.queue = _table([tr("時刻"), tr("種類"), tr("ポイント"), tr("状態"), tr("送信回数")])
        layout.addWidget(self.queue, 1)
        layout.addWidget(big_label(tr("確認が必要な取引（却下・競合）"), role="section"))
        self.problems_hint = big_label(
            tr("却下・競合の取引は、理由を確認して商店街事務局にご相談ください。"), role="hint"
        )
        layout.addWidget(self.problems_hint)
        self.problems = _table([tr("時刻"), tr("種類"), tr("ポイント"), tr("状態"), tr("理由")])
        layout.addWidget(self.problems, 1)

    def activate(self) -> None:
        """Show the current state."""
        self.refresh()

    def refresh(self) -> None:
        """Read queue, problems and sync state from the store."""
        if self.services.counter is None:
            return
        store = self.counter.store
        state = store.sync_state()
        pending = store.unsynced_count()
        self.summary.setText(
            tr("未送信 {n}件　最終同期 {t}").format(n=pending, t=jst_text(state.last_success_at))
        )
        ja, _, en = (state.last_error or "").partition(" / ")
        if ja:
            self.error.setText(
                tr("前回の同期エラー（{t}）: {e}").format(t=jst_text(state.last_error_at), e=ja)
            )
        else:
            self.error.setText("")
        self.error_en.setText(en)
        self.error.setVisible(bool(ja))
        self.error_en.setVisible(bool(en))
        unsynced = [
            r
            for r in store.rows(limit=QUEUE_LIMIT * 5)
            if r.state in (OutboxState.PENDING, OutboxState.SENT)
        ][:QUEUE_LIMIT]
        _fill(
            self.queue,
            [
                [
                    jst_text(r.created_at),
                    kind_text(r.kind),
                    f"{r.points:,}",
                    state_text(r),
                    str(r.attempts),
                ]
                for r in unsynced
            ],
        )
        problems = store.problems()
        own = store.business()
        _fill(
            self.problems,
            [
                [
                    jst_text(r.created_at),
                    kind_text(r.kind),
                    f"{r.points:,}",
                    state_text(r),
                    problem_text(r, own),
                ]
                for r in problems
            ],
        )
        for index, row in enumerate(problems):
            item = self.problems.item(index, 4)
            if item is not None:
                item.setToolTip(problem_text_en(row) or item.text())
        self.problems_hint.setVisible(bool(problems))
        self.sync_button.setEnabled(self.services.engine is not None and not self.runner.busy)

    def sync_now(self) -> None:
        """Push and pull now (the background thread is woken if it runs)."""
        engine = self.services.engine
        if engine is None:
            return
        self._say("prompt")
        self.result.setText(tr("同期しています…"))
        if engine.running:
            engine.wake()
            return
        if self.runner.start(engine.sync_now):
            self.sync_button.setEnabled(False)

    def _done(self, report: Any) -> None:
        self.refresh()
        if isinstance(report, SyncReport) and report.error is None:
            self.services.online = True
            text = tr("同期しました: 送信 {p}件（反映 {a}件、却下 {r}件、競合 {c}件）").format(
                p=report.pushed,
                a=report.applied + report.accepted_offline,
                r=report.rejected,
                c=report.conflicts,
            )
            if report.rejected or report.conflicts:
                self._say("warn")
                text += "\n" + tr("確認が必要な取引があります（下の一覧）。")
                self.sounds.failure()
            else:
                self._say("ok")
                self.sounds.success()
            self.result.setText(text)
        else:
            self.services.online = False
            self._say("bad")
            self.result.setText(tr("同期できませんでした。通信が戻ると自動で再送します。"))
            self.sounds.failure()

    def _failed(self, failure: Failure) -> None:
        self.refresh()
        self._say("bad")
        self.result.setText(failure.message_ja)
        self.sounds.failure()

    def _say(self, role: str) -> None:
        """Show the result line in ``role`` (its text is set right after)."""
        set_role(self.result, role)
        self.result.setVisible(True)

    def shutdown(self) -> None:
        """Wait for a sync round under way."""
        self.runner.wait()

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        """Enter: sync now."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.sync_now()
        else:
            super().keyPressEvent(event)
