"""Helpers of the PC/SC tests: the vpcd reader as pcscd sees it, cards, and the `mykey` CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from smartcard import scard

from cardio.virtual.card import Faults, VirtualJpkiCard
from cardio.virtual.profile import CardProfile
from cardio.virtual.vpcd import VpcdBridge

ROOT = Path(__file__).resolve().parents[2]
READER = "Virtual PCD 00 00"
EMPTY_READER = "Virtual PCD 00 01"
VPCD_PORT = 35963
PIN = "5917"
WRONG_PIN = "2468"
STATE_TIMEOUT_S = 10.0


class Reader:
    """The vpcd reader as the tests see it: place a card, take it away, both as pcscd sees it."""

    def __init__(self, bridge: VpcdBridge) -> None:
        self.bridge = bridge
        self.name = READER

    def insert(self, card: VirtualJpkiCard) -> VirtualJpkiCard:
        """Put ``card`` in the reader and wait until pcscd reports it present."""
        if card_present(READER):
            self.remove()
        self.bridge.insert(card)
        wait_for_card(READER, present=True)
        return card

    def remove(self) -> None:
        """Take the card away and wait until pcscd reports the reader empty."""
        self.bridge.remove()
        wait_for_card(READER, present=False)


def card_present(reader: str) -> bool:
    """Whether pcscd currently reports a card in ``reader``."""
    return reader_state(reader)[0]


def reader_state(reader: str) -> tuple[bool, bytes]:
    """(card present, its ATR as pcscd reports it) for ``reader``."""
    result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if result != scard.SCARD_S_SUCCESS:
        raise RuntimeError(f"pcscd: {scard.SCardGetErrorMessage(result)}")
    try:
        result, states = scard.SCardGetStatusChange(
            context, 0, [(reader, scard.SCARD_STATE_UNAWARE)]
        )
        if result != scard.SCARD_S_SUCCESS:
            raise RuntimeError(f"pcscd: {scard.SCardGetErrorMessage(result)}")
        _name, event_state, atr = states[0]
        return bool(event_state & scard.SCARD_STATE_PRESENT), bytes(atr)
    finally:
        scard.SCardReleaseContext(context)


def wait_for_card(reader: str, *, present: bool, atr: bytes | None = None) -> None:
    """Wait until pcscd reports the card in ``reader`` present (with ``atr``) or absent."""
    deadline = time.monotonic() + STATE_TIMEOUT_S
    while True:
        now_present, now_atr = reader_state(reader)
        if now_present == present and (atr is None or now_atr == atr):
            return
        if time.monotonic() > deadline:
            state = "present" if present else "absent"
            pytest.fail(
                f"{reader}: the card did not become {state} within {STATE_TIMEOUT_S} s "
                f"(ATR now {now_atr.hex()}; is another program connected to vpcd's port?)",
                pytrace=False,
            )
        time.sleep(0.05)


def make_card(
    profile: CardProfile, *, latency: str = "instant", faults: Faults | None = None
) -> VirtualJpkiCard:
    """A freshly powered-down virtual card of ``profile``."""
    return VirtualJpkiCard(profile, latency=latency, faults=faults)


def run_mykey(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``mykey …`` in a subprocess (as a user would), PIN lines on stdin."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mykey.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        cwd=ROOT,
    )
