"""ポイント付与 at a municipal desk: choose a grant program (cached from the last sync) and the
points; each card tap grants them, no PIN. Attendance mode: one tap per card per event, with a
running list of taps."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from sync.protocol import GrantProgramInfo
from terminal.services.grant import grant_points
from terminal.services.submit import Outcome
from ui.card_worker import CardContext, CardJob, CardWorker
from ui.context import AppServices
from ui.failure import Failure
from ui.screens.base import Screen
from ui.screens.outcome_text import note_outcome, outcome_view
from ui.sound import Sounds
from ui.text import tr
from ui.widgets import big_label

JST = ZoneInfo("Asia/Tokyo")


class GrantScreen(Screen):
    """The grant desk."""

    def __init__(self, services: AppServices, worker: CardWorker, sounds: Sounds) -> None:
        super().__init__(services, worker, sounds)
        flow = self.make_flow(tr("カードをかざすとポイントを付与します（暗証番号は不要です）"))
        self.programs: list[GrantProgramInfo] = []
        self._points = 0
        self.granted_total = 0
        self.tap_count = 0
        layout = QHBoxLayout(self)
        panel = QWidget()
        panel.setMinimumWidth(440)  # the program name and the running total stay readable
        panel.setMaximumWidth(520)
        side = QVBoxLayout(panel)
        side.addWidget(big_label(tr("付与事業"), role="section"))
        self.program = QComboBox()
        self.program.currentIndexChanged.connect(self._program_changed)
        side.addWidget(self.program)
        self.no_programs = big_label(
            tr("付与事業がありません。同期（F9）してください。"), role="bad"
        )
        side.addWidget(self.no_programs)
        side.addWidget(big_label(tr("付与ポイント"), role="section"))
        self.points = QSpinBox()
        self.points.setRange(1, 1_000_000)
        self.points.setSingleStep(100)
        self.points.setSuffix(tr(" ポイント"))
        side.addWidget(self.points)
        self.attendance = QCheckBox(tr("出席受付（1人1回）"))
        side.addWidget(self.attendance)
        self.event_name = QLineEdit()
        self.event_name.setPlaceholderText(tr("イベント名（例: 救命講習 11/24）"))
        side.addWidget(self.event_name)
        self.summary = big_label("", role="prompt")
        side.addWidget(self.summary)
        self.taps = QListWidget()
        self.taps.setWordWrap(True)
        side.addWidget(self.taps, 1)
        layout.addWidget(panel)
        layout.addWidget(flow, 1)
        flow.set_first_job(self._grant_job)
        flow.job_finished.connect(self._on_result)
        flow.job_error.connect(self._on_error)
        self._update_summary()

    def activate(self) -> None:
        """Reload the grant programs from the store (a sync may have brought new ones)."""
        chosen = self.program.currentData()
        self.programs = self.counter.store.grant_programs()
        self.program.blockSignals(True)
        self.program.clear()
        for info in self.programs:
            self.program.addItem(f"{info.name}（{info.department}）", info.grant_program_id)
        self.program.blockSignals(False)
        index = self.program.findData(chosen) if chosen is not None else 0
        self.program.setCurrentIndex(max(index, 0))
        self._program_changed()
        self.no_programs.setVisible(not self.programs)
        super().activate()

    def selected(self) -> GrantProgramInfo | None:
        """The chosen grant program."""
        gid = self.program.currentData()
        return next((p for p in self.programs if p.grant_program_id == gid), None)

    def _program_changed(self) -> None:
        info = self.selected()
        if info is not None:
            self.points.setValue(info.default_points)

    def _grant_job(self) -> CardJob | None:
        info = self.selected()
        if info is None:
            return None
        counter, gid = self.counter, info.grant_program_id
        points = self.points.value()
        event = self.event_name.text().strip() if self.attendance.isChecked() else None
        if self.attendance.isChecked() and not event:
            self.event_name.setFocus()
            self.event_name.setPlaceholderText(tr("イベント名を入力してください"))
            return None
        self._points = points

        def grant(ctx: CardContext) -> Outcome:
            ctx.stage("reading")
            # the points always go explicitly: a row of default points would count 0 in the totals
            return grant_points(counter, ctx.session, gid, points=points, event=event)

        return grant

    def _on_result(self, result: Any) -> None:
        assert self.flow is not None
        if not isinstance(result, Outcome):
            return
        note_outcome(self.services, result)
        kind, title, lines = outcome_view(
            result, tr("{p:,} ポイントを付与しました").format(p=self._points)
        )
        if result.done:
            self.granted_total += self._points
            self.tap_count += 1
        server = result.result
        who = result.row.mykey_id or (server.mykey_id if server else None) or tr("カード")
        word = {"ok": tr("付与"), "warn": tr("受付（同期待ち）"), "bad": tr("不可")}[kind]
        self._log(f"{who}  {self._points:,} pt  {word}")
        if result.balance is not None:
            lines = [tr("新しい残高: {b:,} ポイント").format(b=result.balance), *lines]
        self.flow.finish(kind, title, lines)

    def _on_error(self, failure: Failure) -> None:
        self._log(failure.message_ja)

    def _log(self, text: str) -> None:
        stamp = datetime.now(JST).strftime("%H:%M:%S")
        self.taps.insertItem(0, f"{stamp}  {text}")
        self._update_summary()

    def _update_summary(self) -> None:
        self.summary.setText(
            tr("受付 {n}件　合計 {p:,} ポイント").format(n=self.tap_count, p=self.granted_total)
        )
