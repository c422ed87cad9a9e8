"""What every screen shares: the services, the card worker, the sounds, and activation."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from terminal.services.counter import Counter
from ui.card_flow import CardFlow
from ui.card_worker import CardWorker
from ui.context import AppServices
from ui.sound import Sounds


class Screen(QWidget):
    """A mode's screen. ``activate`` when shown, ``deactivate`` when left."""

    def __init__(self, services: AppServices, worker: CardWorker, sounds: Sounds) -> None:
        super().__init__()
        self.services = services
        self.worker = worker
        self.sounds = sounds
        self.flow: CardFlow | None = None

    @property
    def counter(self) -> Counter:
        """The enrolled counter (card screens exist only when enrolled)."""
        assert self.services.counter is not None
        return self.services.counter

    def make_flow(self, place_hint: str) -> CardFlow:
        """This screen's card flow."""
        self.flow = CardFlow(self.worker, self.services.reader, self.sounds, place_hint=place_hint)
        return self.flow

    def activate(self) -> None:
        """The screen is shown."""
        if self.flow is not None:
            self.flow.activate()

    def deactivate(self) -> None:
        """The screen is left."""
        if self.flow is not None:
            self.flow.deactivate()
