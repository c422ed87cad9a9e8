"""OpenSC, an independent JPKI client, reads and uses our emulator through the same pcscd.

OpenSC's ``jpki`` driver gives the user-authentication objects ID 01 (certificate, key, PIN).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from cardio.virtual.profile import CardProfile
from tests.card_pcsc.support import PIN, WRONG_PIN, Reader, make_card

pytestmark = [pytest.mark.pcsc, pytest.mark.opensc]

PKCS11_MODULE = "/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so"


def opensc(*args: str, driver: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run an OpenSC tool (optionally with ``OPENSC_DRIVER``); never raises on failure."""
    env = {k: v for k, v in os.environ.items() if k != "OPENSC_DRIVER"}
    if driver is not None:
        env["OPENSC_DRIVER"] = driver
    return subprocess.run(
        list(args), capture_output=True, text=True, timeout=60, check=False, env=env
    )


def auth_pin_tries_left(text: str) -> int:
    """Tries left of the 'User Authentication PIN' in ``pkcs15-tool --list-pins`` output."""
    block = text.split("User Authentication PIN", 1)[1]
    match = re.search(r"Tries left\s*:\s*(\d+)", block)
    assert match, text
    return int(match.group(1))


def test_pkcs15_tool_lists_the_jpki_objects(reader: Reader, shared_profile: CardProfile) -> None:
    reader.insert(make_card(shared_profile))

    done = opensc("pkcs15-tool", "-D")

    assert done.returncode == 0, done.stdout + done.stderr
    for label in (
        "User Authentication Certificate",
        "User Authentication Certificate CA",
        "Digital Signature Certificate",
        "User Authentication PIN",
        "Digital Signature PIN",
        "User Authentication Key",
        "Digital Signature Key",
    ):
        assert label in done.stdout


def test_pkcs15_tool_reads_our_certificate(
    reader: Reader, shared_profile: CardProfile, tmp_path: Path
) -> None:
    reader.insert(make_card(shared_profile))

    done = opensc("pkcs15-tool", "--read-certificate", "01")

    assert done.returncode == 0, done.stderr
    expected = shared_profile.auth_certificate.public_bytes(Encoding.PEM).decode()
    assert expected.strip() in done.stdout


@pytest.mark.parametrize("driver", [None, "jpki"], ids=["probing", "OPENSC_DRIVER=jpki"])
def test_pkcs11_tool_signs_with_the_auth_key_and_it_verifies(
    reader: Reader, shared_profile: CardProfile, tmp_path: Path, driver: str | None
) -> None:
    reader.insert(make_card(shared_profile))
    message = tmp_path / "message"
    message.write_bytes(b"MyKey point terminal: challenge " + os.urandom(16))
    signature = tmp_path / "signature"

    done = opensc(
        "pkcs11-tool", "--module", PKCS11_MODULE, "--slot-index", "0",
        "--login", "--pin", PIN, "--sign", "--mechanism", "SHA256-RSA-PKCS", "--id", "01",
        "--input-file", str(message), "--output-file", str(signature), driver=driver,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    public_key = shared_profile.auth_certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(  # raises InvalidSignature when it does not verify
        signature.read_bytes(), message.read_bytes(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_a_wrong_pin_lowers_the_tries_opensc_reports(
    reader: Reader, issue_card: Callable[[], CardProfile]
) -> None:
    profile = issue_card()
    reader.insert(make_card(profile))
    before = opensc("pkcs15-tool", "--list-pins")
    assert before.returncode == 0, before.stderr
    assert auth_pin_tries_left(before.stdout) == 3

    login = opensc(
        "pkcs11-tool", "--module", PKCS11_MODULE, "--slot-index", "0",
        "--login", "--pin", WRONG_PIN, "--list-objects",
    )  # fmt: skip
    assert login.returncode != 0

    after = opensc("pkcs15-tool", "--list-pins")
    assert auth_pin_tries_left(after.stdout) == 2
    assert CardProfile.load(profile.directory).pin_tries_left == 2
