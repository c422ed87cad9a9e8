"""The APDU layer against a scripted connection: encoding, status words, 61xx, 6Cxx, 6F00."""

from __future__ import annotations

import pytest

from cardio import errors
from cardio.apdu import ApduChannel, Command, Response
from tests.card.fakes import ScriptedConnection


@pytest.mark.parametrize(
    ("command", "encoded"),
    [
        (Command(0x00, 0x20, 0x00, 0x80), "00200080"),
        (Command(0x00, 0xB0, 0x01, 0x00, le=256), "00b0010000"),
        (Command(0x00, 0xB0, 0x00, 0x00, le=4), "00b0000004"),
        (Command(0x00, 0xA4, 0x02, 0x0C, bytes.fromhex("000a")), "00a4020c02000a"),
        (Command(0x80, 0x2A, 0x00, 0x80, b"\x01\x02", le=256), "802a008002010200"),
    ],
)
def test_short_apdu_encoding(command: Command, encoded: str) -> None:
    assert command.to_bytes().hex() == encoded


@pytest.mark.parametrize("kwargs", [{"data": bytes(256)}, {"le": 0}, {"le": 257}, {"p1": 256}])
def test_commands_that_are_not_short_apdus_are_refused(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {"cla": 0, "ins": 0xB0, "p1": 0, "p2": 0}
    with pytest.raises(ValueError):
        Command(**{**base, **kwargs})  # type: ignore[arg-type]


def test_sensitive_data_never_shows() -> None:
    command = Command(0x00, 0x20, 0x00, 0x80, b"4821", sensitive=True)
    for text in (repr(command), command.describe(), str(command)):
        assert "4821" not in text and b"4821".hex() not in text


@pytest.mark.parametrize(
    ("sw", "kind"),
    [
        ("6700", errors.WrongLengthError),
        ("6982", errors.PinNotVerifiedError),
        ("6a82", errors.FileNotFoundOnCardError),
        ("6a86", errors.WrongParametersError),
        ("6b00", errors.WrongParametersError),
        ("6d00", errors.InstructionNotSupportedError),
        ("6e00", errors.InstructionNotSupportedError),
        ("6581", errors.StatusWordError),
    ],
)
def test_status_words_become_typed_errors(sw: str, kind: type[errors.StatusWordError]) -> None:
    conn = ScriptedConnection([("00b0000004", sw)])
    channel = ApduChannel(conn, after_power_up=False)
    with pytest.raises(kind) as excinfo:
        channel.send(Command(0x00, 0xB0, 0, 0, le=4))
    assert type(excinfo.value) is kind
    assert excinfo.value.sw == int(sw, 16)


def test_61xx_fetches_the_rest_with_get_response() -> None:
    conn = ScriptedConnection(
        [
            ("802a00800101" + "00", "6100"),
            ("00c0000000", "aa" * 256 + "6110"),
            ("00c0000010", "bb" * 16 + "9000"),
        ]
    )
    data = ApduChannel(conn).send(Command(0x80, 0x2A, 0x00, 0x80, b"\x01", le=256))
    assert data == b"\xaa" * 256 + b"\xbb" * 16
    assert conn.done()


def test_6cxx_resends_with_the_length_the_card_asks_for() -> None:
    conn = ScriptedConnection([("00b0000020", "6c10"), ("00b0000010", "11" * 16 + "9000")])
    channel = ApduChannel(conn)
    assert channel.send(Command(0x00, 0xB0, 0, 0, le=32)) == b"\x11" * 16
    assert channel.apdu_count == 2 and conn.done()


def test_6f00_right_after_power_up_is_retried_once() -> None:
    conn = ScriptedConnection([("00a4040c01aa", "6f00"), ("00a4040c01aa", "9000")])
    channel = ApduChannel(conn)
    assert channel.transmit(Command(0x00, 0xA4, 0x04, 0x0C, b"\xaa")).ok
    assert conn.done()


def test_6f00_later_is_an_error_not_a_retry() -> None:
    conn = ScriptedConnection([("00a4040c01aa", "9000"), ("00b0000004", "6f00")])
    channel = ApduChannel(conn)
    channel.send(Command(0x00, 0xA4, 0x04, 0x0C, b"\xaa"))
    with pytest.raises(errors.StatusWordError) as excinfo:
        channel.send(Command(0x00, 0xB0, 0, 0, le=4))
    assert excinfo.value.sw == 0x6F00 and conn.done()


def test_6f00_twice_after_power_up_is_reported() -> None:
    conn = ScriptedConnection([("00a4040c01aa", "6f00"), ("00a4040c01aa", "6f00")])
    assert ApduChannel(conn).transmit(Command(0x00, 0xA4, 0x04, 0x0C, b"\xaa")).sw == 0x6F00


def test_a_response_without_status_word_is_a_communication_error() -> None:
    with pytest.raises(errors.CardCommunicationError):
        Response.from_bytes(b"\x90")


def test_channel_counts_bytes_both_ways() -> None:
    conn = ScriptedConnection([("00b0000004", "30820100" + "9000")])
    channel = ApduChannel(conn)
    channel.send(Command(0x00, 0xB0, 0, 0, le=4))
    assert (channel.apdu_count, channel.bytes_sent, channel.bytes_received) == (1, 5, 6)
