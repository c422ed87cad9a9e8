"""The JPKI card emulator: answers APDUs the way reference/JPKI.md's table says the card does.

An independent implementation of the card side (it shares no code with the host side in
``cardio.apdu``/``cardio.jpki``), so a misunderstanding on one side shows up as a failure.

What it answers (CLA, INS; anything else is an error a probing driver can live with):

- ``00 A4 04 0C`` SELECT the JPKI AP by AID (P2 ``00`` is accepted too, without FCI); a foreign
  AID, or any select by path or of the MF, gets ``6A82``.
- ``00 A4 02 0C 02 <FID>`` SELECT EF under the AP: 000A/000B (user-auth certificate and its CA),
  0017/0018 (user-auth key and PIN), 0001/0002 (signing certificate and its CA), 001A/001B (signing
  key and password), 0006 (token info, label ``JPKIAPICCTOKEN2`` space-padded to 32 bytes), 0008
  (``8F 8F 00``). Before the AP is selected, or an unknown FID: ``6A82``.
- ``00 B0 P1P2 Le`` READ BINARY: offset ``P1P2`` (<= 7FFF), Le ``00`` = 256. Certificate EFs are
  larger than the DER and padded with ``00``; past the end ``6B00``; a short read at the end gives
  the remaining bytes with ``6282``. EF 0001 needs the signing password (else ``6982``). Key and
  PIN EFs: ``6981``. No EF selected: ``6986``.
- ``00 20 00 80 [Lc PIN]`` VERIFY on the selected PIN EF (0018: 4 bytes, 3 tries; 001B: 6-16
  bytes, 5 tries). No data: ``63Cx`` with the tries left, nothing spent. Wrong: ``63Cx``; the try
  that uses up the counter answers ``63C0``, every later one ``6984``. Right: ``9000``, counter
  reset. Counters are saved in the profile at once.
- ``80 2A 00 80 Lc <DigestInfo> 00`` COMPUTE DIGITAL SIGNATURE with the selected key EF (0017
  after the PIN, 001A after the signing password): PKCS#1 v1.5 type-01 padding, raw RSA, 256
  bytes + ``9000``. Not verified ``6982``; no key EF selected ``6985``/``6986``; input over 245
  bytes or empty ``6700``; P1 != 00 or P2 != 80 ``6A86``.
- GET DATA (``CA``) ``6A88``; unknown INS ``6D00``; wrong CLA ``6E00``; bad lengths ``6700``.

Security state (verified PINs, selections) is cleared by ``power_off``, ``power_on`` and
``reset``. A card starts powered (as if just inserted); a powered-off card answers nothing:
``transmit`` raises ``CardRemoved`` until ``power_on``/``reset``.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from dataclasses import dataclass
from enum import Enum, IntEnum

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cardio.virtual.latency import LatencyProfile, get_profile
from cardio.virtual.profile import AUTH_PIN_MAX_TRIES, SIGN_PASSWORD_MAX_TRIES, CardProfile

logger = logging.getLogger(__name__)

JPKI_AID = bytes.fromhex("D392F000260100000001")
CONTACT_ATR = bytes.fromhex("3BE000FF8131FE4514")
CONTACTLESS_ATR = bytes.fromhex("3B888001000005E0B381A1007F")
ATRS: dict[str, bytes] = {"contact": CONTACT_ATR, "contactless": CONTACTLESS_ATR}

TOKEN_LABEL = "JPKIAPICCTOKEN2"  # noqa: S105 - a label, not a secret
OLD_JUKI_TOKEN_LABEL = "JPKIAPICCTOKEN"  # noqa: S105
CERTIFICATE_EF_SIZE = 0x0800  # certificate EFs are at least this large, padded after the DER
MAX_SIGN_INPUT = 245  # 256-byte modulus minus 11 bytes of PKCS#1 v1.5 overhead


class SW(IntEnum):
    """Status words the emulator answers with."""

    OK = 0x9000
    END_OF_FILE = 0x6282
    WRONG_LENGTH = 0x6700
    INCOMPATIBLE_FILE = 0x6981
    SECURITY_NOT_SATISFIED = 0x6982
    PIN_BLOCKED = 0x6984
    CONDITIONS_NOT_SATISFIED = 0x6985
    NO_CURRENT_EF = 0x6986
    FILE_NOT_FOUND = 0x6A82
    WRONG_P1P2 = 0x6A86
    DATA_NOT_FOUND = 0x6A88
    WRONG_OFFSET = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00


class CardRemoved(Exception):  # noqa: N818 - the contract name
    """The card left the reader (mid-command fault switch, or it is powered off)."""


@dataclass
class Faults:
    """Fault switches; mutable at run time. Each stays set until cleared."""

    remove_on_ins: int | None = None  # e.g. 0x2A: the card is "pulled" when that command arrives
    answer_6f00_after_power_up: bool = False  # first command after power-up gets 6F00
    extra_delay_s: float = 0.0  # slow answers
    reselect_clears_pin: bool = False  # SELECT of the AP forgets verified PINs


class _Status(Exception):  # noqa: N818 - control flow, not an error
    """Internal: end the command with this status word."""

    def __init__(self, sw: int) -> None:
        super().__init__(f"{int(sw):04X}")
        self.sw = int(sw)


@dataclass(frozen=True)
class _Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None  # None: absent; 256 for 00

    @classmethod
    def parse(cls, apdu: bytes) -> _Command:
        """Short APDUs only (cases 1-4); anything else is ``6700``."""
        if len(apdu) < 4:
            raise _Status(SW.WRONG_LENGTH)
        cla, ins, p1, p2 = apdu[0], apdu[1], apdu[2], apdu[3]
        body = apdu[4:]
        if not body:
            return cls(cla, ins, p1, p2, b"", None)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, b"", body[0] or 256)
        lc = body[0]
        if lc == 0:  # extended length: not supported
            raise _Status(SW.WRONG_LENGTH)
        data = body[1 : 1 + lc]
        rest = body[1 + lc :]
        if len(data) != lc or len(rest) > 1:
            raise _Status(SW.WRONG_LENGTH)
        return cls(cla, ins, p1, p2, data, (rest[0] or 256) if rest else None)


class _Kind(Enum):
    BINARY = "binary"
    KEY = "key"
    PIN = "pin"


@dataclass(frozen=True)
class _EF:
    kind: _Kind
    content: bytes = b""
    read_needs: str | None = None  # the PIN reference that must be verified to read it
    pin_ref: str | None = None  # PIN EF: its reference; key EF: the PIN that unlocks it


def _padded(der: bytes) -> bytes:
    size = CERTIFICATE_EF_SIZE
    while size <= len(der):
        size += 0x0100
    return der + b"\x00" * (size - len(der))


def token_info(label: str = TOKEN_LABEL) -> bytes:
    """EF 0006: the label space-padded to 32 bytes, then the rest of the token info (dummy)."""
    return label.encode("ascii").ljust(32, b" ") + b"\x01\x00" + b"JPKI-TEST EMU".ljust(14, b" ")


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def pkcs1_type1_pad(data: bytes, length: int) -> bytes:
    """EMSA-PKCS1-v1_5 block: ``00 01 FF…FF 00 || data`` of ``length`` bytes."""
    if len(data) > length - 11:
        raise ValueError("data too long for the modulus")
    return b"\x00\x01" + b"\xff" * (length - 3 - len(data)) + b"\x00" + data


def raw_rsa_private(key: rsa.RSAPrivateKey, block: bytes) -> bytes:
    """``block ** d mod n`` (with the CRT), as many bytes as the modulus."""
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    k = (n.bit_length() + 7) // 8
    m = int.from_bytes(block, "big")
    if m >= n:
        raise ValueError("block out of range")
    s1 = pow(m, numbers.dmp1, numbers.p)
    s2 = pow(m, numbers.dmq1, numbers.q)
    h = (numbers.iqmp * (s1 - s2)) % numbers.p
    return (s2 + h * numbers.q).to_bytes(k, "big")


_PIN_MAX_TRIES = {"auth": AUTH_PIN_MAX_TRIES, "sign": SIGN_PASSWORD_MAX_TRIES}
_PIN_LENGTHS = {"auth": (4, 4), "sign": (6, 16)}


class VirtualJpkiCard:
    """A My Number Card's JPKI application in software; ``transmit`` takes raw APDU bytes."""

    def __init__(
        self,
        profile: CardProfile,
        *,
        atr: bytes = CONTACT_ATR,
        latency: str | LatencyProfile = "instant",
        faults: Faults | None = None,
        token_label: str = TOKEN_LABEL,
    ) -> None:
        self.profile = profile
        self.atr = atr
        self.latency = latency if isinstance(latency, LatencyProfile) else get_profile(latency)
        self.faults = faults if faults is not None else Faults()
        self.apdu_count = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self._lock = threading.RLock()
        self._files = self._build_files(profile, token_label)
        self._powered = False
        self._fresh_power = False
        self._ap_selected = False
        self._current_ef: int | None = None
        self._verified: set[str] = set()
        self._power_up()

    @staticmethod
    def _build_files(profile: CardProfile, label: str) -> dict[int, _EF]:
        binary = _Kind.BINARY
        return {
            0x000A: _EF(binary, _padded(_der(profile.auth_certificate))),
            0x000B: _EF(binary, _padded(_der(profile.auth_ca_certificate))),
            0x0001: _EF(binary, _padded(_der(profile.sign_certificate)), read_needs="sign"),
            0x0002: _EF(binary, _padded(_der(profile.sign_ca_certificate))),
            0x0006: _EF(binary, token_info(label)),
            0x0008: _EF(binary, b"\x8f\x8f\x00"),
            0x0017: _EF(_Kind.KEY, pin_ref="auth"),
            0x0018: _EF(_Kind.PIN, pin_ref="auth"),
            0x001A: _EF(_Kind.KEY, pin_ref="sign"),
            0x001B: _EF(_Kind.PIN, pin_ref="sign"),
        }

    # -- power ----------------------------------------------------------------------------

    def _clear_state(self) -> None:
        self._ap_selected = False
        self._current_ef = None
        self._verified.clear()

    def _power_up(self) -> bytes:
        self._clear_state()
        self._powered = True
        self._fresh_power = True
        return self.atr

    def power_on(self) -> bytes:
        """Power the card (cold reset); returns the ATR; clears the security state."""
        with self._lock:
            return self._power_up()

    def power_off(self) -> None:
        """Cut the power: the security state is lost."""
        with self._lock:
            self._clear_state()
            self._powered = False

    def reset(self) -> bytes:
        """Warm reset: returns the ATR; clears the security state."""
        with self._lock:
            return self._power_up()

    @property
    def powered(self) -> bool:
        """Whether the card has power (``transmit`` raises ``CardRemoved`` when not)."""
        return self._powered

    def reset_statistics(self) -> None:
        """Zero the wire statistics (APDU count, bytes in and out)."""
        with self._lock:
            self.apdu_count = self.bytes_in = self.bytes_out = 0

    # -- commands -------------------------------------------------------------------------

    def transmit(self, apdu: bytes) -> bytes:
        """Answer one command APDU with response data + SW1 SW2, after the modelled latency."""
        started = time.perf_counter()
        apdu = bytes(apdu)
        with self._lock:
            if not self._powered:
                raise CardRemoved("the card is not powered (removed or powered off)")
            self.apdu_count += 1
            self.bytes_in += len(apdu)
            ins = apdu[1] if len(apdu) > 1 else None
            if self.faults.remove_on_ins is not None and ins == self.faults.remove_on_ins:
                self._clear_state()
                self._powered = False
                logger.info("fault switch: card removed on INS %02X", ins)
                raise CardRemoved(f"the card was removed during INS {ins:02X}")
            if self._fresh_power and self.faults.answer_6f00_after_power_up:
                self._fresh_power = False
                response = SW.NO_PRECISE_DIAGNOSIS.to_bytes(2, "big")
            else:
                self._fresh_power = False
                response = self._answer(apdu)
            self.bytes_out += len(response)
            delay = self.latency.delay(apdu, response) + self.faults.extra_delay_s
            remaining = delay - (time.perf_counter() - started)
            if remaining > 0:
                time.sleep(remaining)
            return response

    def _answer(self, apdu: bytes) -> bytes:
        data = b""
        try:
            command = _Command.parse(apdu)
            data, sw = self._dispatch(command)
        except _Status as status:
            sw = status.sw
        header = apdu[:4].hex().upper()
        logger.debug("APDU %s (%d bytes) -> %d bytes, SW %04X", header, len(apdu), len(data), sw)
        return data + int(sw).to_bytes(2, "big")

    def _dispatch(self, c: _Command) -> tuple[bytes, int]:
        if c.cla not in (0x00, 0x80):
            raise _Status(SW.CLA_NOT_SUPPORTED)
        handlers = {0xA4: self._select, 0xB0: self._read_binary, 0x20: self._verify}
        if c.ins in handlers:
            if c.cla != 0x00:
                raise _Status(SW.CLA_NOT_SUPPORTED)
            return handlers[c.ins](c)
        if c.ins == 0x2A:
            if c.cla != 0x80:
                raise _Status(SW.CLA_NOT_SUPPORTED)
            return self._sign(c)
        if c.ins == 0xCA:  # GET DATA: no data objects here
            raise _Status(SW.DATA_NOT_FOUND)
        raise _Status(SW.INS_NOT_SUPPORTED)

    def _select(self, c: _Command) -> tuple[bytes, int]:
        if c.p1 == 0x04:  # by DF name (AID)
            if c.p2 not in (0x0C, 0x00):
                raise _Status(SW.WRONG_P1P2)
            if c.data != JPKI_AID:
                raise _Status(SW.FILE_NOT_FOUND)
            self._ap_selected = True
            self._current_ef = None
            if self.faults.reselect_clears_pin:
                self._verified.clear()
            return b"", SW.OK
        if c.p1 == 0x02:  # EF under the current DF
            if c.p2 not in (0x0C, 0x00):
                raise _Status(SW.WRONG_P1P2)
            if len(c.data) != 2:
                raise _Status(SW.WRONG_LENGTH)
            fid = int.from_bytes(c.data, "big")
            if not self._ap_selected or fid not in self._files:
                raise _Status(SW.FILE_NOT_FOUND)
            self._current_ef = fid
            return b"", SW.OK
        if c.p1 in (0x00, 0x01, 0x03, 0x08, 0x09):  # MF, paths, parents: nothing for others
            raise _Status(SW.FILE_NOT_FOUND)
        raise _Status(SW.WRONG_P1P2)

    def _read_binary(self, c: _Command) -> tuple[bytes, int]:
        if c.p1 & 0x80:  # short EF identifier: not supported
            raise _Status(SW.WRONG_P1P2)
        if c.data or c.le is None:
            raise _Status(SW.WRONG_LENGTH)
        if self._current_ef is None:
            raise _Status(SW.NO_CURRENT_EF)
        ef = self._files[self._current_ef]
        if ef.kind is not _Kind.BINARY:
            raise _Status(SW.INCOMPATIBLE_FILE)
        if ef.read_needs is not None and ef.read_needs not in self._verified:
            raise _Status(SW.SECURITY_NOT_SATISFIED)
        offset = (c.p1 << 8) | c.p2
        if offset >= len(ef.content):
            raise _Status(SW.WRONG_OFFSET)
        chunk = ef.content[offset : offset + c.le]
        return chunk, SW.OK if len(chunk) == c.le else SW.END_OF_FILE

    def _tries_left(self, ref: str) -> int:
        if ref == "auth":
            return self.profile.pin_tries_left
        return self.profile.sign_password_tries_left

    def _set_tries_left(self, ref: str, value: int) -> None:
        if self._tries_left(ref) == value:
            return
        if ref == "auth":
            self.profile.pin_tries_left = value
        else:
            self.profile.sign_password_tries_left = value
        self.profile.save_counters()

    def _selected_pin_ref(self, kind: _Kind) -> str:
        """The PIN reference of the selected EF, which must be a PIN or key EF (``kind``)."""
        if self._current_ef is None:
            raise _Status(SW.NO_CURRENT_EF)
        ef = self._files[self._current_ef]
        if ef.kind is not kind or ef.pin_ref is None:
            raise _Status(SW.CONDITIONS_NOT_SATISFIED)
        return ef.pin_ref

    def _verify(self, c: _Command) -> tuple[bytes, int]:
        if c.p1 != 0x00 or c.p2 != 0x80:
            raise _Status(SW.WRONG_P1P2)
        if c.data and c.le is not None:
            raise _Status(SW.WRONG_LENGTH)
        ref = self._selected_pin_ref(_Kind.PIN)
        tries = self._tries_left(ref)
        if not c.data:  # tries left, nothing spent
            return b"", 0x63C0 | tries
        shortest, longest = _PIN_LENGTHS[ref]
        if not shortest <= len(c.data) <= longest:
            raise _Status(SW.WRONG_LENGTH)
        if tries == 0:
            raise _Status(SW.PIN_BLOCKED)
        secret = (self.profile.pin if ref == "auth" else self.profile.sign_password).encode()
        if hmac.compare_digest(bytes(c.data), secret):
            self._set_tries_left(ref, _PIN_MAX_TRIES[ref])
            self._verified.add(ref)
            return b"", SW.OK
        self._verified.discard(ref)
        self._set_tries_left(ref, tries - 1)
        return b"", 0x63C0 | (tries - 1)

    def _sign(self, c: _Command) -> tuple[bytes, int]:
        if c.p1 != 0x00 or c.p2 != 0x80:
            raise _Status(SW.WRONG_P1P2)
        if not c.data or len(c.data) > MAX_SIGN_INPUT or c.le not in (None, 256):
            raise _Status(SW.WRONG_LENGTH)
        ref = self._selected_pin_ref(_Kind.KEY)
        if ref not in self._verified:
            raise _Status(SW.SECURITY_NOT_SATISFIED)
        key = self.profile.auth_key if ref == "auth" else self.profile.sign_key
        length = (key.key_size + 7) // 8
        return raw_rsa_private(key, pkcs1_type1_pad(c.data, length)), SW.OK
