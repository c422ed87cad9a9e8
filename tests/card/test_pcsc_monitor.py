"""Through real pcscd + vpcd: reader events, picking the reader by JPKI SELECT, a card pulled
mid-SIGN. Uses vpcd's second reader ("Virtual PCD 00 01", port 35964) so it does not compete
with tests/card_pcsc, which own the first one; that reader is left empty afterwards."""

from __future__ import annotations

import queue
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cardio import errors
from cardio.auth import TrustStore, authenticate
from cardio.jpki import CertificateCache, JpkiSession
from cardio.monitor import CardMonitor
from cardio.secrets import Pin
from cardio.transport import PcscConnection, list_readers, reader_states
from cardio.virtual.card import Faults, VirtualJpkiCard
from cardio.virtual.vpcd import VpcdBridge
from tests.card.conftest import PIN, MakeCard

pytestmark = pytest.mark.pcsc

ROOT = Path(__file__).resolve().parents[2]
READER = "Virtual PCD 00 01"
PORT = 35964
WAIT_S = 10.0


class NotJpkiCard:
    """A card without the JPKI application: every command gets 6A82 / 6D00."""

    atr = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")

    def power_on(self) -> bytes:
        return self.atr

    def power_off(self) -> None:
        return None

    def reset(self) -> bytes:
        return self.atr

    def transmit(self, apdu: bytes) -> bytes:
        return b"\x6a\x82" if apdu[1] == 0xA4 else b"\x6d\x00"


@pytest.fixture()
def events() -> Iterator[queue.Queue[tuple[str, str]]]:
    """Events from a running CardMonitor, as (kind, reader)."""
    subprocess.run([str(ROOT / "scripts" / "pcscd.sh"), "start"], check=True, capture_output=True)
    got: queue.Queue[tuple[str, str]] = queue.Queue()
    monitor = CardMonitor(
        on_reader_added=lambda r: got.put(("reader-added", r)),
        on_reader_removed=lambda r: got.put(("reader-removed", r)),
        on_card_inserted=lambda r, atr: got.put(("card-inserted", r)),
        on_card_removed=lambda r: got.put(("card-removed", r)),
    )
    with monitor:
        yield got


@pytest.fixture()
def bridge() -> Iterator[VpcdBridge]:
    vpcd = VpcdBridge("127.0.0.1", PORT)
    vpcd.start()
    try:
        yield vpcd
    finally:
        vpcd.stop()
        deadline = time.monotonic() + WAIT_S  # leave the reader empty for whoever comes next
        while reader_states().get(READER) is not None and time.monotonic() < deadline:
            time.sleep(0.05)


def wait_for(got: queue.Queue[tuple[str, str]], wanted: tuple[str, str]) -> None:
    while True:
        try:
            event = got.get(timeout=WAIT_S)
        except queue.Empty:
            pytest.fail(f"no {wanted} event from the monitor", pytrace=False)
        if event == wanted:
            return


def test_monitor_reports_readers_and_cards(
    events: queue.Queue[tuple[str, str]], bridge: VpcdBridge, make_card: MakeCard
) -> None:
    assert READER in list_readers()
    wait_for(events, ("reader-added", READER))
    bridge.insert(make_card())
    wait_for(events, ("card-inserted", READER))
    assert reader_states()[READER] is not None
    bridge.remove()
    wait_for(events, ("card-removed", READER))


def test_reader_is_chosen_by_jpki_select_and_removal_mid_sign_is_reported(
    events: queue.Queue[tuple[str, str]],
    bridge: VpcdBridge,
    make_card: MakeCard,
    trust: TrustStore,
) -> None:
    bridge.insert(NotJpkiCard())
    wait_for(events, ("card-inserted", READER))
    if reader_states().get("Virtual PCD 00 00") is None:  # nobody else's card around
        with pytest.raises(errors.NotMyNumberCardError):
            PcscConnection.open()

    card: VirtualJpkiCard = make_card()
    bridge.insert(card)
    wait_for(events, ("card-inserted", READER))
    cache = CertificateCache()
    with PcscConnection.open(READER) as connection:
        result = authenticate(
            JpkiSession(connection, certificate_cache=cache), Pin(PIN), b"c" * 32, trust=trust
        )
    assert result.ref.serial == card.profile.auth_certificate.serial_number

    card.faults = Faults(remove_on_ins=0x2A)
    with PcscConnection.open(READER) as connection, pytest.raises(errors.CardRemovedError):
        authenticate(
            JpkiSession(connection, certificate_cache=cache), Pin(PIN), b"c" * 32, trust=trust
        )
    card.faults = Faults()
    bridge.insert(card)  # placed again: works, and the PIN was not spent
    wait_for(events, ("card-inserted", READER))
    with PcscConnection.open(READER) as connection:
        authenticate(
            JpkiSession(connection, certificate_cache=cache), Pin(PIN), b"c" * 32, trust=trust
        )
    assert card.profile.pin_tries_left == 3
