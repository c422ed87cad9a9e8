"""The latency model: what the profiles charge (the model's numbers, not a clock)."""

from __future__ import annotations

import pytest

from cardio.virtual import card as card_module
from cardio.virtual.card import VirtualJpkiCard
from cardio.virtual.latency import PROFILES, get_profile
from cardio.virtual.profile import CardProfile

READ_CHUNK = bytes.fromhex("00B0000000")  # 256-byte READ BINARY
SIGN = bytes.fromhex("802A008033") + bytes(51) + b"\x00"


def certificate_read_time(name: str, size: int = 1200) -> float:
    profile = get_profile(name)
    chunks = -(-size // 256)
    return chunks * profile.delay(READ_CHUNK, bytes(256) + b"\x90\x00")


def test_instant_costs_nothing() -> None:
    assert certificate_read_time("instant") == 0.0
    assert get_profile("instant").delay(SIGN, bytes(258)) == 0.0


def test_contact_reads_a_certificate_in_about_a_second_and_signs_in_400_ms() -> None:
    # reference/JPKI.md: certificate read 1-1.5 s contact at the default rate; RSA 0.2-0.6 s
    assert 1.0 <= certificate_read_time("contact") <= 1.5
    contact = get_profile("contact")
    assert contact.card_time(0x2A) == pytest.approx(0.4)
    # plus 315 bytes on the wire at 9,600 bit/s
    assert 0.7 <= contact.delay(SIGN, bytes(256) + b"\x90\x00") <= 0.8


def test_contactless_transfer_is_faster() -> None:
    # reference/JPKI.md: certificate read 0.1-0.3 s contactless
    assert 0.1 <= certificate_read_time("contactless") <= 0.3
    assert certificate_read_time("contactless") < certificate_read_time("contact") / 4


def test_unknown_profile_name_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="instant, contact, contactless"):
        get_profile("slow")
    assert set(PROFILES) == {"instant", "contact", "contactless"}


def test_the_card_sleeps_what_the_profile_and_fault_switch_charge(
    profile: CardProfile, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(card_module.time, "sleep", slept.append)
    card = VirtualJpkiCard(profile, latency="contact")
    command = bytes.fromhex("00A4040C0AD392F000260100000001")
    card.transmit(command)
    expected = get_profile("contact").delay(command, b"\x90\x00")
    assert len(slept) == 1 and expected - 0.005 < slept[0] <= expected
    card.faults.extra_delay_s = 2.0
    card.transmit(command)
    assert expected + 2.0 - 0.005 < slept[1] <= expected + 2.0
