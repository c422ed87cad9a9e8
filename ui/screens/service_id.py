"""サービスID登録: this business's member number linked to the card holder's MyKey ID, in
guided steps: 1 card and PIN, 2 type the member number, 3 linked."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QVBoxLayout

from terminal.services.counter import CardHolder
from terminal.services.service_id import MAX_CUSTOMER_ID, link_service_id
from terminal.services.submit import Outcome
from ui.card_flow import Page
from ui.card_worker import CardContext, CardWorker
from ui.context import AppServices
from ui.screens.base import Screen
from ui.screens.identify import identify_job
from ui.screens.outcome_text import note_outcome, outcome_view
from ui.screens.steps import StepBar
from ui.sound import Sounds
from ui.text import tr
from ui.widgets import big_label, button


class ServiceIdScreen(Screen):
    """Guided member-number link."""

    def __init__(self, services: AppServices, worker: CardWorker, sounds: Sounds) -> None:
        super().__init__(services, worker, sounds)
        self.steps = StepBar([tr("カードと暗証番号"), tr("会員番号を入力"), tr("登録完了")])
        flow = self.make_flow(tr("サービスID登録: お客様のカードをリーダーに置いてください"))
        self.holder: CardHolder | None = None
        self.number = ""
        self._step = ""
        layout = QVBoxLayout(self)
        layout.addWidget(self.steps)
        layout.addWidget(flow, 1)
        self.entry_page = self._entry_page()
        flow.add_page(self.entry_page)
        flow.set_first_job(self._identify)
        flow.job_finished.connect(self._on_result)
        flow.restarted.connect(lambda: self.steps.set_current(0))

    def _identify(self) -> Any:
        self._step = "identify"
        return identify_job(self.counter)

    def _entry_page(self) -> Page:
        page = Page()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addWidget(big_label(tr("会員番号を入力してください"), role="title"))
        self.current = big_label("", role="hint")
        layout.addWidget(self.current)
        self.member = QLineEdit()
        self.member.setObjectName("amount")
        self.member.setMaxLength(MAX_CUSTOMER_ID)
        layout.addWidget(self.member)
        self.member_error = big_label("", role="bad")
        layout.addWidget(self.member_error)
        row = QHBoxLayout()
        link = button(tr("登録する (Enter)"), role="primary")
        link.clicked.connect(self.link)
        cancel = button(tr("中止 (Esc)"))
        cancel.clicked.connect(lambda: self.flow.cancel() if self.flow else None)
        row.addWidget(link)
        row.addWidget(cancel)
        layout.addLayout(row)
        layout.addStretch(1)
        page.on_enter = self.link
        return page

    def _on_result(self, result: Any) -> None:
        assert self.flow is not None
        if self._step == "identify" and isinstance(result, CardHolder):
            self.holder = result
            self.services.online = result.online
            self.current.setText(
                tr("マイキーID: {m}　現在の会員番号: {c}").format(
                    m=result.mykey_id or "—", c=result.customer_id or tr("なし")
                )
            )
            self.member.clear()
            self.member_error.clear()
            self.steps.set_current(1)
            self.flow.show_page(self.entry_page)
            self.member.setFocus()
        elif self._step == "link" and isinstance(result, Outcome):
            note_outcome(self.services, result)
            self.steps.set_current(2)
            kind, title, lines = outcome_view(result, tr("会員番号を登録しました"))
            self.flow.finish(kind, title, lines, huge=self.number if result.done else "")

    def link(self) -> None:
        """Link the typed number (the card signs it)."""
        assert self.flow is not None
        holder, number, counter = self.holder, self.member.text().strip(), self.counter
        if holder is None:
            return
        if not number:
            self.member_error.setText(tr("会員番号を入力してください。"))
            return
        self.number = number
        self._step = "link"

        def link(ctx: CardContext) -> Outcome:
            ctx.stage("signing")
            return link_service_id(counter, ctx.session, holder, number)

        self.flow.run(link, stage="signing", records=True)
