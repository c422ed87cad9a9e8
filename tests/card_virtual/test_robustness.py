"""Whatever a driver sends, the emulator answers with a status word; counters stay consistent."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardio.virtual.card import VirtualJpkiCard
from cardio.virtual.profile import CardProfile

SELECT_AP = bytes.fromhex("00A4040C0AD392F000260100000001")
SELECT_PIN = bytes.fromhex("00A4020C020018")
KNOWN_SW1 = {0x90, 0x62, 0x63, 0x67, 0x69, 0x6A, 0x6B, 0x6D, 0x6E}

commands = st.one_of(
    st.binary(max_size=300),
    st.tuples(
        st.sampled_from([0x00, 0x80, 0x90, 0xFF]),
        st.sampled_from([0xA4, 0xB0, 0x20, 0x2A, 0xCA, 0xC0, 0x84, 0x22]),
        st.integers(0, 255),
        st.integers(0, 255),
        st.binary(max_size=260),
    ).map(lambda t: bytes(t[:4]) + (bytes([len(t[4]) % 256]) + t[4] if t[4] else b"")),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(apdus=st.lists(commands, max_size=6))
def test_any_bytes_get_a_status_word_and_the_counter_stays_consistent(
    profile: CardProfile, apdus: list[bytes]
) -> None:
    card = VirtualJpkiCard(profile)
    card.transmit(SELECT_AP)
    for apdu in apdus:
        response = card.transmit(apdu)
        assert len(response) >= 2 and response[-2] in KNOWN_SW1
    card.transmit(SELECT_AP)
    card.transmit(SELECT_PIN)
    sw = card.transmit(bytes.fromhex("00200080"))
    assert sw[0] == 0x63
    tries = sw[1] & 0x0F
    assert tries == profile.pin_tries_left == CardProfile.load(profile.directory).pin_tries_left
