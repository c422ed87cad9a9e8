"""図書館: the card as a member card. The patron number in very large type, copied to the
clipboard; no PIN by default. No number linked yet: link one (with the PIN)."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QVBoxLayout

from sync.protocol import Role
from terminal.errors import UnknownCardError
from terminal.services.counter import CardHolder, read_card, resolve_holder
from terminal.services.library import library_pin_required
from terminal.services.service_id import link_service_id
from terminal.services.submit import Outcome
from ui.card_flow import Page
from ui.card_worker import CardContext, CardJob, CardWorker
from ui.context import AppServices
from ui.failure import Failure
from ui.screens.base import Screen
from ui.screens.outcome_text import note_outcome, outcome_view
from ui.sound import Sounds
from ui.text import tr
from ui.widgets import big_label, button


class LibraryScreen(Screen):
    """The library counter's look-up screen."""

    def __init__(self, services: AppServices, worker: CardWorker, sounds: Sounds) -> None:
        super().__init__(services, worker, sounds)
        flow = self.make_flow(tr("図書館: カードで利用者番号を表示します"))
        self.holder: CardHolder | None = None
        self.customer_id = ""
        self._step = ""
        layout = QVBoxLayout(self)
        layout.addWidget(flow)
        self.link_page = self._link_page()
        flow.add_page(self.link_page)
        flow.set_first_job(self._lookup_job)
        flow.job_finished.connect(self._on_result)

    def _link_page(self) -> Page:
        page = Page()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addWidget(
            big_label(tr("このカードには利用者番号が登録されていません"), role="title")
        )
        layout.addWidget(
            big_label(
                tr(
                    "利用者番号を入力して「登録する」を押してください。お客様の暗証番号が必要です。"
                ),
                role="prompt",
            )
        )
        self.patron = QLineEdit()
        self.patron.setObjectName("amount")
        self.patron.setMaxLength(32)
        self.patron.setPlaceholderText(tr("利用者番号"))
        layout.addWidget(self.patron)
        self.link_error = big_label("", role="bad")
        layout.addWidget(self.link_error)
        row = QHBoxLayout()
        link = button(tr("登録する (Enter)"), role="primary")
        link.clicked.connect(self.link)
        cancel = button(tr("登録しない (Esc)"))
        cancel.clicked.connect(lambda: self.flow.cancel() if self.flow else None)
        row.addWidget(link)
        row.addWidget(cancel)
        layout.addLayout(row)
        layout.addStretch(1)
        page.on_enter = self.link
        return page

    def _lookup_job(self) -> CardJob:
        counter = self.counter
        pin_required = library_pin_required(counter)
        self._step = "lookup"

        def lookup(ctx: CardContext) -> CardHolder:
            counter.require_role(Role.LIBRARY)
            ctx.stage("reading")
            card = read_card(counter, ctx.session)
            authenticated = ctx.prove_pin(card) if pin_required else None
            ctx.stage("server")
            holder = resolve_holder(counter, card, authenticated)
            if holder.mykey_id is not None and holder.online:
                holder.require_active()
            return holder

        return lookup

    def _on_result(self, result: Any) -> None:
        assert self.flow is not None
        if self._step == "lookup" and isinstance(result, CardHolder):
            self._show_holder(result)
        elif self._step == "link" and isinstance(result, Outcome):
            note_outcome(self.services, result)
            if result.done:
                self._show_number(self.customer_id, tr("利用者番号を登録しました"))
            else:
                kind, title, lines = outcome_view(result, "")
                self.flow.finish(kind, title, lines)

    def _show_holder(self, holder: CardHolder) -> None:
        assert self.flow is not None
        self.services.online = holder.online
        if holder.mykey_id is None:
            if holder.online:
                error = UnknownCardError()
                self.flow.fail(Failure(error.code, error.message_ja, error.message_en))
            else:
                self.flow.fail(
                    Failure(
                        "unknown-card-offline",
                        "オフラインのため、このカードの利用者番号を確認できません。"
                        "通信が戻ってからもう一度お試しください。",
                        "Offline: this card's patron number is not known here. Try again "
                        "when the network is back.",
                    )
                )
            return
        if holder.customer_id:
            self._show_number(holder.customer_id, tr("利用者番号"))
            return
        self.holder = holder
        self.patron.clear()
        self.link_error.clear()
        self.flow.show_page(self.link_page)
        self.patron.setFocus()

    def _show_number(self, number: str, title: str) -> None:
        assert self.flow is not None
        QGuiApplication.clipboard().setText(number)
        self.flow.finish(
            "ok",
            title,
            [tr("クリップボードにコピーしました（貸出画面に貼り付けできます）")],
            huge=number,
        )

    def link(self) -> None:
        """Link the typed patron number (the card signs it after the PIN)."""
        assert self.flow is not None
        holder, number = self.holder, self.patron.text().strip()
        if holder is None:
            return
        if not number:
            self.link_error.setText(tr("利用者番号を入力してください。"))
            return
        counter = self.counter
        self.customer_id = number
        self._step = "link"

        def link(ctx: CardContext) -> Outcome:
            ctx.prove_pin(holder.card)
            ctx.stage("signing")
            return link_service_id(counter, ctx.session, holder, number)

        self.flow.run(link, stage="reading", records=True)
