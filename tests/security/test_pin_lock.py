"""PIN lock through the real PC/SC stack (pyscard -> pcscd -> vpcd -> emulator): three wrong PINs
lock the card, and every later attempt is refused WITHOUT the PIN being sent to the card (no
VERIFY carrying data reaches it), by the library, by `mykey card auth` and by `mykey terminal
use`. The card itself records what it received."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cardio import errors
from cardio.auth import TrustStore, authenticate
from cardio.jpki import JpkiSession
from cardio.secrets import Pin
from cardio.transport import PcscConnection
from cardio.virtual.ca import TestCA
from cardio.virtual.card import VirtualJpkiCard
from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from tests.card_pcsc.support import PIN, READER, WRONG_PIN, Reader, run_mykey
from tests.support.processes import mykey_json
from tests.sync.support import LedgerServer

pytestmark = pytest.mark.pcsc

INS_VERIFY = 0x20


class RecordingCard(VirtualJpkiCard):
    """The emulator, noting every VERIFY that carried a PIN (never the PIN itself)."""

    def __init__(self, profile: CardProfile) -> None:
        super().__init__(profile)
        self.pins_received = 0
        self._count_lock = threading.Lock()

    def transmit(self, apdu: bytes) -> bytes:
        if len(apdu) > 5 and apdu[1] == INS_VERIFY and apdu[4] > 0:
            with self._count_lock:
                self.pins_received += 1
        return super().transmit(apdu)


def _library_attempt(trust: TrustStore, pin: str | Callable[[int], Pin]) -> None:
    connection = PcscConnection.open(READER)
    try:
        chosen = Pin(pin) if isinstance(pin, str) else pin
        authenticate(
            JpkiSession(connection),
            chosen,
            b"c" * 32,
            trust=trust,
            clock=lambda: datetime.now(UTC),
        )
    finally:
        connection.close()


@pytest.fixture
def locked(
    reader: Reader, issue_card: Callable[[], CardProfile], test_ca: TestCA
) -> Iterator[RecordingCard]:
    """A card locked by three wrong PINs, in the reader."""
    card = RecordingCard(issue_card())
    reader.insert(card)
    trust = TrustStore.from_directory(test_ca.trust_directory)
    for tries_left in (2, 1):
        with pytest.raises(errors.WrongPinError) as wrong:
            _library_attempt(trust, WRONG_PIN)
        assert wrong.value.tries_left == tries_left
    with pytest.raises(errors.PinLockedError):
        _library_attempt(trust, WRONG_PIN)
    assert card.pins_received == 3
    yield card


def test_the_fourth_attempt_is_refused_without_sending_the_pin(
    locked: RecordingCard, test_ca: TestCA
) -> None:
    trust = TrustStore.from_directory(test_ca.trust_directory)
    asked: list[int] = []

    def prompt(tries: int) -> Pin:
        asked.append(tries)
        return Pin(PIN)

    with pytest.raises(errors.PinLockedError) as refused:
        _library_attempt(trust, prompt)
    assert asked == [] and locked.pins_received == 3
    assert "市区町村" in refused.value.message_ja  # where to unlock it
    code, lines = _card_auth(test_ca.trust_directory)
    assert (code, lines[-1]) == (4, "result: pin-locked")
    assert locked.pins_received == 3, "mykey card auth sent a PIN to a locked card"


def _card_auth(trust_dir: Path) -> tuple[int, list[str]]:
    done = run_mykey("card", "auth", "--trust", str(trust_dir), "--pin-stdin", stdin=PIN + "\n")
    return done.returncode, done.stdout.splitlines()


def test_the_counter_command_does_not_send_a_pin_to_a_locked_card(
    locked: RecordingCard, test_ca: TestCA, tmp_path: Path
) -> None:
    with LedgerServer(tmp_path / "ledger", test_ca.trust_directory) as server:
        server.resident(locked.profile, "LOCKED01", 100)
        with server.engine.begin() as conn:
            code = op.create_enrollment_code(conn, "A0001", ["shop"]).code
        data = tmp_path / "shop"
        shutil.copytree(test_ca.trust_directory, data / "trust")
        enrolled = mykey_json(
            "terminal", "enroll", "--server", server.base_url, f"--code={code}", "--data", str(data)
        )
        assert enrolled["ok"], enrolled
        used = mykey_json(
            "terminal", "use", "--points", "10", "--pin-stdin", "--reader", READER,
            "--data", str(data), stdin=PIN + "\n",
        )  # fmt: skip
        assert used["exit_code"] != 0 and server.transaction_count() == 0, used
    assert locked.pins_received == 3, "mykey terminal use sent a PIN to a locked card"
