"""ポイント券発行 (street office): card + PIN → the resident's usable balance → the vouchers as
count × points (e.g. 5 × 500) or a list ("500, 500, 1000"), valid for the program's days → the
card signs ONE issue → issued → print (preview, printer choice, paper: A4 sheet / 58 mm / 80 mm),
save as PDF, and reprint (再発行) an earlier issue from the recent list.

Public methods (the demo drives these):

- ``fill(count, points)`` / ``fill_list(points)``: the vouchers asked for (the issue page must be
  shown, i.e. the card read and the PIN given).
- ``issue(count=None, points=None)``: fill (when given) and have the card sign the issue.
- ``faces``: the vouchers to print now (the last issue, or a reprint marked 再発行).
- ``set_paper("a4" | "58" | "80")``, ``save_pdf(path) -> Path``, ``preview() -> dialog``
  (opened, not modal), ``print_now()`` (printer choice dialog, then print).
- ``reprint(tx_id=None)``: the faces of an earlier issue (default: the one selected in the list).
- signal ``issued(IssuedVouchers)``.

The voucher key comes from ``services.voucher_key`` (an Ed25519 private key; the composition root
loads it from ``TerminalPaths.voucher_key``). Without it the screen says the terminal cannot issue.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sync.protocol import Balance, TransactionKind, VoucherIssue
from terminal.services.counter import CardHolder, read_card, resolve_holder
from terminal.services.submit import OutcomeStatus
from terminal.services.vouchers import (
    DEFAULT_VALIDITY_DAYS,
    MAX_VOUCHERS_PER_ISSUE,
    IssuedVouchers,
    issue_vouchers,
    jst_today,
    reprint_faces,
)
from terminal.store import OutboxState
from terminal.vouchers.errors import VoucherNeedsServerError
from terminal.vouchers.layout import VoucherFace
from ui.card_flow import Page
from ui.card_worker import CardContext, CardJob, CardWorker
from ui.context import AppServices
from ui.failure import Failure
from ui.printing.errors import PrintError
from ui.printing.preview import preview_dialog, print_dialog
from ui.printing.voucher_painter import print_vouchers, write_pdf
from ui.screens.base import Screen
from ui.screens.outcome_text import note_outcome, outcome_view
from ui.screens.voucher_devices import fill_papers, paper_layout, printer_choice
from ui.sound import Sounds
from ui.text import tr
from ui.widgets import big_label, button

log = logging.getLogger(__name__)

JST = ZoneInfo("Asia/Tokyo")
QUICK_POINTS = (100, 500, 1000)
RECENT_ISSUES = 20
#: the print panel beside the card flow (px)
PANEL_WIDTH = 380


def parse_list(text: str) -> list[int] | None:
    """``"500, 500 1000"`` -> [500, 500, 1000]; None when anything is not a positive integer."""
    parts = [p for p in text.replace("、", ",").replace(",", " ").split() if p]
    if not parts or not all(p.isdigit() and int(p) > 0 for p in parts):
        return None
    return [int(p) for p in parts]


class VoucherIssueScreen(Screen):
    """The office's voucher issue screen (see the module docstring)."""

    issued = Signal(object)

    def __init__(self, services: AppServices, worker: CardWorker, sounds: Sounds) -> None:
        super().__init__(services, worker, sounds)
        flow = self.make_flow(tr("ポイント券発行: お客様のマイナンバーカードで発行します"))
        self.holder: CardHolder | None = None
        self.points_each: list[int] = []
        self.last: IssuedVouchers | None = None
        self.faces: list[VoucherFace] = []
        self.faces_note = ""
        self.dialog: QDialog | None = None
        #: open the print preview by itself after an issue (the demo and tests turn it off)
        self.auto_preview = True
        layout = QHBoxLayout(self)
        layout.addWidget(flow, 3)
        self.form_page = self._form_page()
        flow.add_page(self.form_page)
        flow.set_first_job(self._identify_job)
        flow.job_finished.connect(self._on_result)
        flow.restarted.connect(self._reset)
        layout.addWidget(self._print_panel(), 2)

    # --- pages ------------------------------------------------------------------------------

    def _form_page(self) -> Page:
        page = Page()
        layout = QVBoxLayout(page)
        self.who = big_label("", role="prompt")
        layout.addWidget(self.who)
        self.balance_group = QButtonGroup(page)
        self.balance_group.setExclusive(True)
        self.balance_group.idToggled.connect(lambda *_: self._update_summary())
        self.balance_box = QVBoxLayout()
        layout.addLayout(self.balance_box)
        row = QHBoxLayout()
        self.count = QSpinBox()
        self.count.setRange(1, MAX_VOUCHERS_PER_ISSUE)
        self.count.setSuffix(tr(" 枚"))
        self.count.setValue(1)
        self.points = QSpinBox()
        self.points.setRange(1, 1_000_000)
        self.points.setSingleStep(100)
        self.points.setSuffix(tr(" ポイント"))
        self.points.setValue(500)
        for spin in (self.count, self.points):
            spin.setStyleSheet("QSpinBox:disabled { color: #9a9a9a; background: #e4e4e4; }")
            spin.valueChanged.connect(lambda _v: self._use_count())
        row.addWidget(big_label(tr("枚数"), role="section"))
        row.addWidget(self.count, 1)
        row.addWidget(big_label("×", role="section"))
        row.addWidget(self.points, 2)
        layout.addLayout(row)
        quick_row = QHBoxLayout()
        quick_row.addWidget(big_label(tr("1枚のポイント"), role="hint"))
        for value in QUICK_POINTS:
            quick = button(f"{value:,}")
            quick.clicked.connect(lambda _=False, v=value: self.points.setValue(v))
            quick_row.addWidget(quick)
        layout.addLayout(quick_row)
        self.list_field = QLineEdit()
        self.list_field.setPlaceholderText(tr("例: 500, 500, 1000"))
        self.list_field.textChanged.connect(lambda _t: self._update_summary())
        layout.addWidget(big_label(tr("または券ごとのポイントを指定"), role="hint"))
        layout.addWidget(self.list_field)
        self.validity = big_label("", role="hint")
        self.summary = big_label("", role="title")
        self.form_error = big_label("", role="bad")
        layout.addWidget(self.validity)
        layout.addWidget(self.summary)
        layout.addWidget(self.form_error)
        actions = QHBoxLayout()
        go = button(tr("発行する (Enter)"), role="primary")
        go.setToolTip(tr("お客様のカードで確定して発行します"))
        go.clicked.connect(self.issue)
        stop = button(tr("中止 (Esc)"))
        stop.clicked.connect(self._cancel)
        actions.addWidget(go, 2)
        actions.addWidget(stop, 1)
        layout.addLayout(actions)
        page.on_enter = self._enter
        return page

    def _print_panel(self) -> QWidget:
        panel = QWidget()
        panel.setFixedWidth(PANEL_WIDTH)
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        self.print_title = big_label(tr("印刷するポイント券はまだありません"), role="section")
        layout.addWidget(self.print_title)
        self.paper = QComboBox()
        fill_papers(self.paper, printer_choice(self.counter.store).paper)
        self.preview_button = button(tr("印刷プレビュー"), role="primary")
        self.preview_button.clicked.connect(self.preview)
        self.print_button = button(tr("印刷…"))
        self.print_button.clicked.connect(self.print_now)
        self.pdf_button = button(tr("PDFに保存"))
        self.pdf_button.clicked.connect(self._ask_pdf)
        paper_row = QHBoxLayout()
        paper_row.addWidget(big_label(tr("用紙"), role="hint"))
        paper_row.addWidget(self.paper, 1)
        layout.addLayout(paper_row)
        layout.addWidget(self.preview_button)
        row = QHBoxLayout()
        row.addWidget(self.print_button)
        row.addWidget(self.pdf_button)
        layout.addLayout(row)
        self.print_status = big_label("", role="hint")
        self.print_status.setMinimumHeight(84)  # two wrapped lines, never squeezed
        layout.addWidget(self.print_status)
        self.recent = QTableWidget(0, 3)
        self.recent.setHorizontalHeaderLabels([tr("日時"), tr("内容"), tr("状態")])
        self.recent.verticalHeader().setVisible(False)
        self.recent.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.recent.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.recent.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.recent.setMinimumHeight(120)
        self.recent.horizontalHeader().setStretchLastSection(True)
        self.recent_ids: list[UUID] = []
        self.reprint_button = button(tr("選んだ発行を再発行"))
        self.reprint_button.setToolTip(tr("券に「再発行」と印字されます"))
        self.reprint_button.clicked.connect(lambda: self.reprint())
        layout.addWidget(big_label(tr("最近の発行"), role="hint"))
        layout.addWidget(self.recent, 1)
        layout.addWidget(self.reprint_button)
        self._update_print_buttons()
        return panel

    # --- card steps -------------------------------------------------------------------------

    def _identify_job(self) -> CardJob:
        counter = self.counter

        def identify(ctx: CardContext) -> CardHolder:
            ctx.stage("reading")
            card = read_card(counter, ctx.session)
            authenticated = ctx.prove_pin(card)
            ctx.stage("server")
            holder = resolve_holder(counter, card, authenticated)
            if not holder.online:
                raise VoucherNeedsServerError("voucher issue while offline")
            holder.require_active()
            return holder

        return identify

    def _on_result(self, result: Any) -> None:
        if isinstance(result, CardHolder):
            self._show_holder(result)
        elif isinstance(result, IssuedVouchers):
            self._show_issued(result)

    def _show_holder(self, holder: CardHolder) -> None:
        assert self.flow is not None
        self.services.online = True
        if not holder.balances:
            self.flow.fail(
                Failure(
                    "no-usable-points",
                    "ポイント券にできるポイントがありません。",
                    "There are no points that can be turned into vouchers.",
                )
            )
            return
        self.holder = holder
        self.who.setText(tr("マイキーID: {m}").format(m=holder.mykey_id or "—"))
        for old in self.balance_group.buttons():
            self.balance_group.removeButton(old)
            self.balance_box.removeWidget(old)
            old.deleteLater()
        for index, balance in enumerate(holder.balances):
            choice = QPushButton(
                tr("{name}  {points:,} ポイント").format(
                    name=balance.program_name, points=balance.points
                )
            )
            choice.setCheckable(True)
            choice.setObjectName("mode")
            choice.setMinimumHeight(52)
            self.balance_group.addButton(choice, index)
            self.balance_box.addWidget(choice)
            choice.setChecked(index == 0)
        self.list_field.clear()
        self.form_error.clear()
        self._update_summary()
        self.flow.show_page(self.form_page)
        self.count.setFocus()

    def selected_balance(self) -> Balance | None:
        """The program the vouchers are issued from (the first by default)."""
        if self.holder is None:
            return None
        index = self.balance_group.checkedId()
        return self.holder.balances[index] if 0 <= index < len(self.holder.balances) else None

    def _validity_days(self, balance: Balance) -> int:
        program = self.counter.store.program(balance.program_id)
        return program.voucher_validity_days if program is not None else DEFAULT_VALIDITY_DAYS

    def asked(self) -> list[int] | None:
        """The points of each voucher asked for (the list when typed, else count × points)."""
        text = self.list_field.text().strip()
        if text:
            return parse_list(text)
        return [self.points.value()] * self.count.value()

    def _use_count(self) -> None:
        self.list_field.clear()
        self._update_summary()

    def _update_summary(self) -> None:
        by_list = bool(self.list_field.text().strip())
        self.count.setEnabled(not by_list)
        self.points.setEnabled(not by_list)
        balance = self.selected_balance()
        if balance is None:
            return
        days = self._validity_days(balance)
        today = jst_today(self.counter)
        until = today + timedelta(days=days - 1)
        self.validity.setText(
            tr("有効期間: {a} 〜 {b}（{n}日間・プログラムの設定）").format(
                a=today.strftime("%Y/%m/%d"), b=until.strftime("%Y/%m/%d"), n=days
            )
        )
        points = self.asked()
        if points is None:
            self.summary.setText("")
            self.form_error.setText(
                tr("券ごとのポイントは数字をカンマで区切って入力してください。")
            )
            return
        self.form_error.clear()
        total = sum(points)
        self.summary.setText(
            tr("{n}枚  合計 {t:,} ポイント\n残高 {b:,} → {a:,} ポイント").format(
                n=len(points), t=total, b=balance.points, a=balance.points - total
            )
        )

    def fill(self, count: int, points: int) -> None:
        """Ask for ``count`` vouchers of ``points`` each."""
        self.list_field.clear()
        self.count.setValue(count)
        self.points.setValue(points)
        self._update_summary()

    def fill_list(self, points: list[int]) -> None:
        """Ask for one voucher per entry of ``points``."""
        self.list_field.setText(", ".join(str(p) for p in points))

    def issue(self, count: int | None = None, points: int | None = None) -> bool:
        """Check the form and have the card sign the issue; False when the form is not right."""
        assert self.flow is not None
        if count is not None and points is not None:
            self.fill(count, points)
        balance, holder = self.selected_balance(), self.holder
        if balance is None or holder is None:
            return False
        asked = self.asked()
        key = self._voucher_key()
        if asked is None:
            self.form_error.setText(
                tr("券ごとのポイントは数字をカンマで区切って入力してください。")
            )
            return False
        if not 1 <= len(asked) <= MAX_VOUCHERS_PER_ISSUE:
            self.form_error.setText(
                tr("一度に発行できるのは1〜{n}枚です。").format(n=MAX_VOUCHERS_PER_ISSUE)
            )
            return False
        if sum(asked) > balance.points:
            self.form_error.setText(
                tr("残高が足りません（残高 {b:,} ポイント）。").format(b=balance.points)
            )
            return False
        if key is None:
            self.form_error.setText(
                tr("この端末にはポイント券の署名鍵がありません。端末を登録し直してください。")
            )
            return False
        self.form_error.clear()
        self.points_each = asked
        counter, program_id = self.counter, balance.program_id
        street = self._street_name()

        def run(ctx: CardContext) -> IssuedVouchers:
            ctx.stage("signing")
            return issue_vouchers(
                counter,
                ctx.session,
                holder,
                program_id,
                asked,
                voucher_key=key,
                street_name=street,
            )

        self.flow.run(run, stage="signing", records=True, back=self.form_page)
        return True

    def _enter(self) -> None:
        self.issue()

    def _show_issued(self, issued: IssuedVouchers) -> None:
        assert self.flow is not None
        outcome = issued.outcome
        note_outcome(self.services, outcome)
        kind, title, lines = outcome_view(outcome, tr("ポイント券を発行しました"))
        total = sum(v.points for v in issued.vouchers)
        head = [tr("{n}枚  合計 {t:,} ポイント").format(n=len(issued.vouchers), t=total)]
        if outcome.status is OutcomeStatus.APPLIED:
            self.last = issued
            self._set_faces(issued.faces, tr("今回の発行"))
            head.append(tr("右の「印刷プレビュー」から印刷してください。"))
            if outcome.balance is not None:
                head.append(tr("残高: {b:,} ポイント").format(b=outcome.balance))
        self.refresh_recent()
        self.flow.finish(kind, title, head + lines)
        self.issued.emit(issued)
        if self.faces and self.auto_preview and outcome.status is OutcomeStatus.APPLIED:
            self.preview()

    # --- printing ---------------------------------------------------------------------------

    def _set_faces(self, faces: list[VoucherFace], note: str) -> None:
        self.faces = list(faces)
        self.faces_note = note
        if faces:
            total = sum(f.points for f in faces)
            self.print_title.setText(
                tr("印刷する券: {note}\n{n}枚 合計 {t:,} ポイント").format(
                    note=note, n=len(faces), t=total
                )
            )
        self._update_print_buttons()

    def _update_print_buttons(self) -> None:
        has = bool(self.faces)
        for widget in (self.preview_button, self.print_button, self.pdf_button):
            widget.setEnabled(has)

    def set_paper(self, key: str) -> None:
        """Choose the paper: ``a4``, ``58`` or ``80``."""
        self.paper.setCurrentIndex(max(self.paper.findData(key), 0))

    def _layout(self) -> Any:
        return paper_layout(self.paper.currentData() or "a4")

    def preview(self) -> QDialog | None:
        """Open the print preview of the current faces (its print button prints)."""
        if not self.faces:
            return None
        dialog = preview_dialog(self.faces, self._layout(), self)
        name = printer_choice(self.counter.store).printer
        if name:
            dialog.printer().setPrinterName(name)
        self.dialog = dialog
        dialog.open()
        return dialog

    def print_now(self) -> bool:
        """The printer choice, then print the current faces; True when printed."""
        if not self.faces:
            return False
        layout = self._layout()
        dialog = print_dialog(layout, self)
        name = printer_choice(self.counter.store).printer
        if name:
            dialog.printer().setPrinterName(name)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        try:
            print_vouchers(self.faces, layout, dialog.printer())
        except PrintError as error:
            self._print_failed(error)
            return False
        self.print_status.setText(tr("印刷しました（{n}枚）。").format(n=len(self.faces)))
        return True

    def save_pdf(self, path: Path | str) -> Path:
        """Write the current faces on the chosen paper to ``path`` (PrintError on failure)."""
        written = write_pdf(self.faces, self._layout(), path)
        self.print_status.setText(tr("PDFに保存しました: {p}").format(p=written))
        return written

    def _ask_pdf(self) -> None:
        if not self.faces:
            return
        name = f"voucher-{self.faces[0].number}.pdf"
        path, _ = QFileDialog.getSaveFileName(self, tr("PDFに保存"), name, "PDF (*.pdf)")
        if not path:
            return
        try:
            self.save_pdf(path)
        except PrintError as error:
            self._print_failed(error)

    def _print_failed(self, error: PrintError) -> None:
        ja, en = error.user_lines()
        self.print_status.setText(f"{ja}\n{en}")
        self.sounds.failure()

    # --- recent issues and reprint ------------------------------------------------------------

    def refresh_recent(self) -> None:
        """The latest issues of this terminal, newest first."""
        rows = self.counter.store.rows(kinds=[TransactionKind.VOUCHER_ISSUE], limit=RECENT_ISSUES)
        self.recent.setRowCount(len(rows))
        self.recent_ids = []
        states = {
            OutboxState.APPLIED: tr("発行済み"),
            OutboxState.REJECTED: tr("発行されていません"),
        }
        for r, row in enumerate(rows):
            payload = row.transaction.payload
            count = len(payload.vouchers) if isinstance(payload, VoucherIssue) else 0
            cells = [
                row.transaction.terminal_time.astimezone(JST).strftime("%m/%d %H:%M"),
                tr("{n}枚 {p:,} pt").format(n=count, p=row.points),
                states.get(row.state, tr("未確定（同期待ち）")),
            ]
            for c, text in enumerate(cells):
                self.recent.setItem(r, c, QTableWidgetItem(text))
            self.recent_ids.append(row.id)
        self.recent.resizeColumnsToContents()

    def reprint(self, tx_id: UUID | None = None) -> bool:
        """Make the faces of an earlier issue, marked 再発行, the ones to print."""
        if tx_id is None:
            index = self.recent.currentRow()
            if not 0 <= index < len(self.recent_ids):
                self.print_status.setText(tr("再発行する発行を一覧から選んでください。"))
                return False
            tx_id = self.recent_ids[index]
        key = self._voucher_key()
        if key is None:
            self.print_status.setText(tr("この端末にはポイント券の署名鍵がありません。"))
            return False
        try:
            faces = reprint_faces(self.counter, tx_id, key, street_name=self._street_name())
        except Exception as error:
            failure = Failure.of(error)
            self.print_status.setText(f"{failure.message_ja}\n{failure.message_en}")
            self.sounds.failure()
            return False
        self._set_faces(faces, tr("【再発行】"))
        self.print_status.setText(
            tr("再発行の券を用意しました。印刷プレビューから印刷してください。")
        )
        return True

    # --- misc -------------------------------------------------------------------------------

    def _voucher_key(self) -> Ed25519PrivateKey | None:
        key = self.services.voucher_key
        return key if isinstance(key, Ed25519PrivateKey) else None

    def _street_name(self) -> str | None:
        business = self.counter.store.business()
        return None if business is None else business.street_name

    def activate(self) -> None:
        """Shown: the recent issues, then wait for a card."""
        self.refresh_recent()
        super().activate()

    def _cancel(self) -> None:
        assert self.flow is not None
        self.flow.cancel()

    def _reset(self) -> None:
        self.holder = None
        self.points_each = []
