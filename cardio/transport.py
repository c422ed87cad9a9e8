"""Ways to reach a card: the ``Connection`` protocol, PC/SC through pyscard, and in-process.

``PcscConnection`` uses pyscard's low-level ``smartcard.scard`` API (imported only when a PC/SC
connection is made) so every PC/SC return code maps to one of our errors. Without a reader
name it picks the reader whose card answers a SELECT of the JPKI AP; empty readers (such as
vpcd's always-empty second reader) and other cards are skipped, never ``readers()[0]``.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Protocol

from cardio.apdu import ApduChannel
from cardio.errors import (
    CardBusyError,
    CardCommunicationError,
    CardError,
    CardRemovedError,
    NoCardError,
    NoReaderError,
    NotMyNumberCardError,
    ReaderUnpluggedError,
)

if TYPE_CHECKING:
    from cardio.virtual.card import VirtualJpkiCard

log = logging.getLogger(__name__)

SCARD_S_SUCCESS = 0
SCARD_E_TIMEOUT = 0x8010000A
SCARD_E_SHARING_VIOLATION = 0x8010000B
SCARD_E_NO_SMARTCARD = 0x8010000C
SCARD_E_UNKNOWN_READER = 0x80100009
SCARD_E_READER_UNAVAILABLE = 0x80100017
SCARD_E_NO_SERVICE = 0x8010001D
SCARD_E_SERVICE_STOPPED = 0x8010001E
SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
SCARD_W_REMOVED_CARD = 0x80100069
SCARD_W_RESET_CARD = 0x80100068
SCARD_STATE_PRESENT = 0x20
SCARD_STATE_UNKNOWN = 0x04
SCARD_STATE_UNAVAILABLE = 0x08
#: How long a short response waits for pcscd to report the card gone (it polls every 400 ms).
REMOVAL_WAIT_S = 1.5


class Connection(Protocol):
    """A card we can send raw APDUs to.

    Optional attribute ``jpki_selected`` (bool): the connection already selected the JPKI AP.
    """

    reader: str

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU; return the response data followed by SW1 SW2."""
        ...

    def close(self) -> None:
        """Release the card (PC/SC: unpower it)."""
        ...


def pcsc_error(hresult: int, action: str, reader: str = "") -> CardError:
    """Our error for a PC/SC return code."""
    code = hresult & 0xFFFFFFFF
    detail = f"{action}{' on ' + reader if reader else ''}: PC/SC 0x{code:08X}"
    if code in (SCARD_E_NO_READERS_AVAILABLE, SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED):
        return NoReaderError(detail)
    if code in (SCARD_E_UNKNOWN_READER, SCARD_E_READER_UNAVAILABLE):
        return ReaderUnpluggedError(detail)
    if code == SCARD_W_REMOVED_CARD:
        return CardRemovedError(detail)
    if code == SCARD_E_NO_SMARTCARD:
        return NoCardError(detail)
    if code == SCARD_E_SHARING_VIOLATION:
        return CardBusyError(detail)
    return CardCommunicationError(detail)


def scard_module() -> Any:
    """pyscard's low-level PC/SC module, imported only when a reader is really used."""
    from smartcard import scard

    return scard


def establish_context() -> int:
    """A new PC/SC context (raises ``NoReaderError`` when pcscd is not running)."""
    scard = scard_module()
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != SCARD_S_SUCCESS:
        raise pcsc_error(hresult, "establish context")
    return int(context)


def reader_names(context: int) -> list[str]:
    """The readers pcscd knows now (empty when there are none)."""
    hresult, names = scard_module().SCardListReaders(context, [])
    if (hresult & 0xFFFFFFFF) == SCARD_E_NO_READERS_AVAILABLE:
        return []
    if hresult != SCARD_S_SUCCESS:
        raise pcsc_error(hresult, "list readers")
    return list(names)


def _states(context: int, readers: list[str]) -> dict[str, tuple[int, bytes]]:
    """Current state bits and ATR per reader (no waiting)."""
    if not readers:
        return {}
    scard = scard_module()
    query = [(name, scard.SCARD_STATE_UNAWARE) for name in readers]
    hresult, states = scard.SCardGetStatusChange(context, 0, query)
    if hresult != SCARD_S_SUCCESS:
        raise pcsc_error(hresult, "get reader states")
    return {name: (int(state), bytes(atr)) for name, state, atr in states}


def list_readers() -> list[str]:
    """Names of the PC/SC readers (empty list when there are none; no pcscd -> NoReaderError)."""
    context = establish_context()
    try:
        return reader_names(context)
    finally:
        scard_module().SCardReleaseContext(context)


def reader_states() -> dict[str, bytes | None]:
    """Each reader's card ATR, or None when the reader is empty."""
    context = establish_context()
    try:
        states = _states(context, reader_names(context))
    finally:
        scard_module().SCardReleaseContext(context)
    return {
        name: (atr if state & SCARD_STATE_PRESENT else None)
        for name, (state, atr) in states.items()
    }


