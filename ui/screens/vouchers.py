"""Placeholder for ポイント券発行 / ポイント券読取 until the voucher screens land (they replace
the two factories in :mod:`ui.screens.registry`)."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout

from ui.card_worker import CardWorker
from ui.context import AppServices
from ui.screens.base import Screen
from ui.sound import Sounds
from ui.text import tr
from ui.widgets import big_label


class VoucherPlaceholder(Screen):
    """Says plainly that this mode is not available in this version yet."""

    def __init__(
        self, services: AppServices, worker: CardWorker, sounds: Sounds, *, issue: bool
    ) -> None:
        super().__init__(services, worker, sounds)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        title = tr("ポイント券発行") if issue else tr("ポイント券読取")
        layout.addWidget(big_label(title, role="title"))
        layout.addWidget(big_label(tr("この機能は次の版で使えるようになります。"), role="prompt"))
        layout.addStretch(1)
