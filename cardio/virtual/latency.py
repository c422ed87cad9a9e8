"""Latency profiles of the emulator: how long a real card and its link would take for an APDU.

A profile adds the transfer time of the command and the response at the link's bit rate, a fixed
per-APDU framing cost, and an on-card cost per instruction. The card measures how long it really
spent and sleeps only the remainder, so a slow host machine does not double-count.

- ``instant``: no delay (unit tests).
- ``contact``: ISO 7816 T=1 at the default 9,600 bit/s (about 10 bits per byte with start and
  stop bits), so a 1.2 KB certificate takes about 1.3 s to read; RSA-2048 signature 400 ms.
- ``contactless``: ISO 14443 at 106 kbit/s (9 bits per byte with parity) plus frame overheads;
  the certificate read takes about 0.15 s; the same chip, so the signature costs the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LatencyProfile:
    """Timing model of one link + card combination (all times in seconds)."""

    name: str
    bit_rate: float = 0.0  # 0 means instant transfer
    bits_per_byte: float = 10.0
    per_apdu: float = 0.0
    on_card: dict[int, float] = field(default_factory=dict)  # INS -> processing time

    def transfer_time(self, command_len: int, response_len: int) -> float:
        """Time on the wire for both directions plus the fixed framing cost."""
        if self.bit_rate <= 0:
            return self.per_apdu
        bits = (command_len + response_len) * self.bits_per_byte
        return bits / self.bit_rate + self.per_apdu

    def card_time(self, ins: int) -> float:
        """On-card processing time of an instruction."""
        return self.on_card.get(ins, self.on_card.get(-1, 0.0))

    def delay(self, command: bytes, response: bytes) -> float:
        """Total time a real card would take to answer ``command`` with ``response``."""
        ins = command[1] if len(command) > 1 else -1
        return self.transfer_time(len(command), len(response)) + self.card_time(ins)


_SELECT, _READ, _VERIFY, _SIGN = 0xA4, 0xB0, 0x20, 0x2A

PROFILES: dict[str, LatencyProfile] = {
    "instant": LatencyProfile("instant"),
    "contact": LatencyProfile(
        "contact",
        bit_rate=9600.0,
        bits_per_byte=10.0,
        per_apdu=0.004,  # T=1 block prologue/epilogue and block guard times
        on_card={_SELECT: 0.010, _READ: 0.005, _VERIFY: 0.030, _SIGN: 0.400, -1: 0.005},
    ),
    "contactless": LatencyProfile(
        "contactless",
        bit_rate=106_000.0,
        bits_per_byte=9.0,
        per_apdu=0.003,  # frame delay times, I-block/ACK exchange
        on_card={_SELECT: 0.010, _READ: 0.005, _VERIFY: 0.030, _SIGN: 0.400, -1: 0.005},
    ),
}


def get_profile(name: str) -> LatencyProfile:
    """The named profile; raises ``ValueError`` listing the valid names."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown latency profile {name!r}; choose one of {', '.join(PROFILES)}"
        ) from None
