"""Small shared widgets: large prompts, the numeric keypad and the customer-facing PIN pad."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cardio.secrets import Pin
from ui.text import tr

PIN_LENGTH = 4


def big_label(text: str = "", *, role: str = "prompt") -> QLabel:
    """A centred, word-wrapped label; ``role`` picks its size and colour from the style sheet
    (``prompt``, ``title``, ``huge``, ``hint``, ``ok``, ``warn``, ``bad``)."""
    label = QLabel(text)
    label.setObjectName(role)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def set_role(label: QLabel, role: str) -> None:
    """Change a label's style role (size and colour) and re-apply the style sheet to it."""
    label.setObjectName(role)
    style = label.style()
    style.unpolish(label)
    style.polish(label)


def button(text: str, *, role: str = "") -> QPushButton:
    """A large push button (``role`` ``primary`` or ``danger`` colours it)."""
    widget = QPushButton(text)
    if role:
        widget.setObjectName(role)
    widget.setMinimumHeight(56)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return widget


class Keypad(QWidget):
    """On-screen digits 0–9, a correction key and an OK key."""

    digit = Signal(str)
    backspace = Signal()
    ok = Signal()

    def __init__(self, ok_text: str) -> None:
        super().__init__()
        grid = QGridLayout(self)
        grid.setSpacing(8)
        for index, digit in enumerate("789456123"):
            key = button(digit)
            key.setObjectName("key")
            key.clicked.connect(lambda _=False, d=digit: self.digit.emit(d))
            grid.addWidget(key, index // 3, index % 3)
        correction = button(tr("訂正"))
        correction.clicked.connect(self.backspace.emit)
        zero = button("0")
        zero.setObjectName("key")
        zero.clicked.connect(lambda: self.digit.emit("0"))
        confirm = button(ok_text, role="primary")
        confirm.clicked.connect(self.ok.emit)
        grid.addWidget(correction, 3, 0)
        grid.addWidget(zero, 3, 1)
        grid.addWidget(confirm, 3, 2)


class PinPad(QWidget):
    """The customer's PIN entry: masked, tries left shown, an explicit confirmation when only
    one try is left. Emits ``entered`` (no argument); the flow then calls :meth:`take_pin`."""

    entered = Signal()
    cancelled = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._digits: list[str] = []
        self._tries = 3
        self._confirming = False
        self._wrong = False
        layout = QVBoxLayout(self)
        self.prompt = big_label(tr("暗証番号（数字4桁）を入力してください"), role="title")
        self.notice = big_label("", role="warn")
        self.display = big_label("", role="huge")
        self.tries = big_label("", role="hint")
        self.keypad = Keypad(tr("決定 (Enter)"))
        self.keypad.setMaximumWidth(640)
        self.keypad.digit.connect(self.add_digit)
        self.keypad.backspace.connect(self.remove_digit)
        self.keypad.ok.connect(self.submit)
        self.confirm_box = QWidget()
        row = QHBoxLayout(self.confirm_box)
        self.confirm_text = big_label(
            tr("残り1回です。間違えるとロックされます。")
            + "\n"
            + tr("この暗証番号で確定しますか？"),
            role="warn",
        )
        yes = button(tr("確定する (Enter)"), role="danger")
        yes.clicked.connect(self.submit)
        again = button(tr("入力し直す (Esc)"))
        again.clicked.connect(self.restart)
        row.addWidget(yes)
        row.addWidget(again)
        cancel = button(tr("中止 (Esc)"))
        cancel.clicked.connect(self.cancelled.emit)
        self.who = big_label(
            tr("お客様ご自身で入力してください（画面の数字またはキーボード）"), role="hint"
        )
        for widget in (self.prompt, self.who, self.notice, self.display, self.tries):
            layout.addWidget(widget)
        layout.addWidget(self.confirm_text)
        layout.addWidget(self.confirm_box)
        layout.addWidget(self.keypad, 0, Qt.AlignmentFlag.AlignHCenter)
        cancel.setMaximumWidth(640)
        layout.addWidget(cancel, 0, Qt.AlignmentFlag.AlignHCenter)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.reset(3, wrong=False)

    def reset(self, tries_left: int, *, wrong: bool) -> None:
        """Ready for a new entry with ``tries_left`` tries; ``wrong``: the last PIN was wrong."""
        self._digits.clear()
        self._tries = tries_left
        self._confirming = False
        self.notice.setText(tr("暗証番号が違います。もう一度入力してください。") if wrong else "")
        self._wrong = wrong
        self.tries.setText(tr("残り回数: {n}回").format(n=tries_left))
        set_role(self.tries, "bad" if tries_left == 1 else "prompt")
        self._refresh()

    @property
    def needs_confirmation(self) -> bool:
        """True while the last-try confirmation is on screen."""
        return self._confirming

    def _refresh(self) -> None:
        filled = len(self._digits)
        self.display.setText("●" * filled + "○" * (PIN_LENGTH - filled))
        self.confirm_text.setVisible(self._confirming)
        self.confirm_box.setVisible(self._confirming)
        self.keypad.setVisible(not self._confirming)
        self.who.setVisible(not self._confirming)
        self.notice.setVisible(self._wrong and not self._confirming)

    def add_digit(self, digit: str) -> None:
        """One more digit (ignored when four are there)."""
        if len(self._digits) < PIN_LENGTH and not self._confirming:
            self._digits.append(digit)
            self._refresh()

    def remove_digit(self) -> None:
        """Remove the last digit."""
        if self._digits and not self._confirming:
            self._digits.pop()
            self._refresh()

    def restart(self) -> None:
        """Clear the entry (back from the confirmation)."""
        self._digits.clear()
        self._confirming = False
        self._refresh()

    def submit(self) -> None:
        """OK: four digits given -> ``entered`` (after the confirmation when one try is left)."""
        if len(self._digits) != PIN_LENGTH:
            return
        if self._tries == 1 and not self._confirming:
            self._confirming = True
            self._refresh()
            return
        self.entered.emit()

    def take_pin(self) -> Pin:
        """The typed PIN as a :class:`Pin`; the pad forgets the digits."""
        pin = Pin("".join(self._digits))
        self._digits.clear()
        self._confirming = False
        self._refresh()
        return pin

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        """Physical keys: digits, Backspace, Enter, Esc."""
        key, text = event.key(), event.text()
        if text.isdigit() and len(text) == 1:
            self.add_digit(text)
        elif key == Qt.Key.Key_Backspace:
            self.remove_digit()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submit()
        elif key == Qt.Key.Key_Escape:
            if self._confirming:
                self.restart()
            else:
                self.cancelled.emit()
        else:
            super().keyPressEvent(event)
