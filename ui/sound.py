"""Success and failure sounds (can be turned off).

PySide6-Essentials has no QtMultimedia (it is in the Addons wheel), so the sounds are the
platform beep (``QApplication.beep``): one beep for success, two for a failure.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


class Sounds:
    """Plays the result sounds when enabled; ``played`` records them (for the status and tests)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.played: list[str] = []

    def success(self) -> None:
        """One beep."""
        self._play("success", 1)

    def failure(self) -> None:
        """Two beeps."""
        self._play("failure", 2)

    def _play(self, name: str, beeps: int) -> None:
        if not self.enabled:
            return
        self.played.append(name)
        QApplication.beep()
        for index in range(1, beeps):
            QTimer.singleShot(180 * index, QApplication.beep)
