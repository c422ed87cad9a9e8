"""`mykey card virtual …`: CA, card, renewal, revocation and CRL from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509

from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from mykey.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["card", "virtual", *args])
    return code, capsys.readouterr().out


def fields(output: str) -> dict[str, str]:
    pairs = (line.split(": ", 1) for line in output.splitlines() if ": " in line)
    return {key: value for key, value in pairs}


def test_ca_card_revoke_and_crl(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ca_dir, card_dir, crl_file = tmp_path / "ca", tmp_path / "card", tmp_path / "out" / "ca.crl"
    code, out = run(capsys, "ca-init", "--dir", str(ca_dir))
    assert code == 0 and "O=JPKI-TEST" in fields(out)["subject"]
    assert Path(fields(out)["trust"]) == ca_dir / "trust"

    code, out = run(capsys, "create", "--ca", str(ca_dir), "--profile", str(card_dir),
                    "--pin", "4096")  # fmt: skip
    assert code == 0
    random_parts = ("serial", "fingerprint", "subject", "valid")
    assert not any("4096" in v for k, v in fields(out).items() if k not in random_parts)
    serial = int(fields(out)["serial"])
    profile = CardProfile.load(card_dir)
    assert profile.pin == "4096" and profile.auth_certificate.serial_number == serial

    code, out = run(capsys, "crl", "--ca", str(ca_dir), "--out", str(crl_file))
    assert code == 0 and fields(out)["revoked"] == "0"

    code, out = run(capsys, "revoke", "--ca", str(ca_dir), "--profile", str(card_dir))
    assert code == 0 and str(serial) in out

    code, out = run(capsys, "crl", "--ca", str(ca_dir), "--out", str(crl_file), "--hours", "2")
    assert code == 0 and fields(out)["revoked"] == "1" and fields(out)["number"] == "2"
    crl = x509.load_der_x509_crl(crl_file.read_bytes())  # DER, as the help says
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None

    renewed_dir = tmp_path / "renewed"
    code, out = run(
        capsys, "renew", "--ca", str(ca_dir), "--profile", str(card_dir),
        "--out-profile", str(renewed_dir),
    )  # fmt: skip
    assert code == 0 and fields(out)["renewed-from-serial"] == str(serial)
    renewed = CardProfile.load(renewed_dir)
    assert renewed.person_id == profile.person_id and renewed.pin == "4096"
    assert TestCA.load(ca_dir).renewals()[0]["new"]["serial"] == int(fields(out)["serial"])


@pytest.mark.parametrize("bad", ["123", "12345", "abcd", "12 4"])
def test_create_refuses_a_malformed_pin_clearly(
    capsys: pytest.CaptureFixture[str], ca_dir: Path, tmp_path: Path, bad: str
) -> None:
    code, out = run(capsys, "create", "--ca", str(ca_dir), "--profile", str(tmp_path / "c"),
                    "--pin", bad)  # fmt: skip
    assert code == 1
    ja, en = out.splitlines()
    assert "暗証番号" in ja and "4" in en and "PIN" in en
    assert bad not in out
    assert not (tmp_path / "c").exists()


def test_missing_ca_and_used_folders_are_clear_errors(
    capsys: pytest.CaptureFixture[str], ca_dir: Path, template_profile_dir: Path, tmp_path: Path
) -> None:
    code, out = run(capsys, "create", "--ca", str(tmp_path / "no-ca"), "--profile",
                    str(tmp_path / "c"), "--pin", "1234")  # fmt: skip
    assert code == 1 and "no-ca" in out and len(out.splitlines()) == 2
    code, out = run(capsys, "create", "--ca", str(ca_dir), "--profile",
                    str(template_profile_dir), "--pin", "1234")  # fmt: skip
    assert code == 1 and "not overwritten" in out
    code, out = run(capsys, "ca-init", "--dir", str(ca_dir))
    assert code == 1 and "not overwritten" in out


def test_the_console_script_runs(ca_dir: Path, tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "mykey"
    result = subprocess.run(
        [str(script), "card", "virtual", "create", "--ca", str(ca_dir), "--profile",
         str(tmp_path / "card"), "--pin", "12a4"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "The PIN must be exactly 4 ASCII digits" in result.stdout
    help_text = subprocess.run(
        [str(script), "card", "virtual", "crl", "--help"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "DER" in help_text
