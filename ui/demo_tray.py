"""The demo's side panel: which terminal the window is, the three demo cards to place and take
off the reader, and the local ledger's switch (to show the counter working offline).

A plain widget: it only asks (signals) and shows what it is told (``show_*``). The demo's
composition root (``mykey.demo``) places the cards (through pcscd + vpcd, or in-process) and
starts and stops the ledger.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFrame, QPushButton, QVBoxLayout

from ui.text import tr
from ui.widgets import big_label, button, set_role


def card_labels() -> dict[str, str]:
    """The demo cards' button labels (name -> label)."""
    return {
        "ordinary": tr("ふつうのカード"),
        "last-try": tr("暗証番号あと1回のカード"),
        "revoked": tr("失効したカード"),
    }


def terminal_labels() -> dict[str, str]:
    """The demo terminals (name -> label)."""
    return {
        "shop": tr("お店（青果店）"),
        "office": tr("商店街事務局"),
        "library": tr("図書館"),
        "desk": tr("市役所の窓口"),
    }


class DemoTray(QFrame):
    """Terminal chooser, card tray and ledger switch of ``mykey demo``."""

    terminal_chosen = Signal(str)
    place_requested = Signal(str)
    remove_requested = Signal()
    ledger_toggle_requested = Signal()

    def __init__(self, terminal: str, card_path: str) -> None:
        super().__init__()
        self.setObjectName("demo-tray")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(320)
        layout = QVBoxLayout(self)
        layout.addWidget(big_label(tr("デモ"), role="section"))
        layout.addWidget(big_label(tr("端末"), role="hint"))
        self.terminal = QComboBox()
        for name, label in terminal_labels().items():
            self.terminal.addItem(label, name)
        self.terminal.setCurrentIndex(max(self.terminal.findData(terminal), 0))
        self.terminal.activated.connect(
            lambda _i: self.terminal_chosen.emit(str(self.terminal.currentData()))
        )
        layout.addWidget(self.terminal)
        layout.addWidget(big_label(tr("カード（暗証番号 1234）"), role="hint"))
        self.card_buttons: dict[str, QPushButton] = {}
        for name, label in card_labels().items():
            place = button(label)
            place.setCheckable(True)
            place.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            place.clicked.connect(lambda _=False, n=name: self.place_requested.emit(n))
            layout.addWidget(place)
            self.card_buttons[name] = place
        self.remove_button = button(tr("カードを取る"))
        self.remove_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.remove_button.clicked.connect(self.remove_requested.emit)
        layout.addWidget(self.remove_button)
        self.card_state = big_label("", role="hint")
        layout.addWidget(self.card_state)
        self.path_label = big_label(card_path, role="hint")
        layout.addWidget(self.path_label)
        layout.addStretch(1)
        layout.addWidget(big_label(tr("台帳サーバー（ローカル）"), role="hint"))
        self.ledger_state = big_label("", role="ok")
        layout.addWidget(self.ledger_state)
        self.ledger_hint = big_label("", role="hint")
        layout.addWidget(self.ledger_hint)
        self.ledger_button = button("")
        self.ledger_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.ledger_button.clicked.connect(self.ledger_toggle_requested.emit)
        layout.addWidget(self.ledger_button)
        self.show_card(None)
        self.show_ledger(True)

    def show_card(self, name: str | None) -> None:
        """Which card lies on the reader (None: none)."""
        for card, place in self.card_buttons.items():
            place.setChecked(card == name)
        self.remove_button.setEnabled(name is not None)
        label = card_labels().get(name or "", "")
        self.card_state.setText(
            tr("リーダー上: {c}").format(c=label) if name else tr("リーダー上: なし")
        )

    def show_ledger(self, running: bool) -> None:
        """Whether the local ledger serves."""
        set_role(self.ledger_state, "ok" if running else "bad")
        self.ledger_state.setText(tr("稼働中") if running else tr("停止中"))
        self.ledger_hint.setText(
            tr("止めると端末はオフラインで受け付けます")
            if running
            else tr("動かすと未送信の取引を同期できます")
        )
        self.ledger_button.setText(tr("台帳を止める") if running else tr("台帳を動かす"))

    def show_terminal(self, name: str) -> None:
        """The terminal the window shows now."""
        index = self.terminal.findData(name)
        if index >= 0:
            self.terminal.setCurrentIndex(index)
