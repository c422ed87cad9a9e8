"""The JPKI application on a My Number Card: select, label, certificates, PIN, signature.

``JpkiSession`` speaks the card's commands (see reference/JPKI.md) over one ``Connection``.
A ``CertificateCache`` of certificates already validated lets a repeat customer's certificate be
recognised from its first 256-byte chunk, so the rest of it is not read.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cardio.apdu import ApduChannel, Command, Response
from cardio.errors import (
    CardCommunicationError,
    NotMyNumberCardError,
    PinLockedError,
    StatusWordError,
    WrongPinError,
)
from cardio.secrets import Pin, PinFormatError

if TYPE_CHECKING:
    from cardio.transport import Connection

log = logging.getLogger(__name__)

JPKI_AID = bytes.fromhex("D392F000260100000001")
EF_TOKEN_INFO = 0x0006
EF_AUTH_CERTIFICATE = 0x000A
EF_AUTH_CA_CERTIFICATE = 0x000B
EF_AUTH_KEY = 0x0017
EF_AUTH_PIN = 0x0018
LABEL_MY_NUMBER_CARD = "JPKIAPICCTOKEN2"
LABEL_JUKI_CARD = "JPKIAPICCTOKEN"
LABEL_LENGTH = 32
CHUNK = 256
PIN_MAX_TRIES = 3
MAX_DIGEST_INFO = 245
#: SW meaning the PIN is locked (63C0 on the try that used up the counter, then 6984; 6983 too).
LOCKED_SWS = frozenset({0x63C0, 0x6983, 0x6984})

SELECT_AP = Command(0x00, 0xA4, 0x04, 0x0C, JPKI_AID)


def select_ef_command(fid: int) -> Command:
    """SELECT of an EF inside the AP by its 2-byte file id."""
    return Command(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big"))


def check_token_label(label: str) -> None:
    """Raise ``NotMyNumberCardError`` unless ``label`` (from EF 0006) says My Number Card."""
    if label == LABEL_JUKI_CARD:
        raise NotMyNumberCardError("old Juki card (JPKIAPICCTOKEN)")
    if label != LABEL_MY_NUMBER_CARD:
        raise NotMyNumberCardError(f"unexpected token label {label!r}")


def der_length(header: bytes) -> int:
    """Total length of a DER SEQUENCE from its first bytes (tag, length)."""
    if len(header) < 2 or header[0] != 0x30:
        raise NotMyNumberCardError("no certificate in the file (no DER SEQUENCE)")
    first = header[1]
    if first < 0x80:
        return first + 2
    count = first & 0x7F
    if not 1 <= count <= 3 or len(header) < 2 + count:
        raise NotMyNumberCardError("certificate file has an unusable DER length")
    return int.from_bytes(header[2 : 2 + count], "big") + 2 + count


class PinStatus(enum.Enum):
    """Outcome of a PIN verification."""

    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True)
class PinResult:
    """What VERIFY said: ok, wrong (with tries left) or locked."""

    status: PinStatus
    tries_left: int

    @property
    def ok(self) -> bool:
        """True when the PIN was accepted."""
        return self.status is PinStatus.OK

    def raise_for_status(self) -> None:
        """Raise ``WrongPinError`` or ``PinLockedError`` unless the PIN was accepted."""
        if self.status is PinStatus.WRONG:
            raise WrongPinError(self.tries_left)
        if self.status is PinStatus.LOCKED:
            raise PinLockedError()


def _pin_result(response: Response, command: str) -> PinResult:
    """What a VERIFY's status word says (``command`` names it in the error for any other SW)."""
    if response.ok:
        return PinResult(PinStatus.OK, PIN_MAX_TRIES)
    if response.sw in LOCKED_SWS:
        return PinResult(PinStatus.LOCKED, 0)
    if response.sw1 == 0x63 and response.sw2 & 0xF0 == 0xC0:
        return PinResult(PinStatus.WRONG, response.sw2 & 0x0F)
    raise StatusWordError(response.sw, f"{command} answered {response.sw:04X}")


class CertificateCache:
    """Certificates already validated, found again by their first chunk (bounded, LRU)."""

    def __init__(self, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, certificate_der: bytes) -> None:
        """Remember a validated certificate (DER)."""
        if len(certificate_der) <= CHUNK:
            return  # nothing to save: the first chunk is the whole certificate
        with self._lock:
            self._entries[certificate_der[:CHUNK]] = certificate_der
            self._entries.move_to_end(certificate_der[:CHUNK])
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def lookup(self, first_chunk: bytes) -> bytes | None:
        """The cached certificate whose first ``CHUNK`` bytes equal ``first_chunk``."""
        if len(first_chunk) != CHUNK:
            return None
        with self._lock:
            found = self._entries.get(first_chunk)
            if found is not None:
                self._entries.move_to_end(first_chunk)
            return found

    def __len__(self) -> int:
        return len(self._entries)


