"""PC/SC return codes map to the errors people see; the in-process connection's removal."""

from __future__ import annotations

import pytest

from cardio import errors
from cardio.transport import InProcessConnection, pcsc_error
from cardio.virtual.card import Faults
from tests.card.conftest import MakeCard


@pytest.mark.parametrize(
    ("hresult", "kind"),
    [
        (0x8010002E, errors.NoReaderError),  # no readers
        (0x8010001D, errors.NoReaderError),  # no service (pcscd not running)
        (0x8010001E, errors.NoReaderError),  # service stopped
        (0x80100009, errors.ReaderUnpluggedError),  # unknown reader
        (0x80100017, errors.ReaderUnpluggedError),  # reader unavailable
        (0x80100069, errors.CardRemovedError),  # removed card
        (0x8010000C, errors.NoCardError),  # no smart card
        (0x8010000B, errors.CardBusyError),  # sharing violation
        (0x80100016, errors.CardCommunicationError),  # not transacted
        (-0x7FEFFF97, errors.CardRemovedError),  # the same code as a signed 32-bit int
    ],
)
def test_pcsc_codes_map_to_user_errors(hresult: int, kind: type[errors.CardError]) -> None:
    error = pcsc_error(hresult, "connect", "Reader 0")
    assert type(error) is kind
    assert "Reader 0" in error.detail


def test_in_process_removal_is_card_removed(make_card: MakeCard) -> None:
    card = make_card(faults=Faults(remove_on_ins=0xB0))
    connection = InProcessConnection(card)
    assert connection.transmit(bytes.fromhex("00a4040c0ad392f000260100000001")) == b"\x90\x00"
    with pytest.raises(errors.CardRemovedError):
        connection.transmit(bytes.fromhex("00b0000004"))
    with pytest.raises(errors.CardRemovedError):
        connection.transmit(bytes.fromhex("00b0000004"))
    connection.close()
    with pytest.raises(errors.CardRemovedError):
        connection.transmit(bytes.fromhex("00b0000004"))


def test_in_process_close_unpowers_the_card(make_card: MakeCard) -> None:
    card = make_card()
    with InProcessConnection(card):
        assert card.powered
    assert not card.powered


def test_auth_imports_without_pyscard() -> None:
    """The ledger server imports cardio.auth; that must not load pyscard."""
    import subprocess
    import sys

    code = (
        "import sys, cardio.auth, cardio.errors, cardio.revocation, cardio.jpki; "
        "sys.exit('smartcard' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
