"""Short APDUs: command and response types, status words to typed errors, and a channel that
handles 61xx (GET RESPONSE), 6Cxx (re-send with the right Le) and one 6F00 right after power-up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from cardio.errors import (
    CardCommunicationError,
    FileNotFoundOnCardError,
    InstructionNotSupportedError,
    PinNotVerifiedError,
    StatusWordError,
    WrongLengthError,
    WrongParametersError,
)

if TYPE_CHECKING:
    from cardio.transport import Connection

log = logging.getLogger(__name__)

SW_OK = 0x9000
INS_GET_RESPONSE = 0xC0
#: Safety bound on chained GET RESPONSE rounds (a short APDU answer is at most 256 bytes each).
MAX_GET_RESPONSE_ROUNDS = 64


@dataclass(frozen=True)
class Command:
    """A short command APDU. ``le`` is 1..256 (256 is sent as 00) or None for no Le.

    ``sensitive`` commands (VERIFY with a PIN) never show their data in a repr or a log line.
    """

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None
    sensitive: bool = False

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise ValueError(f"{name} must be one byte")
        if len(self.data) > 255:
            raise ValueError("short APDU data is at most 255 bytes")
        if self.le is not None and not 1 <= self.le <= 256:
            raise ValueError("Le must be 1..256")

    def to_bytes(self) -> bytes:
        """The encoded APDU (case 1, 2, 3 or 4, short form)."""
        out = bytes((self.cla, self.ins, self.p1, self.p2))
        if self.data:
            out += bytes((len(self.data),)) + self.data
        if self.le is not None:
            out += bytes((self.le & 0xFF,))
        return out

    def with_le(self, le: int) -> Command:
        """The same command with another Le."""
        return replace(self, le=le)

    def describe(self) -> str:
        """A log-safe text form: header in hex; the data masked for sensitive commands."""
        head = f"{self.cla:02X} {self.ins:02X} {self.p1:02X} {self.p2:02X}"
        if self.data:
            shown = f"<{len(self.data)} bytes hidden>" if self.sensitive else self.data.hex()
            head += f" Lc={len(self.data)} {shown}"
        if self.le is not None:
            head += f" Le={self.le}"
        return head

    def __repr__(self) -> str:
        return f"Command({self.describe()})"


@dataclass(frozen=True)
class Response:
    """A response APDU: data and the status word."""

    data: bytes
    sw: int

    @classmethod
    def from_bytes(cls, raw: bytes) -> Response:
        """Split raw response bytes into data and SW1SW2."""
        if len(raw) < 2:
            raise CardCommunicationError(f"response of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), (raw[-2] << 8) | raw[-1])

    @property
    def sw1(self) -> int:
        """The first status byte."""
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        """The second status byte."""
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        """True for 9000."""
        return self.sw == SW_OK

    def __repr__(self) -> str:
        return f"Response({len(self.data)} bytes, SW={self.sw:04X})"


#: Status word -> error type; anything else is a plain ``StatusWordError``.
STATUS_ERRORS: dict[int, type[StatusWordError]] = {
    0x6700: WrongLengthError,
    0x6982: PinNotVerifiedError,
    0x6A82: FileNotFoundOnCardError,
    0x6A86: WrongParametersError,
    0x6B00: WrongParametersError,
    0x6D00: InstructionNotSupportedError,
    0x6E00: InstructionNotSupportedError,
}


def error_for(response: Response, command: Command | None = None) -> StatusWordError:
    """The typed error for a non-9000 response."""
    kind = STATUS_ERRORS.get(response.sw, StatusWordError)
    where = f" to {command.describe()}" if command is not None else ""
    return kind(response.sw, f"status word {response.sw:04X}{where}")


def check(response: Response, command: Command | None = None) -> Response:
    """Return ``response`` if it is 9000, else raise its typed error."""
    if not response.ok:
        raise error_for(response, command)
    return response


class ApduChannel:
    """Sends commands over a ``Connection`` and counts what goes over the wire.

    ``apdu_count`` counts every APDU actually sent (including GET RESPONSE and re-sends);
    ``bytes_sent`` / ``bytes_received`` count command and response APDU bytes.
    """

    def __init__(self, connection: Connection, *, after_power_up: bool = True) -> None:
        self.connection = connection
        self.apdu_count = 0
        self.bytes_sent = 0
        self.bytes_received = 0
        self._may_retry_6f00 = after_power_up

    def _raw(self, command: Command) -> Response:
        apdu = command.to_bytes()
        log.debug("> %s", command.describe())
        raw = self.connection.transmit(apdu)
        self.apdu_count += 1
        self.bytes_sent += len(apdu)
        self.bytes_received += len(raw)
        response = Response.from_bytes(raw)
        log.debug("< %d bytes SW=%04X", len(response.data), response.sw)
        return response

    def transmit(self, command: Command) -> Response:
        """Send ``command``; returns the final response after 61xx / 6Cxx / 6F00 handling."""
        response = self._raw(command)
        if self._may_retry_6f00:
            self._may_retry_6f00 = False
            if response.sw == 0x6F00:
                log.debug("6F00 right after power-up: sending once more")
                response = self._raw(command)
        if response.sw1 == 0x6C:
            response = self._raw(command.with_le(response.sw2 or 256))
        data = response.data
        rounds = 0
        while response.sw1 == 0x61:
            rounds += 1
            if rounds > MAX_GET_RESPONSE_ROUNDS:
                raise CardCommunicationError("endless GET RESPONSE chain")
            response = self._raw(Command(0x00, INS_GET_RESPONSE, 0, 0, le=response.sw2 or 256))
            data += response.data
        return Response(data, response.sw)

    def send(self, command: Command) -> bytes:
        """Send ``command`` and return its data; any status but 9000 raises its typed error."""
        return check(self.transmit(command), command).data
