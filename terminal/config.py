"""Where the terminal keeps its files, and its identity: the keys made at enrollment plus what the
server said about it (terminal ID, business, roles, server URL and key).

Key files and identity.json are readable by the owner only (mode 0600) from the moment they
exist; each is written completely and fsync'd before it takes its final name, so a crash leaves
either no file or a whole one.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from platformdirs import user_data_dir

from sync.protocol import EnrollResponse, Role
from terminal.errors import AlreadyEnrolledError, NotEnrolledError, StoreError

DATA_DIR_ENV = "MYKEY_TERMINAL_DATA"
_IDENTITY_FORMAT = 1

#: (server_url, code, terminal_key, voucher_key, name) -> the server's answer
EnrollFn = Callable[[str, str, Ed25519PrivateKey, Ed25519PrivateKey, str], EnrollResponse]


def default_data_dir() -> Path:
    """``$MYKEY_TERMINAL_DATA`` if set, else the user's data folder for MyKeyTerminal."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured)
    return Path(user_data_dir("MyKeyTerminal", appauthor=False))


@dataclass(frozen=True)
class TerminalPaths:
    """The files of one terminal's data folder."""

    root: Path
    database: Path
    identity: Path
    terminal_key: Path
    voucher_key: Path
    trust_dir: Path

    @classmethod
    def at(cls, root: Path | None = None) -> TerminalPaths:
        """The paths under ``root`` (default: :func:`default_data_dir`)."""
        base = root if root is not None else default_data_dir()
        return cls(
            root=base,
            database=base / "terminal.sqlite3",
            identity=base / "identity.json",
            terminal_key=base / "terminal_key.pem",
            voucher_key=base / "voucher_key.pem",
            trust_dir=base / "trust",
        )


@dataclass(frozen=True)
class TerminalIdentity:
    """What the server told this terminal when it enrolled."""

    terminal_id: str
    business_id: str
    street_id: str | None
    roles: frozenset[Role]
    server_url: str
    server_public_key: str
    name: str = ""
    #: the 6 digits that start this terminal's voucher numbers (None: not given by the server)
    voucher_prefix: int | None = None

    def has_role(self, role: Role) -> bool:
        """True when the terminal may act in ``role``."""
        return role in self.roles


def _fsync_dir(directory: Path) -> None:
    """Make a new or renamed entry in ``directory`` durable (POSIX; Windows has no such call)."""
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_private_tmp(directory: Path, stem: str, data: bytes) -> Path:
    """A new file (mode 0600 from creation) holding ``data``, fsync'd; returns its path."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = directory / f".{stem}.{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        if hasattr(os, "fchmod"):  # POSIX: exactly 0600 whatever the umask
            os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def create_key(path: Path) -> Ed25519PrivateKey:
    """Make a new Ed25519 key and save it at ``path`` (PKCS#8 PEM, mode 0600).

    Never overwrites: an existing file raises :class:`StoreError` and stays as it was.
    """
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = _write_private_tmp(path.parent, path.name, pem)
    try:
        os.link(tmp, path)  # atomic, and fails when path exists
    except FileExistsError as exc:
        raise StoreError(f"key file {path} exists; refusing to overwrite it") from exc
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return key


def load_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 key saved at ``path``; :class:`NotEnrolledError` when missing or unreadable."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise NotEnrolledError(f"key file {path} missing or unreadable: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise NotEnrolledError(f"key file {path} does not hold an Ed25519 key")
    return key


def save_identity(paths: TerminalPaths, identity: TerminalIdentity) -> None:
    """Write identity.json atomically (temporary file, fsync, rename), mode 0600."""
    document = {
        "format": _IDENTITY_FORMAT,
        "terminal_id": identity.terminal_id,
        "business_id": identity.business_id,
        "street_id": identity.street_id,
        "roles": sorted(role.value for role in identity.roles),
        "server_url": identity.server_url,
        "server_public_key": identity.server_public_key,
        "name": identity.name,
        "voucher_prefix": identity.voucher_prefix,
    }
    data = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    tmp = _write_private_tmp(paths.root, paths.identity.name, data)
    try:
        os.replace(tmp, paths.identity)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(paths.root)


def load_identity(paths: TerminalPaths) -> TerminalIdentity:
    """The saved identity; :class:`NotEnrolledError` when identity.json is missing or garbled."""
    try:
        document = json.loads(paths.identity.read_text(encoding="utf-8"))
        street_id = document["street_id"]
        identity = TerminalIdentity(
            terminal_id=_text(document["terminal_id"]),
            business_id=_text(document["business_id"]),
            street_id=None if street_id is None else _text(street_id),
            roles=frozenset(Role(role) for role in document["roles"]),
            server_url=_text(document["server_url"]),
            server_public_key=_text(document["server_public_key"]),
            name=str(document.get("name", "")),
            voucher_prefix=_optional_int(document.get("voucher_prefix")),
        )
    except FileNotFoundError as exc:
        raise NotEnrolledError(f"{paths.identity} does not exist") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise NotEnrolledError(f"{paths.identity} is unreadable: {exc!r}") from exc
    return identity


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value


def _optional_int(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    return value


def _key_for(path: Path) -> Ed25519PrivateKey:
    """The key at ``path`` (left there by an earlier, failed enrollment) or a new one."""
    return load_key(path) if path.exists() else create_key(path)


def enroll_terminal(
    paths: TerminalPaths, server_url: str, code: str, *, name: str = "", enroll: EnrollFn
) -> TerminalIdentity:
    """Enroll this data folder with the server using a one-time ``code``.

    Creates the terminal and voucher keys (re-using keys an earlier failed attempt left), calls
    ``enroll`` and saves the identity. :class:`AlreadyEnrolledError` if identity.json exists.
    Errors from ``enroll`` propagate and leave no identity behind.
    """
    if paths.identity.exists():
        raise AlreadyEnrolledError(f"{paths.identity} exists")
    terminal_key = _key_for(paths.terminal_key)
    voucher_key = _key_for(paths.voucher_key)
    response = enroll(server_url, code, terminal_key, voucher_key, name)
    identity = TerminalIdentity(
        terminal_id=response.terminal_id,
        business_id=response.business_id,
        street_id=response.street_id,
        roles=frozenset(response.roles),
        server_url=server_url,
        server_public_key=response.server_public_key,
        name=name,
        voucher_prefix=response.voucher_prefix,
    )
    _install_trust_anchors(paths, response.trust_anchors)
    save_identity(paths, identity)
    return identity


def _install_trust_anchors(paths: TerminalPaths, anchors: list[str]) -> None:
    """Put the CA certificates the server trusts into ``trust/`` unless the installer already
    put some there (an installer's J-LIS certificates win)."""
    paths.trust_dir.mkdir(parents=True, exist_ok=True)
    if any(paths.trust_dir.iterdir()):
        return
    for number, pem in enumerate(anchors, start=1):
        (paths.trust_dir / f"ledger-anchor-{number}.pem").write_text(pem, encoding="ascii")
