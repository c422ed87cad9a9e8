"""A guided-steps header (手順 1/3 ...) for the set-up screens."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from ui.widgets import set_role


class StepBar(QWidget):
    """The steps of a guided task; the current one stands out."""

    def __init__(self, steps: list[str]) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        self.labels: list[QLabel] = []
        for index, text in enumerate(steps, start=1):
            arrow = "" if index == len(steps) else "  →"
            label = QLabel(f"{index}. {text}{arrow}")
            layout.addWidget(label)
            self.labels.append(label)
        layout.addStretch(1)
        self.set_current(0)

    def set_current(self, index: int) -> None:
        """Highlight step ``index`` (0-based)."""
        for position, label in enumerate(self.labels):
            set_role(label, "section" if position == index else "hint")
