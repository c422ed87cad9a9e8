"""`mykey card info|auth` output lines and exit codes, with the card connected in-process.

The PC/SC path of the same commands runs in tests/card_pcsc (real pcscd + vpcd); here the
reader is replaced by an in-process connection to the emulator so every outcome is quick.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from cardio import transport
from cardio.auth import CertificateRef
from cardio.errors import NoReaderError
from cardio.virtual.ca import TestCA
from cardio.virtual.card import VirtualJpkiCard
from cardio.virtual.profile import CardProfile
from mykey.cli import build_parser
from tests.card.conftest import PIN, WRONG_PIN, MakeCard


def run_card(
    args: list[str],
    card: VirtualJpkiCard | None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stdin: str = "",
) -> tuple[int, list[str]]:
    def fake_open(reader: str | None = None, *, exclusive: bool = True) -> object:
        if card is None:
            raise NoReaderError("no PC/SC readers")
        return transport.InProcessConnection(card)

    monkeypatch.setattr(transport.PcscConnection, "open", staticmethod(fake_open))
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    parsed = build_parser("card").parse_args(["card", *args])
    code = parsed.func(parsed)
    return code, capsys.readouterr().out.splitlines()


@pytest.fixture()
def trust_args(ca: TestCA) -> list[str]:
    return ["--trust", str(ca.trust_directory)]


def test_auth_ok_prints_the_certificate_ref(
    make_card: MakeCard,
    trust_args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    card = make_card()
    code, lines = run_card(
        ["auth", *trust_args, "--pin-stdin"], card, monkeypatch, capsys, PIN + "\n"
    )
    ref = CertificateRef.of(card.profile.auth_certificate)
    assert code == 0
    assert f"issuer: {ref.issuer}" in lines
    assert f"serial: {ref.serial}" in lines
    assert f"fingerprint: {ref.fingerprint_sha256}" in lines
    assert "pin-tries-left: 3" in lines
    assert lines[-1] == "result: ok"


def test_auth_wrong_pin_then_locked(
    make_card: MakeCard,
    trust_args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    card = make_card()
    args = ["auth", *trust_args, "--pin-stdin"]
    code, lines = run_card(args, card, monkeypatch, capsys, WRONG_PIN + "\n")
    assert (code, lines[-1]) == (3, "result: wrong-pin tries-left=2")
    assert "暗証番号が違います。残り2回です。" in lines
    run_card(args, card, monkeypatch, capsys, WRONG_PIN + "\n")
    code, lines = run_card(args, card, monkeypatch, capsys, WRONG_PIN + "\n")
    assert (code, lines[-1]) == (4, "result: pin-locked")
    code, lines = run_card(args, card, monkeypatch, capsys, PIN + "\n")
    assert (code, lines[-1]) == (4, "result: pin-locked")
    assert any("市区町村" in line for line in lines)
    assert any("municipal office" in line for line in lines)


@pytest.mark.parametrize("typed", ["12a4", "123", "12345", ""])
def test_malformed_pin_is_refused_and_not_sent(
    typed: str,
    make_card: MakeCard,
    trust_args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    card = make_card()
    code, lines = run_card(
        ["auth", *trust_args, "--pin-stdin"], card, monkeypatch, capsys, typed + "\n"
    )
    assert (code, lines[-1]) == (1, "result: malformed-pin")
    assert "暗証番号は数字4桁で入力してください。暗証番号はカードに送っていません。" in lines
    assert card.profile.pin_tries_left == 3


def test_expired_certificate_fails_with_both_languages(
    make_card: MakeCard,
    ca: TestCA,
    base_profile: CardProfile,
    trust_args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = datetime.now(UTC)
    cert = ca.issue_auth_certificate(
        base_profile.auth_key.public_key(),
        not_before=now - timedelta(days=1000),
        not_after=now - timedelta(days=1),
    )
    card = make_card(auth_certificate=cert)
    code, lines = run_card(
        ["auth", *trust_args, "--pin-stdin"], card, monkeypatch, capsys, PIN + "\n"
    )
    assert (code, lines[-1]) == (1, "result: certificate-expired")
    assert "電子証明書の有効期限が切れています。市区町村の窓口で更新してください。" in lines
    assert any(line.startswith("The card's certificate has expired") for line in lines)


def test_revoked_certificate_with_crl_file(
    make_card: MakeCard,
    ca: TestCA,
    base_profile: CardProfile,
    trust_args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = datetime.now(UTC)
    cert = ca.issue_auth_certificate(
        base_profile.auth_key.public_key(), now=now - timedelta(days=1)
    )
    ca.revoke(cert, now=now - timedelta(hours=1))
    crl_file = tmp_path / "ca.crl"
    crl_file.write_bytes(ca.crl(now=now - timedelta(minutes=5)).public_bytes(Encoding.DER))
    args = ["auth", *trust_args, "--crl", str(crl_file), "--pin-stdin"]
    code, lines = run_card(args, make_card(auth_certificate=cert), monkeypatch, capsys, PIN)
    assert (code, lines[-1]) == (1, "result: certificate-revoked")
    code, lines = run_card(args, make_card(), monkeypatch, capsys, PIN)
    assert (code, lines[-1]) == (0, "result: ok")
    assert any(line.startswith("revocation: good age=") for line in lines)


def test_no_reader(
    trust_args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run_card(["auth", *trust_args, "--pin-stdin"], None, monkeypatch, capsys, PIN)
    assert (code, lines[-1]) == (1, "result: no-reader")
    assert lines[:2] == [
        "カードリーダーが見つかりません。リーダーを接続してください。",
        "No card reader found. Please connect a reader.",
    ]


def test_interactive_pin_asks_confirmation_on_the_last_try(
    make_card: MakeCard,
    trust_args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    card = make_card(pin_tries_left=1)
    asked: list[str] = []

    def refuse(prompt: str) -> str:
        asked.append(prompt)
        return "n"

    monkeypatch.setattr("builtins.input", refuse)
    monkeypatch.setattr("getpass.getpass", lambda prompt: pytest.fail("PIN asked anyway"))
    code, lines = run_card(["auth", *trust_args], card, monkeypatch, capsys)
    assert (code, lines[-1]) == (1, "result: cancelled")
    assert len(asked) == 1 and card.profile.pin_tries_left == 1

    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    monkeypatch.setattr("getpass.getpass", lambda prompt: PIN)
    code, lines = run_card(["auth", *trust_args], card, monkeypatch, capsys)
    assert (code, lines[-1]) == (0, "result: ok")


def test_info_shows_label_certificate_and_tries(
    make_card: MakeCard, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    card = make_card(pin_tries_left=2)
    code, lines = run_card(["info"], card, monkeypatch, capsys)
    cert = card.profile.auth_certificate
    assert code == 0
    assert "label: JPKIAPICCTOKEN2" in lines
    assert f"subject: {cert.subject.rfc4514_string()}" in lines
    assert f"serial: {cert.serial_number}" in lines
    assert "pin-tries-left: 2" in lines
    assert any(line.startswith("not-after: ") and line.endswith("+09:00") for line in lines)


def test_info_on_an_old_juki_card(
    make_card: MakeCard, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run_card(["info"], make_card(token_label="JPKIAPICCTOKEN"), monkeypatch, capsys)
    assert (code, lines[-1]) == (1, "result: not-my-number-card")
    assert "label: JPKIAPICCTOKEN" in lines


def test_unreadable_crl_file_is_reported(
    make_card: MakeCard,
    trust_args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "bad.crl").write_bytes(b"not a CRL")
    card = make_card()
    args = ["auth", *trust_args, "--crl", str(tmp_path / "bad.crl"), "--pin-stdin"]
    code, lines = run_card(args, card, monkeypatch, capsys, PIN)
    assert (code, lines[-1]) == (1, "result: revocation-data-unreadable")
    assert card.profile.pin_tries_left == 3
