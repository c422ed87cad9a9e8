"""GUI test helpers: an in-process card tray (the virtual card on a pretend reader) and
screenshots of the real window."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from cardio.errors import NoCardError
from cardio.jpki import JpkiSession
from cardio.transport import InProcessConnection
from cardio.virtual.card import Faults, VirtualJpkiCard
from cardio.virtual.profile import CardProfile
from ui.card_flow import CardFlow, FlowState
from ui.reader import ReaderState

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
SIZE = (1280, 800)
READER = "Virtual Card Tray 00"
#: the PIN of the GUI tests' shared cards
PIN = "8642"
WAIT_MS = 15000


class Tray:
    """A pretend reader: place a virtual card on it, take it off. ``open`` is the window's
    session factory (what a PC/SC reader gives the real application)."""

    def __init__(self, reader: ReaderState) -> None:
        self.reader = reader
        self.card: VirtualJpkiCard | None = None
        self.opened = 0
        reader.reader_added(READER)

    def place(
        self, profile: CardProfile, *, latency: str = "instant", faults: Faults | None = None
    ) -> VirtualJpkiCard:
        """Put a card on the reader (the window hears 'card inserted')."""
        self.card = VirtualJpkiCard(profile, latency=latency, faults=faults)
        self.reader.card_in(READER)
        return self.card

    def remove(self) -> None:
        """Take the card off (an open session fails like a pulled card)."""
        if self.card is not None:
            self.card.power_off()
        self.card = None
        self.reader.card_out(READER)

    @contextmanager
    def open(self, _reader: str | None) -> Iterator[Any]:
        """A JPKI session on the card lying on the tray."""
        if self.card is None:
            raise NoCardError("nothing on the tray")
        self.opened += 1
        connection = InProcessConnection(self.card)
        try:
            yield JpkiSession(connection)
        finally:
            connection.close()


def screenshot(widget: QWidget, name: str) -> Path:
    """Save ``widget`` as build/screenshots/<name>.png at the fixed size."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.resize(*SIZE)
    path = SHOTS / f"{name}.png"
    assert widget.grab().save(str(path)), path
    return path


def wait_state(qtbot: QtBot, flow: CardFlow, state: FlowState, timeout: int = WAIT_MS) -> None:
    """Wait until the flow is in ``state``; on timeout say where it is instead."""
    try:
        qtbot.waitUntil(lambda: flow.state is state, timeout=timeout)
    except Exception as error:
        shown = f"{flow.fail_title.text()} {flow.result_title.text()}"
        raise AssertionError(f"flow is {flow.state}, wanted {state}: {shown}") from error


def type_pin(qtbot: QtBot, flow: CardFlow, pin: str = PIN) -> None:
    """Wait for the PIN pad, type ``pin`` on the keyboard and press Enter."""
    wait_state(qtbot, flow, FlowState.PIN)
    qtbot.keyClicks(flow.pin_pad, pin)
    qtbot.keyClick(flow.pin_pad, Qt.Key.Key_Return)