class JpkiSession:
    """One conversation with the JPKI application of the card behind ``connection``."""

    def __init__(
        self, connection: Connection, *, certificate_cache: CertificateCache | None = None
    ) -> None:
        self.connection = connection
        self.channel = ApduChannel(connection)
        self.certificate_cache = certificate_cache
        #: True when the last ``read_auth_certificate`` came from the cache (fast path).
        self.last_read_was_cached = False
        # A connection that already selected the AP to recognise the card says so.
        self._ap_selected = bool(getattr(connection, "jpki_selected", False))
        self._current_ef: int | None = None

    @property
    def apdu_count(self) -> int:
        """APDUs sent in this session (GET RESPONSE and re-sends included)."""
        return self.channel.apdu_count

    def select_ap(self) -> None:
        """Select the JPKI AP; a card without it is not a My Number Card."""
        if self._ap_selected:
            return
        try:
            self.channel.send(SELECT_AP)
        except StatusWordError as exc:
            raise NotMyNumberCardError(f"SELECT JPKI AP answered {exc.sw:04X}") from exc
        self._ap_selected = True
        self._current_ef = None

    def _select_ef(self, fid: int) -> None:
        self.select_ap()
        if self._current_ef == fid:
            return
        self._current_ef = None
        self.channel.send(select_ef_command(fid))
        self._current_ef = fid

    def _read(self, offset: int, length: int) -> bytes:
        return self.channel.send(Command(0x00, 0xB0, offset >> 8, offset & 0xFF, le=length))

    def label(self) -> str:
        """The token label from EF 0006 (first 32 bytes, padding stripped)."""
        self._select_ef(EF_TOKEN_INFO)
        raw = self._read(0, LABEL_LENGTH)
        return raw.decode("ascii", errors="replace").rstrip(" \x00\xff")

    def check_label(self) -> None:
        """Raise ``NotMyNumberCardError`` unless the label says My Number Card."""
        try:
            label = self.label()
        except StatusWordError as exc:
            raise NotMyNumberCardError(f"EF 0006 unreadable: {exc.sw:04X}") from exc
        check_token_label(label)

    def _read_certificate(self, fid: int, cache: CertificateCache | None) -> bytes:
        self._select_ef(fid)
        first = self._read(0, CHUNK)
        total = der_length(first[:6])
        if total > 0x7FFF + CHUNK:
            raise CardCommunicationError(f"certificate length {total} is beyond a short READ")
        if total <= len(first):
            return first[:total]
        if cache is not None:
            cached = cache.lookup(first)
            if cached is not None and len(cached) == total:
                log.debug("certificate recognised from its first chunk")
                self.last_read_was_cached = True
                return cached
        parts = [first]
        offset = len(first)
        while offset < total:
            part = self._read(offset, min(CHUNK, total - offset))
            if not part:
                raise CardCommunicationError("READ BINARY returned no data")
            parts.append(part)
            offset += len(part)
        return b"".join(parts)[:total]

    def read_auth_certificate(self) -> bytes:
        """The user-authentication certificate (DER), via the cache when it matches."""
        self.last_read_was_cached = False
        return self._read_certificate(EF_AUTH_CERTIFICATE, self.certificate_cache)

    def read_auth_ca_certificate(self) -> bytes:
        """The certificate of the CA that issued the user-authentication certificate (DER)."""
        return self._read_certificate(EF_AUTH_CA_CERTIFICATE, None)

    def remember_certificate(self, certificate_der: bytes) -> None:
        """Put a validated certificate into the cache (no-op without a cache)."""
        if self.certificate_cache is not None:
            self.certificate_cache.add(certificate_der)

    def pin_tries_left(self) -> int:
        """Tries left for the user-authentication PIN (an empty VERIFY; spends no try)."""
        self._select_ef(EF_AUTH_PIN)
        response = self.channel.transmit(Command(0x00, 0x20, 0x00, 0x80))
        # 9000 (already verified) counts as all tries: a correct PIN resets the counter
        return _pin_result(response, "empty VERIFY").tries_left

    def verify_pin(self, pin: Pin) -> PinResult:
        """Send the PIN once. Refuses (sends nothing) unless it is a ``Pin`` of 4 ASCII digits."""
        if not isinstance(pin, Pin):
            raise TypeError("verify_pin takes a cardio.secrets.Pin")
        data = pin.apdu_data()
        if len(data) != 4 or not all(0x30 <= b <= 0x39 for b in data):
            raise PinFormatError()
        self._select_ef(EF_AUTH_PIN)
        response = self.channel.transmit(Command(0x00, 0x20, 0x00, 0x80, data, sensitive=True))
        return _pin_result(response, "VERIFY")

    def sign(self, digest_info: bytes) -> bytes:
        """The card's RSA signature over ``digest_info`` (a DER DigestInfo; the card pads)."""
        if not 1 <= len(digest_info) <= MAX_DIGEST_INFO:
            raise ValueError(f"a DigestInfo is 1..{MAX_DIGEST_INFO} bytes")
        self._select_ef(EF_AUTH_KEY)
        return self.channel.send(Command(0x80, 0x2A, 0x00, 0x80, digest_info, le=256))
