"""マイキーID設定 at the office (online only), in guided steps: 1 card and PIN, 2 choose the ID
(uniqueness checked, candidates offered), 3 confirm and create."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout

from sync.protocol import AvailabilityResponse
from terminal.errors import ServerUnreachableError
from terminal.services.counter import CardHolder, read_card, resolve_holder
from terminal.services.mykey_setup import MyKeyAlreadySetError, check_mykey_id, setup_mykey
from terminal.services.submit import Outcome
from ui.card_flow import Page
from ui.card_worker import CardContext, CardJob, CardWorker
from ui.context import AppServices
from ui.screens.base import Screen
from ui.screens.outcome_text import note_outcome, outcome_view
from ui.screens.steps import StepBar
from ui.sound import Sounds
from ui.text import tr
from ui.widgets import big_label, button


class MyKeySetupScreen(Screen):
    """Guided MyKey ID set-up."""

    def __init__(self, services: AppServices, worker: CardWorker, sounds: Sounds) -> None:
        super().__init__(services, worker, sounds)
        self.steps = StepBar([tr("カードと暗証番号"), tr("マイキーIDを決める"), tr("確認して登録")])
        flow = self.make_flow(tr("マイキーID設定: お客様のカードをリーダーに置いてください"))
        self.holder: CardHolder | None = None
        self.chosen = ""
        self._step = ""
        layout = QVBoxLayout(self)
        layout.addWidget(self.steps)
        layout.addWidget(flow, 1)
        self.choose_page = self._choose_page()
        self.confirm_page = self._confirm_page()
        flow.add_page(self.choose_page)
        flow.add_page(self.confirm_page)
        flow.set_first_job(self._identify_job)
        flow.job_finished.connect(self._on_result)
        flow.restarted.connect(lambda: self.steps.set_current(0))

    def _choose_page(self) -> Page:
        page = Page()
        layout = QVBoxLayout(page)
        layout.addWidget(big_label(tr("マイキーIDを決めてください"), role="title"))
        layout.addWidget(big_label(tr("半角の英字と数字で4〜16文字（例: MY123456）"), role="hint"))
        self.mykey_id = QLineEdit()
        self.mykey_id.setObjectName("amount")
        self.mykey_id.setMaxLength(16)
        layout.addWidget(self.mykey_id)
        self.taken = big_label("", role="bad")
        layout.addWidget(self.taken)
        self.candidate_row = QHBoxLayout()
        layout.addLayout(self.candidate_row)
        check = button(tr("使えるか確認する (Enter)"), role="primary")
        check.clicked.connect(self.check)
        layout.addWidget(check)
        cancel = button(tr("中止 (Esc)"))
        cancel.clicked.connect(lambda: self.flow.cancel() if self.flow else None)
        layout.addWidget(cancel)
        layout.addStretch(1)
        page.on_enter = self.check
        return page

    def _confirm_page(self) -> Page:
        page = Page()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addWidget(big_label(tr("このマイキーIDで登録します"), role="title"))
        self.confirm_id = big_label("", role="huge")
        layout.addWidget(self.confirm_id)
        layout.addWidget(
            big_label(
                tr("お客様に確認していただいてから「登録する」を押してください。"), role="prompt"
            )
        )
        row = QHBoxLayout()
        create = button(tr("登録する (Enter)"), role="primary")
        create.clicked.connect(self.register_id)
        back = button(tr("戻る (Esc)"))
        back.clicked.connect(self._back)
        row.addWidget(create)
        row.addWidget(back)
        layout.addLayout(row)
        layout.addStretch(1)
        page.on_enter = self.register_id
        page.on_escape = self._back
        return page

    def _identify_job(self) -> CardJob:
        counter = self.counter
        self._step = "identify"

        def identify(ctx: CardContext) -> CardHolder:
            ctx.stage("reading")
            card = read_card(counter, ctx.session)
            authenticated = ctx.prove_pin(card)
            ctx.stage("server")
            holder = resolve_holder(counter, card, authenticated)
            if not holder.online:
                raise ServerUnreachableError("MyKey ID set-up needs the server")
            if holder.mykey_id is not None and holder.status != "unregistered":
                raise MyKeyAlreadySetError(holder.mykey_id)
            return holder

        return identify

    def _on_result(self, result: Any) -> None:
        assert self.flow is not None
        if self._step == "identify" and isinstance(result, CardHolder):
            self.holder = result
            self.services.online = True
            self.mykey_id.clear()
            self.taken.clear()
            self._set_candidates([])
            self.steps.set_current(1)
            self.flow.show_page(self.choose_page)
            self.mykey_id.setFocus()
        elif self._step == "check" and isinstance(result, AvailabilityResponse):
            if result.available:
                self.confirm_id.setText(self.chosen)
                self.steps.set_current(2)
                self.flow.show_page(self.confirm_page)
            else:
                self.taken.setText(
                    tr("「{id}」はすでに使われています。別のIDか下の候補を選んでください。").format(
                        id=self.chosen
                    )
                )
                self._set_candidates(result.candidates)
                self.flow.show_page(self.choose_page)
        elif self._step == "create" and isinstance(result, Outcome):
            note_outcome(self.services, result)
            kind, title, lines = outcome_view(result, tr("マイキーIDを設定しました"))
            self.flow.finish(kind, title, lines, huge=self.chosen if result.done else "")

    def _set_candidates(self, candidates: list[str]) -> None:
        while self.candidate_row.count():
            item = self.candidate_row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for candidate in candidates[:4]:
            choice = QPushButton(candidate)
            choice.setMinimumHeight(52)
            choice.clicked.connect(lambda _=False, c=candidate: self.mykey_id.setText(c))
            self.candidate_row.addWidget(choice)

    def check(self) -> None:
        """Ask the server whether the typed ID is free."""
        assert self.flow is not None
        counter, text = self.counter, self.mykey_id.text().strip()
        self.chosen = text
        self._step = "check"

        def check(ctx: CardContext) -> AvailabilityResponse:
            ctx.stage("server")
            return check_mykey_id(counter, text)

        self.flow.run(check, stage="server")

    def register_id(self) -> None:
        """Create the MyKey ID bound to the card (the card signs the set-up)."""
        assert self.flow is not None
        holder, chosen, counter = self.holder, self.chosen, self.counter
        if holder is None:
            return
        self._step = "create"

        def create(ctx: CardContext) -> Outcome:
            ctx.stage("signing")
            return setup_mykey(counter, ctx.session, holder, chosen)

        self.flow.run(create, stage="signing", records=True, back=self.choose_page)

    def _back(self) -> None:
        assert self.flow is not None
        self.steps.set_current(1)
        self.flow.show_page(self.choose_page)
