"""The vpcd bridge: makes a virtual card a card in a real PC/SC reader.

vsmartcard's vpcd (a pcscd reader driver) listens on TCP; the card side connects to it. While
our socket is connected the reader holds a card; closing it means "card removed". Framing both
ways is a 2-byte big-endian length and a payload. A 1-byte payload is a control message (00 power
off, 01 power on, 02 reset, 04 get ATR, the only one answered); anything else is a command APDU,
answered with the response APDU.

Debian's vpcd sends the length and the payload in two ``send()`` calls, so Nagle on its side and
delayed ACK on ours would add ~45 ms to every APDU: ``TCP_QUICKACK`` is set before every receive.

Logs (DEBUG) show control messages and APDU headers and status words, never APDU data, so a
VERIFY's PIN cannot reach a log.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from typing import Protocol

from cardio.virtual.card import CardRemoved

log = logging.getLogger(__name__)

CTRL_POWER_OFF = 0x00
CTRL_POWER_ON = 0x01
CTRL_RESET = 0x02
CTRL_GET_ATR = 0x04
CONNECT_TIMEOUT_S = 2.0
RETRY_MIN_S = 0.05
RETRY_MAX_S = 1.0
#: pcscd asks vpcd for the card every 400 ms. A new card connects only after one such poll has
#: found the reader empty, or pcscd would take a quick swap for the same card (same old ATR).
REINSERT_GAP_S = 0.6


class VirtualCard(Protocol):
    """What the bridge needs of a card (``VirtualJpkiCard`` is one)."""

    @property
    def atr(self) -> bytes:
        """The answer to reset."""
        ...

    def power_on(self) -> bytes:
        """Power the card up; returns the ATR."""
        ...

    def power_off(self) -> None:
        """Power the card down (its security state is lost)."""
        ...

    def reset(self) -> bytes:
        """Warm reset; returns the ATR."""
        ...

    def transmit(self, apdu: bytes) -> bytes:
        """Answer one command APDU; may raise ``CardRemoved``."""
        ...


class _DisconnectedError(Exception):
    """vpcd closed the connection (or we were told to drop it)."""


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        try:
            chunk = sock.recv(size - len(chunks))
        except OSError as error:
            raise _DisconnectedError(str(error)) from error
        if not chunk:
            raise _DisconnectedError("connection closed")
        chunks += chunk
    return bytes(chunks)


def _describe(apdu: bytes) -> str:
    """Header and length only: never the data (a VERIFY carries the PIN)."""
    header = apdu[:4].hex(" ").upper()
    return f"{header} ({len(apdu)} bytes)"


class VpcdBridge:
    """Connects a virtual card to vpcd on a background thread; place and remove cards at will.

    While a card is inserted the bridge keeps a connection to vpcd open (reconnecting when vpcd
    or pcscd restarts); with no card it stays disconnected, so pcscd sees an empty reader.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 35963) -> None:
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._card: VirtualCard | None = None
        self._generation = 0
        self._sock: socket.socket | None = None
        self._connected_generation = -1
        self._closed_at = -REINSERT_GAP_S
        self._stopping = False
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"VpcdBridge({self.host}:{self.port})"

    @property
    def card(self) -> VirtualCard | None:
        """The card in the reader now (for its counters), or None."""
        with self._lock:
            return self._card

    @property
    def connected(self) -> bool:
        """True while the current card's connection to vpcd is open."""
        with self._lock:
            return self._sock is not None and self._connected_generation == self._generation

    def start(self) -> None:
        """Start the background thread (idempotent)."""
        with self._lock:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(
                target=self._run, name=f"vpcd-bridge-{self.port}", daemon=True
            )
            self._thread.start()

    def insert(self, card: VirtualCard) -> None:
        """Place ``card`` in the reader (a card already there is taken out first)."""
        self._replace_card(card)
        log.debug("%r: card inserted", self)

    def remove(self) -> None:
        """Take the card out; pcscd sees the reader empty at its next poll."""
        self._replace_card(None)
        log.debug("%r: card removed", self)

    def _replace_card(self, card: VirtualCard | None) -> None:
        """Put ``card`` (None: nothing) in the reader; the card taken out is powered off."""
        with self._lock:
            previous, self._card = self._card, card
            self._generation += 1
            self._drop_connection_locked()
            self._changed.notify_all()
        if previous is not None and previous is not card:
            previous.power_off()

    def stop(self) -> None:
        """Remove the card, close the connection and end the thread."""
        with self._lock:
            self._stopping = True
            thread, self._thread = self._thread, None
            card, self._card = self._card, None
            self._generation += 1
            self._drop_connection_locked()
            self._changed.notify_all()
        if thread is not None:
            thread.join(timeout=5)
        if card is not None:
            card.power_off()
        log.debug("%r: stopped", self)

    # -- the background thread -------------------------------------------------------------

    def _drop_connection_locked(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def _run(self) -> None:
        delay = RETRY_MIN_S
        while True:
            with self._lock:
                while not self._stopping and self._card is None:
                    self._changed.wait()
                if self._stopping:
                    return
                card, generation = self._card, self._generation
                gap = self._closed_at + REINSERT_GAP_S - time.monotonic()
                if gap > 0:  # let pcscd see the reader empty first
                    self._changed.wait(gap)
                    continue
            assert card is not None
            sock = self._connect()
            if sock is None:
                with self._lock:
                    if self._generation == generation and not self._stopping:
                        self._changed.wait(delay)
                delay = min(RETRY_MAX_S, delay * 2)
                continue
            delay = RETRY_MIN_S
            with self._lock:
                if self._generation != generation or self._stopping:
                    sock.close()
                    continue
                self._sock, self._connected_generation = sock, generation
            try:
                self._serve(sock, card, generation)
            finally:
                with self._lock:
                    if self._sock is sock:
                        self._sock = None
                    self._closed_at = time.monotonic()
                sock.close()

    def _connect(self) -> socket.socket | None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=CONNECT_TIMEOUT_S)
        except OSError as error:
            log.debug("%r: cannot connect to vpcd: %s", self, error)
            return None
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        log.debug("%r: connected to vpcd", self)
        return sock

    def _serve(self, sock: socket.socket, card: VirtualCard, generation: int) -> None:
        """Answer vpcd until it disconnects, the card changes or the card is pulled."""
        while True:
            try:
                size = int.from_bytes(_recv_exactly(sock, 2), "big")
                payload = _recv_exactly(sock, size)
            except _DisconnectedError as why:
                log.debug("%r: disconnected (%s)", self, why)
                return
            with self._lock:
                if self._generation != generation:
                    return
            try:
                reply = self._handle(card, payload)
            except CardRemoved:
                log.info("%r: the card left the reader in the middle of a command", self)
                with self._lock:
                    if self._generation == generation:
                        self._card = None
                        self._generation += 1
                card.power_off()
                # Closing the socket is how vpcd learns the card left. Note: vpcd then hands
                # pcscd an empty "successful" response for this command (SCardTransmit returns
                # 0 bytes); the next command gets SCARD_W_REMOVED_CARD once pcscd polled.
                return
            if reply is None:
                continue
            try:
                sock.sendall(len(reply).to_bytes(2, "big") + reply)
            except OSError as error:
                log.debug("%r: send failed (%s)", self, error)
                return

    def _handle(self, card: VirtualCard, payload: bytes) -> bytes | None:
        if len(payload) == 1:
            control = payload[0]
            if control == CTRL_GET_ATR:
                return card.atr
            if control == CTRL_POWER_ON:
                log.debug("%r: power on", self)
                card.power_on()
            elif control == CTRL_POWER_OFF:
                log.debug("%r: power off", self)
                card.power_off()
            elif control == CTRL_RESET:
                log.debug("%r: reset", self)
                card.reset()
            else:
                log.debug("%r: unknown control message %02X ignored", self, control)
            return None
        log.debug("%r: -> %s", self, _describe(payload))
        try:
            response = card.transmit(payload)
        except CardRemoved:
            raise
        except Exception as error:  # an emulator bug: answer like a confused card, keep going
            # Only the type: an exception's text might quote the command data.
            log.error(
                "%r: the virtual card failed (%s) on %s",
                self,
                type(error).__name__,
                _describe(payload),
            )
            response = b"\x6f\x00"
        log.debug("%r: <- %s (%d bytes)", self, response[-2:].hex().upper(), len(response))
        return response