class PcscConnection:
    """A card in a PC/SC reader, through pyscard; unpowered on close."""

    def __init__(
        self, context: int, handle: int, protocol: int, reader: str, atr: bytes = b""
    ) -> None:
        self._context = context
        self._handle: int | None = handle
        self._protocol = protocol
        self.reader = reader
        self.atr = atr
        self.jpki_selected = False

    @classmethod
    def open(cls, reader: str | None = None, *, exclusive: bool = True) -> PcscConnection:
        """Connect to ``reader``, or (None) to the reader whose card has the JPKI AP."""
        context = establish_context()
        try:
            if reader is not None:
                return cls._connect(context, reader, exclusive)
            return cls._find_jpki_card(context, exclusive)
        except BaseException:
            scard_module().SCardReleaseContext(context)
            raise

    @classmethod
    def _connect(cls, context: int, reader: str, exclusive: bool) -> PcscConnection:
        scard = scard_module()
        share = scard.SCARD_SHARE_EXCLUSIVE if exclusive else scard.SCARD_SHARE_SHARED
        protocols = scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        hresult, handle, protocol = scard.SCardConnect(context, reader, share, protocols)
        if hresult != SCARD_S_SUCCESS:
            error = pcsc_error(hresult, "connect", reader)
            if isinstance(error, ReaderUnpluggedError) and reader not in reader_names(context):
                error = ReaderUnpluggedError(f"no reader named {reader!r}")
            raise error
        atr = _states(context, [reader]).get(reader, (0, b""))[1]
        log.debug("connected to %s (protocol %d, exclusive %s)", reader, protocol, exclusive)
        return cls(context, handle, protocol, reader, atr)

    @classmethod
    def _find_jpki_card(cls, context: int, exclusive: bool) -> PcscConnection:
        from cardio.jpki import SELECT_AP

        names = reader_names(context)
        if not names:
            raise NoReaderError("no PC/SC readers")
        states = _states(context, names)
        with_card = [n for n in names if states.get(n, (0, b""))[0] & SCARD_STATE_PRESENT]
        if not with_card:
            raise NoCardError(f"no card in {len(names)} reader(s)")
        last_error: CardError | None = None
        for name in with_card:
            try:
                connection = cls._connect(context, name, exclusive)
            except CardError as exc:
                log.debug("skipping reader %s: %s", name, exc.detail)
                last_error = exc
                continue
            try:
                if ApduChannel(connection).transmit(SELECT_AP).ok:
                    connection.jpki_selected = True
                    return connection
                last_error = NotMyNumberCardError(f"card in {name} has no JPKI AP")
            except CardError as exc:
                last_error = exc
            connection._disconnect(leave=True)
        raise last_error or NoCardError("no usable card")

    def _disconnect(self, *, leave: bool = False) -> None:
        if self._handle is None:
            return
        scard = scard_module()
        disposition = scard.SCARD_LEAVE_CARD if leave else scard.SCARD_UNPOWER_CARD
        hresult = scard.SCardDisconnect(self._handle, disposition)
        self._handle = None
        if hresult != SCARD_S_SUCCESS:
            log.debug("disconnect from %s: 0x%08X", self.reader, hresult & 0xFFFFFFFF)

    def _failure(self, hresult: int, action: str) -> CardError:
        """Map a failure during use: look at the reader to tell removal from unplugging."""
        code = hresult & 0xFFFFFFFF
        detail = f"{action} on {self.reader}: PC/SC 0x{code:08X}"
        if code in (SCARD_W_REMOVED_CARD, SCARD_E_NO_SMARTCARD):
            return CardRemovedError(detail)
        if code == SCARD_W_RESET_CARD:
            return CardRemovedError(detail + " (card was reset)")
        if code in (SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED):
            return NoReaderError(detail)
        return self._after_lost_answer(detail, pcsc_error(hresult, action, self.reader))

    def _after_lost_answer(self, detail: str, otherwise: CardError) -> CardError:
        """A command got no usable answer. A card leaving mid-command looks like that (through
        vpcd and on contactless readers), so wait briefly for pcscd (it polls every 400 ms) to
        report the reader empty or gone before calling it a communication error."""
        deadline = time.monotonic() + REMOVAL_WAIT_S
        state = SCARD_STATE_PRESENT
        while state & SCARD_STATE_PRESENT and time.monotonic() < deadline:
            try:
                state = _states(self._context, [self.reader]).get(self.reader, (0, b""))[0]
            except CardError:
                state = SCARD_STATE_UNKNOWN
            if state & SCARD_STATE_PRESENT:
                time.sleep(0.05)
        if state & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE):
            return ReaderUnpluggedError(detail)
        if not state & SCARD_STATE_PRESENT:
            return CardRemovedError(detail)
        return otherwise

    def transmit(self, apdu: bytes) -> bytes:
        """Send one APDU (see ``Connection``)."""
        if self._handle is None:
            raise CardCommunicationError("connection is closed")
        hresult, response = scard_module().SCardTransmit(self._handle, self._protocol, list(apdu))
        if hresult != SCARD_S_SUCCESS:
            raise self._failure(hresult, "transmit")
        if len(response) < 2:
            detail = f"transmit on {self.reader}: {len(response)}-byte response"
            raise self._after_lost_answer(detail, CardCommunicationError(detail))
        return bytes(response)

    def close(self) -> None:
        """Unpower the card (no verified PIN outlives us) and release the context."""
        self._disconnect()
        if self._context:
            scard_module().SCardReleaseContext(self._context)
            self._context = 0

    def __enter__(self) -> PcscConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcessConnection:
    """Straight to a ``VirtualJpkiCard`` (unit tests): powers it on now and off on close."""

    def __init__(self, card: VirtualJpkiCard) -> None:
        self.card = card
        self.reader = "in-process"
        self.atr = card.power_on()
        self._open = True
        self._removed = False

    def transmit(self, apdu: bytes) -> bytes:
        """Send one APDU; the emulator's ``CardRemoved`` becomes ``CardRemovedError``."""
        from cardio.virtual.card import CardRemoved

        if self._removed:
            raise CardRemovedError("the virtual card was removed")
        if not self._open:
            raise CardCommunicationError("connection is closed")
        try:
            return self.card.transmit(apdu)
        except CardRemoved as exc:
            self._removed = True
            raise CardRemovedError("the virtual card was removed") from exc

    def close(self) -> None:
        """Power the card off (clears its security state)."""
        if self._open:
            self.card.power_off()
        self._open = False

    def __enter__(self) -> InProcessConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
