"""The emulator answers like the table in reference/JPKI.md says a JPKI card does."""

from __future__ import annotations

import hashlib
import logging

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cardio.virtual.card import (
    CONTACT_ATR,
    CONTACTLESS_ATR,
    OLD_JUKI_TOKEN_LABEL,
    CardRemoved,
    Faults,
    VirtualJpkiCard,
)
from cardio.virtual.profile import CardProfile
from tests.card_virtual.conftest import PIN, SIGN_PASSWORD

AID = "D392F000260100000001"
SELECT_AP = "00A4040C0A" + AID
FOREIGN_AID = "D3921000310001010408"
SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


def select_ef(fid: str) -> str:
    return "00A4020C02" + fid


def verify(secret: str | None = None) -> str:
    if secret is None:
        return "00200080"
    data = secret.encode("ascii")
    return f"00200080{len(data):02X}" + data.hex()


def sign_apdu(data: bytes, p1: int = 0) -> str:
    return f"802A{p1:02X}80{len(data):02X}" + data.hex() + "00"


def digest_info(message: bytes) -> bytes:
    return SHA256_PREFIX + hashlib.sha256(message).digest()


def send(card: VirtualJpkiCard, hex_apdu: str) -> tuple[bytes, int]:
    response = card.transmit(bytes.fromhex(hex_apdu))
    return response[:-2], int.from_bytes(response[-2:], "big")


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def rsa_public(certificate: x509.Certificate) -> rsa.RSAPublicKey:
    key = certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


