"""A virtual card's identity as a folder, so a demo card keeps its keys, PIN and tries across runs.

Layout of a profile folder (every file mode 0600, the folder 0700)::

    profile.json          format, person id (stable across renewals), renewed-from serial
    auth_key.pem          user-authentication private key (RSA 2048, PKCS#8)
    auth_cert.pem         user-authentication certificate (EF 000A)
    auth_ca_cert.pem      its CA certificate (EF 000B)
    sign_key.pem          signing private key (EF 001A; dummy contents)
    sign_cert.pem         signing certificate (EF 0001)
    sign_ca_cert.pem      its CA certificate (EF 0002)
    secrets.json          the PIN and the signing password (this folder IS the card)
    tries.json            tries left of both; rewritten atomically after every change
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cardio.virtual.errors import MissingFolderError, PinFormatError, SignPasswordFormatError

AUTH_PIN_MAX_TRIES = 3
SIGN_PASSWORD_MAX_TRIES = 5
PROFILE_FORMAT = 1

_PROFILE_FILE = "profile.json"
_SECRETS_FILE = "secrets.json"
_TRIES_FILE = "tries.json"
_SIGN_PASSWORD_RE = re.compile(r"[A-Z0-9]{6,16}")


def check_pin(pin: str) -> None:
    """Raise ``PinFormatError`` unless ``pin`` is exactly 4 ASCII digits."""
    if not (isinstance(pin, str) and len(pin) == 4 and pin.isascii() and pin.isdigit()):
        raise PinFormatError()


def check_sign_password(password: str) -> None:
    """Raise ``SignPasswordFormatError`` unless ``password`` is 6-16 of A-Z and 0-9."""
    if not (isinstance(password, str) and _SIGN_PASSWORD_RE.fullmatch(password)):
        raise SignPasswordFormatError()


def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename) with mode 0600 (mkstemp
    creates the file readable and writable by its owner only)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as JSON through ``write_private_file``."""
    write_private_file(path, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode())


def key_pem(key: rsa.RSAPrivateKey) -> bytes:
    """PEM (PKCS#8, unencrypted) of a private key."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_key(path: Path) -> rsa.RSAPrivateKey:
    """Load an unencrypted RSA private key from a PEM file.

    The (slow) RSA consistency check is skipped: these are the emulator's own keys, written by
    ``save``, and a damaged key only makes the virtual card's signatures fail to verify.
    """
    key = serialization.load_pem_private_key(
        path.read_bytes(), password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path.name} is not an RSA key")
    return key


def cert_pem(certificate: x509.Certificate) -> bytes:
    """PEM of a certificate."""
    return certificate.public_bytes(serialization.Encoding.PEM)


def load_cert(path: Path) -> x509.Certificate:
    """Load a PEM certificate."""
    return x509.load_pem_x509_certificate(path.read_bytes())


def folder_is_free(directory: Path) -> bool:
    """True when ``directory`` does not exist or is an empty folder."""
    return not directory.exists() or (directory.is_dir() and not any(directory.iterdir()))


@dataclass
class CardProfile:
    """A card's identity: keys, certificates, PIN, signing password and tries left."""

    directory: Path
    auth_key: rsa.RSAPrivateKey = field(repr=False)
    auth_certificate: x509.Certificate = field(repr=False)
    auth_ca_certificate: x509.Certificate = field(repr=False)
    sign_key: rsa.RSAPrivateKey = field(repr=False)
    sign_certificate: x509.Certificate = field(repr=False)
    sign_ca_certificate: x509.Certificate = field(repr=False)
    pin: str = field(repr=False)
    pin_tries_left: int = AUTH_PIN_MAX_TRIES
    sign_password: str = field(default="", repr=False)
    sign_password_tries_left: int = SIGN_PASSWORD_MAX_TRIES
    person_id: str = ""
    renewed_from_serial: int | None = None

    @classmethod
    def load(cls, directory: Path) -> CardProfile:
        """Read a profile folder; raises ``MissingFolderError`` when it is missing or broken."""
        directory = Path(directory)
        try:
            meta = json.loads((directory / _PROFILE_FILE).read_text(encoding="utf-8"))
            secrets = json.loads((directory / _SECRETS_FILE).read_text(encoding="utf-8"))
            tries = json.loads((directory / _TRIES_FILE).read_text(encoding="utf-8"))
            profile = cls(
                directory=directory,
                auth_key=load_key(directory / "auth_key.pem"),
                auth_certificate=load_cert(directory / "auth_cert.pem"),
                auth_ca_certificate=load_cert(directory / "auth_ca_cert.pem"),
                sign_key=load_key(directory / "sign_key.pem"),
                sign_certificate=load_cert(directory / "sign_cert.pem"),
                sign_ca_certificate=load_cert(directory / "sign_ca_cert.pem"),
                pin=str(secrets["pin"]),
                pin_tries_left=int(tries["pin_tries_left"]),
                sign_password=str(secrets["sign_password"]),
                sign_password_tries_left=int(tries["sign_password_tries_left"]),
                person_id=str(meta["person_id"]),
                renewed_from_serial=meta.get("renewed_from_serial"),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # the exception text names files and fields, never their secret contents
            detail = type(exc).__name__
            if isinstance(exc, OSError) and exc.filename:
                detail = f"{detail}: {Path(exc.filename).name}"
            elif isinstance(exc, KeyError):
                detail = f"missing field {exc}"
            raise MissingFolderError(
                "カードプロファイル", "card profile", str(directory), detail
            ) from None
        profile._check()
        return profile

    def _check(self) -> None:
        try:
            check_pin(self.pin)
            check_sign_password(self.sign_password)
        except (PinFormatError, SignPasswordFormatError) as exc:
            raise MissingFolderError(
                "カードプロファイル", "card profile", str(self.directory), exc.code
            ) from None
        if not 0 <= self.pin_tries_left <= AUTH_PIN_MAX_TRIES:
            raise MissingFolderError(
                "カードプロファイル", "card profile", str(self.directory), "pin_tries_left"
            )
        if not 0 <= self.sign_password_tries_left <= SIGN_PASSWORD_MAX_TRIES:
            raise MissingFolderError(
                "カードプロファイル",
                "card profile",
                str(self.directory),
                "sign_password_tries_left",
            )

    def save(self) -> None:
        """Write every file of the profile (used when a card is issued)."""
        self._check()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        d = self.directory
        write_private_file(d / "auth_key.pem", key_pem(self.auth_key))
        write_private_file(d / "auth_cert.pem", cert_pem(self.auth_certificate))
        write_private_file(d / "auth_ca_cert.pem", cert_pem(self.auth_ca_certificate))
        write_private_file(d / "sign_key.pem", key_pem(self.sign_key))
        write_private_file(d / "sign_cert.pem", cert_pem(self.sign_certificate))
        write_private_file(d / "sign_ca_cert.pem", cert_pem(self.sign_ca_certificate))
        write_json(d / _SECRETS_FILE, {"pin": self.pin, "sign_password": self.sign_password})
        self.save_counters()
        meta: dict[str, Any] = {"format": PROFILE_FORMAT, "person_id": self.person_id}
        if self.renewed_from_serial is not None:
            meta["renewed_from_serial"] = self.renewed_from_serial
        write_json(d / _PROFILE_FILE, meta)

    def save_counters(self) -> None:
        """Persist both tries-left counters atomically."""
        write_json(
            self.directory / _TRIES_FILE,
            {
                "pin_tries_left": self.pin_tries_left,
                "sign_password_tries_left": self.sign_password_tries_left,
            },
        )
