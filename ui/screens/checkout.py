"""お会計 (point use): card + PIN, the balances usable here with the nearest expiry and the
member number, the amount (quick buttons, keypad), the customer's confirmation, the result, and
an optional slip (ご利用控え) on the receipt printer, or previewed when none is chosen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QIntValidator, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QBoxLayout,
    QButtonGroup,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sync.protocol import Balance
from terminal.services.counter import CardHolder, read_card, resolve_holder
from terminal.services.point_use import use_points
from terminal.services.submit import Outcome, OutcomeStatus
from ui.card_flow import FlowState, Page
from ui.card_worker import CardContext, CardJob, CardWorker
from ui.context import AppServices
from ui.failure import Failure
from ui.printing.errors import PrintError
from ui.screens.base import Screen
from ui.screens.outcome_text import note_outcome, outcome_view
from ui.sound import Sounds
from ui.text import tr
from ui.widgets import Keypad, big_label, button

if TYPE_CHECKING:  # printing is imported when a slip is made (not at the window's start)
    from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog

    from ui.printing.slip import ReceiptChoice, SlipData

QUICK_AMOUNTS = (100, 500, 1000)


def balance_text(balance: Balance) -> str:
    """``川崎市ポイント  1,000 pt（最も近い有効期限 2027/03/01）``."""
    text = tr("{name}  {points:,} ポイント").format(
        name=balance.program_name, points=balance.points
    )
    if balance.nearest_expiry is not None:
        text += tr("（最も近い有効期限 {d}）").format(d=balance.nearest_expiry.strftime("%Y/%m/%d"))
    if balance.overdraft:
        text += tr("  立替 {n:,} ポイント").format(n=balance.overdraft)
    return text


class CheckoutScreen(Screen):
    """The shop's point-use screen."""

    def __init__(self, services: AppServices, worker: CardWorker, sounds: Sounds) -> None:
        super().__init__(services, worker, sounds)
        flow = self.make_flow(tr("お会計: お客様のマイナンバーカードでポイントを使います"))
        self.holder: CardHolder | None = None
        self.points = 0
        self._step = ""
        layout = QVBoxLayout(self)
        layout.addWidget(flow)
        self.amount_page = self._amount_page()
        self.confirm_page = self._confirm_page()
        flow.add_page(self.amount_page)
        flow.add_page(self.confirm_page)
        flow.set_first_job(self._identify_job)
        flow.job_finished.connect(self._on_result)
        flow.restarted.connect(self._reset)
        self.slip: SlipData | None = None
        self.slip_dialog: QPrintPreviewDialog | None = None
        self.slip_bar = self._slip_bar()
        result_layout = flow.result_page.layout()
        assert isinstance(result_layout, QBoxLayout)
        result_layout.insertWidget(result_layout.count() - 1, self.slip_bar)
        self.slip_keys = [
            QShortcut(QKeySequence(key), self) for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ]
        for shortcut in self.slip_keys:
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.print_slip)
        flow.state_changed.connect(self._slip_keys_follow)
        self._slip_keys_follow("")

    # --- pages ------------------------------------------------------------------------------

    def _amount_page(self) -> Page:
        page = Page()
        layout = QVBoxLayout(page)
        self.who = big_label("", role="prompt")
        self.offline_banner = big_label(
            tr("オフラインです。残高は前回の情報です。オフラインの上限内で受け付けます。"),
            role="warn",
        )
        self.balance_group = QButtonGroup(page)
        self.balance_group.setExclusive(True)
        self.balance_box = QVBoxLayout()
        layout.addWidget(self.who)
        layout.addWidget(self.offline_banner)
        layout.addLayout(self.balance_box)
        row = QHBoxLayout()
        self.amount = QLineEdit()
        self.amount.setObjectName("amount")
        self.amount.setValidator(QIntValidator(1, 10_000_000, self.amount))
        self.amount.setPlaceholderText(tr("使うポイント"))
        row.addWidget(big_label(tr("使うポイント"), role="section"))
        row.addWidget(self.amount, 2)
        for value in QUICK_AMOUNTS:
            quick = button(f"{value:,}")
            quick.clicked.connect(lambda _=False, v=value: self.amount.setText(str(v)))
            row.addWidget(quick)
        whole = button(tr("全額"))
        whole.clicked.connect(self._use_all)
        row.addWidget(whole)
        layout.addLayout(row)
        self.amount_error = big_label("", role="bad")
        layout.addWidget(self.amount_error)
        keys = QHBoxLayout()
        keypad = Keypad(tr("確認へ (Enter)"))
        keypad.digit.connect(lambda d: self.amount.setText(self.amount.text() + d))
        keypad.backspace.connect(lambda: self.amount.setText(self.amount.text()[:-1]))
        keypad.ok.connect(self.to_confirm)
        keys.addStretch(1)
        keys.addWidget(keypad, 2)
        keys.addStretch(1)
        layout.addLayout(keys)
        cancel = button(tr("中止 (Esc)"))
        cancel.clicked.connect(self._cancel)
        layout.addWidget(cancel)
        page.on_enter = self.to_confirm
        return page

    def _confirm_page(self) -> Page:
        page = Page()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        self.confirm_title = big_label("", role="title")
        self.confirm_detail = big_label("", role="prompt")
        layout.addWidget(big_label(tr("お客様へ: 内容をご確認ください"), role="hint"))
        layout.addWidget(self.confirm_title)
        layout.addWidget(self.confirm_detail)
        row = QHBoxLayout()
        yes = button(tr("はい、使います (Enter)"), role="primary")
        yes.clicked.connect(self.confirm)
        back = button(tr("戻る (Esc)"))
        back.clicked.connect(self._back_to_amount)
        row.addWidget(yes)
        row.addWidget(back)
        layout.addLayout(row)
        layout.addStretch(1)
        page.on_enter = self.confirm
        page.on_escape = self._back_to_amount
        return page

    def _slip_bar(self) -> QWidget:
        bar = QWidget()
        column = QVBoxLayout(bar)
        self.slip_button = button(tr("ご利用控えを印刷 (Enter)"), role="primary")
        self.slip_button.clicked.connect(self.print_slip)
        self.slip_status = big_label("", role="hint")
        column.addWidget(self.slip_button, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(self.slip_status)
        bar.setVisible(False)
        return bar

    # --- steps ------------------------------------------------------------------------------

    def _identify_job(self) -> CardJob:
        counter = self.counter
        self._step = "identify"

        def identify(ctx: CardContext) -> CardHolder:
            ctx.stage("reading")
            card = read_card(counter, ctx.session)
            authenticated = ctx.prove_pin(card)
            ctx.stage("server")
            holder = resolve_holder(counter, card, authenticated)
            if holder.online:
                holder.require_active()
            return holder

        return identify

    def _on_result(self, result: Any) -> None:
        assert self.flow is not None
        if self._step == "identify" and isinstance(result, CardHolder):
            self._show_holder(result)
        elif self._step == "use" and isinstance(result, Outcome):
            self._show_outcome(result)

    def _show_holder(self, holder: CardHolder) -> None:
        assert self.flow is not None
        if not holder.balances:
            self.flow.fail(
                Failure(
                    "no-usable-points",
                    "このお店で使えるポイントがありません。",
                    "No points usable at this shop.",
                )
            )
            return
        self.holder = holder
        self.services.online = holder.online
        member = holder.customer_id or tr("未登録")
        self.who.setText(
            tr("マイキーID: {m}    会員番号: {c}").format(m=holder.mykey_id or "—", c=member)
        )
        self.offline_banner.setVisible(not holder.online)
        for old in self.balance_group.buttons():
            self.balance_group.removeButton(old)
            self.balance_box.removeWidget(old)
            old.deleteLater()
        for index, balance in enumerate(holder.balances):
            choice = QPushButton(balance_text(balance))
            choice.setCheckable(True)
            choice.setObjectName("mode")
            choice.setMinimumHeight(52)
            self.balance_group.addButton(choice, index)
            self.balance_box.addWidget(choice)
            choice.setChecked(index == 0)
        self.amount.clear()
        self.amount_error.clear()
        self.flow.show_page(self.amount_page)
        self.amount.setFocus()

    def selected_balance(self) -> Balance | None:
        """The balance the clerk picked (the first by default)."""
        if self.holder is None:
            return None
        index = self.balance_group.checkedId()
        return self.holder.balances[index] if 0 <= index < len(self.holder.balances) else None

    def _use_all(self) -> None:
        balance = self.selected_balance()
        if balance is not None:
            self.amount.setText(str(max(balance.points, 0)))

    def to_confirm(self) -> None:
        """Check the amount and show it to the customer."""
        assert self.flow is not None
        balance = self.selected_balance()
        text = self.amount.text().strip()
        if balance is None:
            return
        if not text.isdigit() or int(text) < 1:
            self.amount_error.setText(tr("ポイント数を入力してください（1以上の整数）。"))
            return
        points = int(text)
        if self.holder is not None and self.holder.online and points > balance.points:
            self.amount_error.setText(
                tr("残高が足りません（残高 {b:,} ポイント）。").format(b=balance.points)
            )
            return
        self.amount_error.clear()
        self.points = points
        self.confirm_title.setText(tr("{p:,} ポイントを使います").format(p=points))
        self.confirm_detail.setText(
            tr("{name}\n残高 {before:,} → {after:,} ポイント").format(
                name=balance.program_name, before=balance.points, after=balance.points - points
            )
        )
        self.flow.show_page(self.confirm_page)

    def confirm(self) -> None:
        """The customer said yes: the card signs, the row is stored, then authorised."""
        assert self.flow is not None
        holder, balance, points = self.holder, self.selected_balance(), self.points
        if holder is None or balance is None:
            return
        counter, program_id = self.counter, balance.program_id
        self._step = "use"

        def use(ctx: CardContext) -> Outcome:
            ctx.stage("signing")
            return use_points(counter, ctx.session, holder, program_id, points)

        self.flow.run(use, stage="signing", records=True, back=self.amount_page)

    def _show_outcome(self, outcome: Outcome) -> None:
        assert self.flow is not None
        balance = self.selected_balance()
        note_outcome(self.services, outcome)
        kind, title, lines = outcome_view(outcome, tr("ポイントを使いました"))
        head = [tr("{p:,} ポイント").format(p=self.points)]
        if outcome.status is OutcomeStatus.APPLIED and outcome.balance is not None:
            head.append(tr("新しい残高: {b:,} ポイント").format(b=outcome.balance))
        elif outcome.status is OutcomeStatus.ACCEPTED_OFFLINE and balance is not None:
            head.append(tr("残高（見込み）: {b:,} ポイント").format(b=balance.points - self.points))
        self.slip = self._slip_for(outcome, balance) if outcome.done else None
        self._show_slip_bar()
        self.flow.finish(kind, title, head + lines)
        self.flow.setFocus()  # Enter prints the slip from here

    # --- the slip ---------------------------------------------------------------------------

    def _slip_for(self, outcome: Outcome, balance: Balance | None) -> SlipData:
        from ui.printing.slip import SlipData

        business = self.counter.store.business()
        shop = business.name if business is not None else self.counter.identity.business_id
        offline = outcome.status is OutcomeStatus.ACCEPTED_OFFLINE
        return SlipData(
            shop_name=shop,
            at=outcome.row.created_at,
            program_name=balance.program_name if balance is not None else "",
            points=outcome.row.points,
            balance=None if offline else outcome.balance,
            offline=offline,
            transaction_id=outcome.row.id,
        )

    def _slip_button_role(self, role: str) -> None:
        self.slip_button.setObjectName(role)
        style = self.slip_button.style()
        style.unpolish(self.slip_button)
        style.polish(self.slip_button)

    def _show_slip_bar(self) -> None:
        self.slip_bar.setVisible(self.slip is not None)
        self.slip_button.setEnabled(True)
        self._slip_button_role("primary")
        if self.slip is None:
            return
        if self.receipt() is None:
            self.slip_button.setText(tr("ご利用控えをプレビュー (Enter)"))
            self.slip_status.setText(
                tr(
                    "レシート用紙（58/80 mm）のプリンターが選ばれていません"
                    "（設定で選べます）。プレビューから印刷できます。"
                )
            )
        else:
            self.slip_button.setText(tr("ご利用控えを印刷 (Enter)"))
            self.slip_status.setText(tr("お客様がご希望のときに印刷します。"))

    def _slip_keys_follow(self, _state: str) -> None:
        """Enter prints the slip only while a finished use is on screen."""
        assert self.flow is not None
        on = self.slip is not None and self.flow.state is FlowState.RESULT
        for shortcut in self.slip_keys:
            shortcut.setEnabled(on and self.slip_button.isEnabled())

    def receipt(self) -> ReceiptChoice | None:
        """The receipt printer of 設定: the chosen printer when its paper is a 58/80 mm roll."""
        from ui.printing.slip import ReceiptChoice
        from ui.screens.voucher_devices import printer_choice

        choice = printer_choice(self.counter.store)
        if choice.paper not in ("58", "80"):
            return None
        return ReceiptChoice(choice.printer, 58 if choice.paper == "58" else 80)

    def slip_printer(self, choice: ReceiptChoice) -> QPrinter | None:
        """The receipt printer to print on (None: preview instead)."""
        from ui.printing.slip import receipt_printer

        return receipt_printer(choice)

    def print_slip(self) -> None:
        """Print the slip of the use just finished (or preview it when no printer is set)."""
        from ui.printing.slip import configure_slip_printer, slip_preview
        from ui.printing.slip import print_slip as render_slip

        data = self.slip
        if data is None:
            return
        choice = self.receipt()
        printer = None if choice is None else self.slip_printer(choice)
        if choice is None or printer is None:
            width = 80 if choice is None else choice.width_mm
            self.slip_dialog = slip_preview(data, width, self)
            self.slip_dialog.open()
            note = tr("プレビューを開きました。印刷ボタンで印刷できます。")
            if choice is not None:
                missing = tr("レシートプリンター（{name}）が見つかりません。").format(
                    name=choice.printer or tr("既定のプリンター")
                )
                note = f"{missing}\n{note}"
            self.slip_status.setText(note)
            return
        configure_slip_printer(printer, data, choice.width_mm)
        try:
            render_slip(data, printer, choice.width_mm)
        except PrintError as error:
            self.slip_status.setText(f"{error.message_ja}\n{error.message_en}")
            self.sounds.failure()
            return
        self.slip_button.setText(tr("もう一度印刷"))
        self._slip_button_role("")  # a plain button now: a second slip is a deliberate choice
        self.slip_status.setText(tr("ご利用控えを印刷しました。"))
        for shortcut in self.slip_keys:  # Enter again does not print a second slip
            shortcut.setEnabled(False)

    def _back_to_amount(self) -> None:
        assert self.flow is not None
        self.flow.show_page(self.amount_page)

    def _cancel(self) -> None:
        assert self.flow is not None
        self.flow.cancel()

    def _reset(self) -> None:
        self.holder = None
        self.points = 0
        self.slip = None
        self.slip_bar.setVisible(False)