# name -> (commands that must each answer 9000, the last command, its expected status word)
CASES: dict[str, tuple[list[str], str, int]] = {
    "select the JPKI AP": ([], SELECT_AP, 0x9000),
    "select the AP asking for FCI": ([], "00A404000A" + AID, 0x9000),
    "select the AP with a bad P2": ([], "00A404040A" + AID, 0x6A86),
    "select a foreign AP (kenmen nyuuryoku hojo)": ([], "00A4040C0A" + FOREIGN_AID, 0x6A82),
    "select a foreign AP after the JPKI AP": ([SELECT_AP], "00A4040C07A0000000031010", 0x6A82),
    "select the MF (other drivers' probe)": ([], "00A4000C023F00", 0x6A82),
    "select by path": ([], "00A4080C043F000006", 0x6A82),
    "select an EF before the AP": ([], select_ef("000A"), 0x6A82),
    "select an unknown EF": ([SELECT_AP], select_ef("0003"), 0x6A82),
    "select an EF with a 3-byte FID": ([SELECT_AP], "00A4020C0300000A", 0x6700),
    "select with Lc longer than the data": ([], "00A4040C0B" + AID, 0x6700),
    "select with an extended-length Lc": ([], "00A4040C00000A" + AID, 0x6700),
    "select with a bad P1": ([], "00A4FF0C0A" + AID, 0x6A86),
    "select every EF of the table": (
        [SELECT_AP, *(select_ef(f) for f in ("000A", "000B", "0017", "0018", "0001", "0002"))],
        select_ef("001A"),
        0x9000,
    ),
    "select 001B": ([SELECT_AP], select_ef("001B"), 0x9000),
    "select 0006": ([SELECT_AP], select_ef("0006"), 0x9000),
    "select 0008": ([SELECT_AP], select_ef("0008"), 0x9000),
    "GET DATA (CLA 00)": ([SELECT_AP], "00CA010100", 0x6A88),
    "GET DATA (CLA 80)": ([], "80CA9F7F00", 0x6A88),
    "unknown INS (GET CHALLENGE)": ([SELECT_AP], "0084000008", 0x6D00),
    "unknown INS (MSE)": ([SELECT_AP], "002241B603830101", 0x6D00),
    "wrong CLA": ([], "90A4040C0A" + AID, 0x6E00),
    "SELECT with CLA 80": ([], "80A4040C0A" + AID, 0x6E00),
    "ISO PSO with CLA 00": ([SELECT_AP], "002A9E9A03010203", 0x6E00),
    "too short to be an APDU": ([], "00A4", 0x6700),
    "READ BINARY without an EF": ([SELECT_AP], "00B0000004", 0x6986),
    "READ BINARY without Le": ([SELECT_AP, select_ef("000A")], "00B00000", 0x6700),
    "READ BINARY with data": ([SELECT_AP, select_ef("000A")], "00B000000101", 0x6700),
    "READ BINARY with a short EF id": ([SELECT_AP, select_ef("000A")], "00B0810004", 0x6A86),
    "READ BINARY of the key EF": ([SELECT_AP, select_ef("0017")], "00B0000004", 0x6981),
    "READ BINARY of the PIN EF": ([SELECT_AP, select_ef("0018")], "00B0000004", 0x6981),
    "READ the signing certificate without its password": (
        [SELECT_AP, select_ef("0001")],
        "00B0000004",
        0x6982,
    ),
    "READ the signing CA certificate": ([SELECT_AP, select_ef("0002")], "00B0000004", 0x9000),
    "READ BINARY past the end": ([SELECT_AP, select_ef("000A")], "00B07F0004", 0x6B00),
    "READ BINARY past the end of 0008": ([SELECT_AP, select_ef("0008")], "00B0000300", 0x6B00),
    "empty VERIFY of the PIN": ([SELECT_AP, select_ef("0018")], verify(), 0x63C3),
    "empty VERIFY of the signing password": ([SELECT_AP, select_ef("001B")], verify(), 0x63C5),
    "empty VERIFY with Le 00": ([SELECT_AP, select_ef("0018")], "0020008000", 0x63C3),
    "VERIFY with a bad P2": ([SELECT_AP, select_ef("0018")], "0020008104" + "31323334", 0x6A86),
    "VERIFY with a bad P1": ([SELECT_AP, select_ef("0018")], "0020010004" + "31323334", 0x6A86),
    "VERIFY without a PIN EF": ([SELECT_AP], verify(PIN), 0x6986),
    "VERIFY on a certificate EF": ([SELECT_AP, select_ef("000A")], verify(PIN), 0x6985),
    "VERIFY a 5-digit PIN": ([SELECT_AP, select_ef("0018")], verify("12345"), 0x6700),
    "VERIFY a 5-character signing password": (
        [SELECT_AP, select_ef("001B")],
        verify("ABCDE"),
        0x6700,
    ),
    "VERIFY the right PIN": ([SELECT_AP, select_ef("0018")], verify(PIN), 0x9000),
    "VERIFY the right signing password": (
        [SELECT_AP, select_ef("001B")],
        verify(SIGN_PASSWORD),
        0x9000,
    ),
    "SIGN without the PIN": ([SELECT_AP, select_ef("0017")], sign_apdu(digest_info(b"x")), 0x6982),
    "SIGN with the signing key without its password": (
        [SELECT_AP, select_ef("0018"), verify(PIN), select_ef("001A")],
        sign_apdu(digest_info(b"x")),
        0x6982,
    ),
    "SIGN without a key EF": ([SELECT_AP], sign_apdu(digest_info(b"x")), 0x6986),
    "SIGN on a certificate EF": (
        [SELECT_AP, select_ef("0018"), verify(PIN), select_ef("000A")],
        sign_apdu(digest_info(b"x")),
        0x6985,
    ),
    "SIGN with P1 01": (
        [SELECT_AP, select_ef("0018"), verify(PIN), select_ef("0017")],
        sign_apdu(digest_info(b"x"), p1=1),
        0x6A86,
    ),
    "SIGN with P2 9A": (
        [SELECT_AP, select_ef("0018"), verify(PIN), select_ef("0017")],
        "802A009A33" + digest_info(b"x").hex() + "00",
        0x6A86,
    ),
    "SIGN 246 bytes": (
        [SELECT_AP, select_ef("0018"), verify(PIN), select_ef("0017")],
        sign_apdu(bytes(246)),
        0x6700,
    ),
    "SIGN 245 bytes (the most that fits)": (
        [SELECT_AP, select_ef("0018"), verify(PIN), select_ef("0017")],
        sign_apdu(bytes(range(245))),
        0x9000,
    ),
    "SIGN nothing": (
        [SELECT_AP, select_ef("0018"), verify(PIN), select_ef("0017")],
        "802A0080",
        0x6700,
    ),
    "SIGN without Le": (
        [SELECT_AP, select_ef("0018"), verify(PIN), select_ef("0017")],
        sign_apdu(digest_info(b"x"))[:-2],
        0x9000,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_status_words(card: VirtualJpkiCard, name: str) -> None:
    setup, last, expected = CASES[name]
    for command in setup:
        assert send(card, command)[1] == 0x9000, command
    assert f"{send(card, last)[1]:04X}" == f"{expected:04X}"


def test_token_info_label_and_ef_0008(card: VirtualJpkiCard) -> None:
    send(card, SELECT_AP)
    send(card, select_ef("0006"))
    label, sw = send(card, "00B0000020")
    assert (sw, label) == (0x9000, b"JPKIAPICCTOKEN2".ljust(32, b" "))
    rest, sw = send(card, "00B0002000")
    assert sw == 0x6282 and rest  # more token info follows the label
    send(card, select_ef("0008"))
    assert send(card, "00B0000003") == (bytes.fromhex("8F8F00"), 0x9000)


def test_old_juki_card_label(profile: CardProfile) -> None:
    card = VirtualJpkiCard(profile, token_label=OLD_JUKI_TOKEN_LABEL)
    send(card, SELECT_AP)
    send(card, select_ef("0006"))
    assert send(card, "00B0000020")[0] == b"JPKIAPICCTOKEN".ljust(32, b" ")


def read_whole_ef(card: VirtualJpkiCard, fid: str) -> bytes:
    send(card, select_ef(fid))
    content = b""
    while True:
        chunk, sw = send(card, f"00B0{len(content):04X}00")
        if sw == 0x6B00:
            return content
        assert sw in (0x9000, 0x6282)
        content += chunk
        if sw == 0x6282:
            assert send(card, f"00B0{len(content):04X}01")[1] == 0x6B00
            return content


@pytest.mark.parametrize(
    ("fid", "which"),
    [
        ("000A", "auth_certificate"),
        ("000B", "auth_ca_certificate"),
        ("0002", "sign_ca_certificate"),
    ],
)
def test_certificate_efs_are_padded_after_the_der(
    card: VirtualJpkiCard, profile: CardProfile, fid: str, which: str
) -> None:
    expected = der(getattr(profile, which))
    send(card, SELECT_AP)
    content = read_whole_ef(card, fid)
    assert content[:2] == b"\x30\x82"
    length = int.from_bytes(content[2:4], "big") + 4
    assert length == len(expected) < len(content)
    assert content[:length] == expected
    assert set(content[length:]) == {0}


def test_signing_certificate_is_readable_after_its_password(
    card: VirtualJpkiCard, profile: CardProfile
) -> None:
    for command in (SELECT_AP, select_ef("001B"), verify(SIGN_PASSWORD)):
        assert send(card, command)[1] == 0x9000
    content = read_whole_ef(card, "0001")
    assert content.startswith(der(profile.sign_certificate))


@pytest.mark.parametrize(("offset", "le"), [(0, 4), (4, 256), (1000, 17), (0x7FF, 1), (3, 0)])
def test_chunked_reads_return_the_requested_slice(
    card: VirtualJpkiCard, profile: CardProfile, offset: int, le: int
) -> None:
    padded = der(profile.auth_certificate).ljust(0x800, b"\x00")
    send(card, SELECT_AP)
    send(card, select_ef("000A"))
    data, sw = send(card, f"00B0{offset:04X}{le % 256:02X}")
    want = le or 256
    assert sw == 0x9000
    assert data == padded[offset : offset + want]


def test_read_of_the_last_bytes_is_short_with_6282(card: VirtualJpkiCard) -> None:
    send(card, SELECT_AP)
    send(card, select_ef("000A"))
    size = len(read_whole_ef(card, "000A"))
    data, sw = send(card, f"00B0{size - 3:04X}00")
    assert (len(data), sw) == (3, 0x6282)


def test_pin_locks_after_three_wrong_tries_and_stays_locked(
    card: VirtualJpkiCard, profile: CardProfile
) -> None:
    send(card, SELECT_AP)
    send(card, select_ef("0018"))
    answers = [
        send(card, command)[1]
        for command in (
            verify(),
            verify("0000"),
            verify(),
            verify("0000"),
            verify("0000"),
            verify(PIN),
            verify(),
            verify("0000"),
        )
    ]
    assert [f"{sw:04X}" for sw in answers] == [
        "63C3",
        "63C2",
        "63C2",
        "63C1",
        "63C0",
        "6984",
        "63C0",
        "6984",
    ]
    send(card, select_ef("0017"))
    assert send(card, sign_apdu(digest_info(b"x")))[1] == 0x6982
    assert CardProfile.load(profile.directory).pin_tries_left == 0


def test_signing_password_has_five_tries(card: VirtualJpkiCard, profile: CardProfile) -> None:
    send(card, SELECT_AP)
    send(card, select_ef("001B"))
    answers = [send(card, verify("WRONG1"))[1] for _ in range(6)]
    assert [f"{sw:04X}" for sw in answers] == ["63C4", "63C3", "63C2", "63C1", "63C0", "6984"]
    assert send(card, verify(SIGN_PASSWORD))[1] == 0x6984
    assert CardProfile.load(profile.directory).sign_password_tries_left == 0
    # the user-auth PIN is a separate counter
    send(card, select_ef("0018"))
    assert send(card, verify())[1] == 0x63C3


def test_right_pin_resets_the_counter(card: VirtualJpkiCard, profile: CardProfile) -> None:
    send(card, SELECT_AP)
    send(card, select_ef("0018"))
    assert send(card, verify("1111"))[1] == 0x63C2
    assert send(card, verify("2222"))[1] == 0x63C1
    assert send(card, verify(PIN))[1] == 0x9000
    assert send(card, verify())[1] == 0x63C3
    assert CardProfile.load(profile.directory).pin_tries_left == 3


def test_wrong_pin_after_a_right_one_drops_the_verified_state(card: VirtualJpkiCard) -> None:
    for command in (SELECT_AP, select_ef("0018"), verify(PIN)):
        send(card, command)
    assert send(card, verify("0000"))[1] == 0x63C2
    send(card, select_ef("0017"))
    assert send(card, sign_apdu(digest_info(b"x")))[1] == 0x6982


def test_tries_left_survive_a_reload_of_the_profile(
    card: VirtualJpkiCard, profile: CardProfile
) -> None:
    send(card, SELECT_AP)
    send(card, select_ef("0018"))
    send(card, verify("0000"))
    reloaded = CardProfile.load(profile.directory)
    assert reloaded.pin_tries_left == 2
    again = VirtualJpkiCard(reloaded)
    send(again, SELECT_AP)
    send(again, select_ef("0018"))
    assert send(again, verify())[1] == 0x63C2


def authenticate_and_sign(card: VirtualJpkiCard, message: bytes) -> bytes:
    for command in (SELECT_AP, select_ef("0018"), verify(PIN), select_ef("0017")):
        assert send(card, command)[1] == 0x9000
    signature, sw = send(card, sign_apdu(digest_info(message)))
    assert sw == 0x9000
    return signature


def test_signature_verifies_with_the_certificate(
    card: VirtualJpkiCard, profile: CardProfile
) -> None:
    message = b"challenge 0123456789"
    signature = authenticate_and_sign(card, message)
    assert len(signature) == 256
    public_key = rsa_public(profile.auth_certificate)
    public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    # PKCS#1 v1.5 is deterministic: the card's answer is exactly what the key itself gives
    assert signature == profile.auth_key.sign(message, padding.PKCS1v15(), hashes.SHA256())


def test_signing_key_signs_after_the_signing_password(
    card: VirtualJpkiCard, profile: CardProfile
) -> None:
    for command in (SELECT_AP, select_ef("001B"), verify(SIGN_PASSWORD), select_ef("001A")):
        assert send(card, command)[1] == 0x9000
    signature, sw = send(card, sign_apdu(digest_info(b"document")))
    assert sw == 0x9000
    public_key = rsa_public(profile.sign_certificate)
    public_key.verify(signature, b"document", padding.PKCS1v15(), hashes.SHA256())


def test_signature_is_type_01_padding_of_the_input(
    card: VirtualJpkiCard, profile: CardProfile
) -> None:
    data = b"\x01\x02\x03"
    for command in (SELECT_AP, select_ef("0018"), verify(PIN), select_ef("0017")):
        send(card, command)
    signature, _ = send(card, sign_apdu(data))
    numbers = rsa_public(profile.auth_certificate).public_numbers()
    block = pow(int.from_bytes(signature, "big"), numbers.e, numbers.n).to_bytes(256, "big")
    assert block == b"\x00\x01" + b"\xff" * (256 - 3 - 3) + b"\x00" + data


@pytest.mark.parametrize("how", ["power cycle", "reset"])
def test_power_off_and_reset_clear_the_security_state(card: VirtualJpkiCard, how: str) -> None:
    authenticate_and_sign(card, b"before")
    if how == "power cycle":
        card.power_off()
        assert card.power_on() == CONTACT_ATR
    else:
        assert card.reset() == CONTACT_ATR
    # the selection is gone too: EFs need the AP again
    assert send(card, select_ef("0017"))[1] == 0x6A82
    send(card, SELECT_AP)
    send(card, select_ef("0017"))
    assert send(card, sign_apdu(digest_info(b"after")))[1] == 0x6982


def test_a_powered_off_card_answers_nothing(card: VirtualJpkiCard) -> None:
    card.power_off()
    with pytest.raises(CardRemoved):
        card.transmit(bytes.fromhex(SELECT_AP))
    card.power_on()
    assert send(card, SELECT_AP)[1] == 0x9000


@pytest.mark.parametrize(("clears", "expected"), [(False, 0x9000), (True, 0x6982)])
def test_reselecting_the_ap_clears_the_pin_only_when_switched_on(
    card: VirtualJpkiCard, clears: bool, expected: int
) -> None:
    card.faults.reselect_clears_pin = clears
    for command in (SELECT_AP, select_ef("0018"), verify(PIN), SELECT_AP, select_ef("0017")):
        assert send(card, command)[1] == 0x9000
    assert send(card, sign_apdu(digest_info(b"x")))[1] == expected


def test_card_removed_in_the_middle_of_sign(card: VirtualJpkiCard) -> None:
    card.faults.remove_on_ins = 0x2A
    for command in (SELECT_AP, select_ef("0018"), verify(PIN), select_ef("0017")):
        send(card, command)
    with pytest.raises(CardRemoved):
        card.transmit(bytes.fromhex(sign_apdu(digest_info(b"x"))))
    assert not card.powered
    with pytest.raises(CardRemoved):
        card.transmit(bytes.fromhex(SELECT_AP))
    # put back in: a fresh power-up, PIN needed again; the switch stays until cleared
    card.faults.remove_on_ins = None
    card.power_on()
    for command in (SELECT_AP, select_ef("0017")):
        send(card, command)
    assert send(card, sign_apdu(digest_info(b"x")))[1] == 0x6982


def test_6f00_after_every_power_up_when_switched_on(profile: CardProfile) -> None:
    card = VirtualJpkiCard(
        profile, atr=CONTACTLESS_ATR, faults=Faults(answer_6f00_after_power_up=True)
    )
    assert send(card, SELECT_AP)[1] == 0x6F00
    assert send(card, SELECT_AP)[1] == 0x9000
    assert card.reset() == CONTACTLESS_ATR
    assert send(card, SELECT_AP)[1] == 0x6F00
    assert send(card, SELECT_AP)[1] == 0x9000


def test_wire_statistics_count_both_directions(card: VirtualJpkiCard) -> None:
    send(card, SELECT_AP)
    send(card, select_ef("000A"))
    send(card, "00B0000004")
    assert card.apdu_count == 3
    assert card.bytes_in == 15 + 7 + 5
    assert card.bytes_out == 2 + 2 + 6
    card.reset_statistics()
    assert (card.apdu_count, card.bytes_in, card.bytes_out) == (0, 0, 0)


def test_no_pin_in_logs_or_reprs(
    card: VirtualJpkiCard, profile: CardProfile, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    send(card, SELECT_AP)
    send(card, select_ef("0018"))
    send(card, verify("5820"))
    send(card, verify(PIN))
    forbidden = [PIN, PIN.encode().hex(), PIN.encode().hex().upper(), "5820", "35383230"]
    text = caplog.text + repr(profile) + repr(card)
    assert caplog.records  # the card does log its APDUs
    assert not [secret for secret in forbidden if secret in text]
