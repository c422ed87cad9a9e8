"""Terminal paths, key files, identity and enrollment, on real files in a temporary folder."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cardio.cli import default_trust_dir
from sync.protocol import EnrollResponse, LedgerUnreachableError, Role
from terminal.config import (
    DATA_DIR_ENV,
    TerminalIdentity,
    TerminalPaths,
    create_key,
    default_data_dir,
    enroll_terminal,
    load_identity,
    load_key,
    save_identity,
)
from terminal.errors import AlreadyEnrolledError, NotEnrolledError, StoreError

IDENTITY = TerminalIdentity(
    terminal_id="T-1",
    business_id="B-1",
    street_id="S-1",
    roles=frozenset({Role.SHOP, Role.OFFICE}),
    server_url="http://127.0.0.1:8000",
    server_public_key=base64.b64encode(b"k" * 32).decode(),
    name="レジ1",
)


def raw_public(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key."""
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def mode(path: Path) -> int:
    """The file's permission bits."""
    return stat.S_IMODE(path.stat().st_mode)


def test_paths_and_default_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    assert default_data_dir() == tmp_path / "data"
    paths = TerminalPaths.at()
    assert paths.root == tmp_path / "data"
    assert paths.database == tmp_path / "data" / "terminal.sqlite3"
    assert paths.trust_dir == tmp_path / "data" / "trust"
    monkeypatch.delenv(DATA_DIR_ENV)
    assert default_data_dir().name == "MyKeyTerminal"


def test_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "terminal_key.pem"
    key = create_key(path)
    assert mode(path) == 0o600
    assert raw_public(load_key(path)) == raw_public(key)
    before = path.read_bytes()
    with pytest.raises(StoreError):
        create_key(path)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["terminal_key.pem"]  # no temp left


def test_missing_or_broken_key_is_not_enrolled(tmp_path: Path) -> None:
    with pytest.raises(NotEnrolledError):
        load_key(tmp_path / "none.pem")
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN PRIVATE KEY-----\nxx\n")
    with pytest.raises(NotEnrolledError):
        load_key(broken)


def test_identity_round_trip_is_private(tmp_path: Path) -> None:
    paths = TerminalPaths.at(tmp_path / "t")
    save_identity(paths, IDENTITY)
    assert mode(paths.identity) == 0o600
    loaded = load_identity(paths)
    assert loaded == IDENTITY
    assert loaded.has_role(Role.SHOP) and not loaded.has_role(Role.MUNICIPAL)
    replaced = TerminalIdentity(**{**IDENTITY.__dict__, "street_id": None, "name": ""})
    save_identity(paths, replaced)
    assert load_identity(paths) == replaced
    assert sorted(p.name for p in paths.root.iterdir()) == ["identity.json"]


@pytest.mark.parametrize(
    "content",
    ["", "{not json", "[]", '{"terminal_id": "T-1"}', '{"terminal_id": 1, "roles": ["x"]}'],
)
def test_garbled_identity_is_not_enrolled(tmp_path: Path, content: str) -> None:
    paths = TerminalPaths.at(tmp_path)
    with pytest.raises(NotEnrolledError):
        load_identity(paths)
    paths.identity.write_text(content)
    with pytest.raises(NotEnrolledError):
        load_identity(paths)


class FakeServer:
    """Stands in for sync.client.enroll at this unit boundary: records what it was sent."""

    def __init__(self, fail_first: bool = False, anchors: list[str] | None = None) -> None:
        self.fail_next = fail_first
        self.anchors = anchors or []
        self.calls: list[tuple[str, str, bytes, bytes, str]] = []

    def __call__(
        self,
        server_url: str,
        code: str,
        terminal_key: Ed25519PrivateKey,
        voucher_key: Ed25519PrivateKey,
        name: str,
    ) -> EnrollResponse:
        self.calls.append(
            (server_url, code, raw_public(terminal_key), raw_public(voucher_key), name)
        )
        if self.fail_next:
            self.fail_next = False
            raise LedgerUnreachableError("connection refused")
        return EnrollResponse(
            terminal_id="T-9",
            business_id="B-3",
            street_id=None,
            roles=[Role.MUNICIPAL],
            server_public_key=IDENTITY.server_public_key,
            trust_anchors=self.anchors,
        )


def test_enroll_installs_the_servers_trust_anchors_unless_the_installer_did(
    tmp_path: Path,
) -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    fresh = TerminalPaths.at(tmp_path / "fresh")
    enroll_terminal(fresh, "http://l", "CODE-1", enroll=FakeServer(anchors=[pem]))
    assert [p.read_text() for p in fresh.trust_dir.iterdir()] == [pem]
    installed = TerminalPaths.at(tmp_path / "installed")
    installed.trust_dir.mkdir(parents=True)
    (installed.trust_dir / "jlis.pem").write_text("J-LIS")
    enroll_terminal(installed, "http://l", "CODE-2", enroll=FakeServer(anchors=[pem]))
    assert [p.name for p in installed.trust_dir.iterdir()] == ["jlis.pem"]


def test_enroll_saves_identity_and_keys(tmp_path: Path) -> None:
    paths = TerminalPaths.at(tmp_path / "t")
    server = FakeServer()
    identity = enroll_terminal(paths, "http://ledger", "CODE-1234", name="受付", enroll=server)
    assert identity == TerminalIdentity(
        terminal_id="T-9",
        business_id="B-3",
        street_id=None,
        roles=frozenset({Role.MUNICIPAL}),
        server_url="http://ledger",
        server_public_key=IDENTITY.server_public_key,
        name="受付",
    )
    assert load_identity(paths) == identity
    _, _, sent_terminal, sent_voucher, _ = server.calls[0]
    assert raw_public(load_key(paths.terminal_key)) == sent_terminal
    assert raw_public(load_key(paths.voucher_key)) == sent_voucher
    assert sent_terminal != sent_voucher
    assert mode(paths.terminal_key) == mode(paths.voucher_key) == 0o600

    with pytest.raises(AlreadyEnrolledError):
        enroll_terminal(paths, "http://ledger", "CODE-5678", enroll=server)
    assert len(server.calls) == 1
    assert load_identity(paths) == identity


def test_enroll_reuses_keys_after_a_failed_attempt(tmp_path: Path) -> None:
    paths = TerminalPaths.at(tmp_path / "t")
    server = FakeServer(fail_first=True)
    with pytest.raises(LedgerUnreachableError):
        enroll_terminal(paths, "http://ledger", "CODE-1234", enroll=server)
    assert not paths.identity.exists()
    with pytest.raises(NotEnrolledError):
        load_identity(paths)

    enroll_terminal(paths, "http://ledger", "CODE-1234", enroll=server)
    first, second = server.calls
    assert first[2:4] == second[2:4]  # same terminal and voucher keys both times
    assert raw_public(load_key(paths.terminal_key)) == first[2]


@pytest.mark.parametrize("configured", [True, False], ids=["MYKEY_TERMINAL_DATA", "default"])
def test_card_auth_checks_cards_against_the_terminals_own_trust_folder(
    configured: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an installer puts the J-LIS certificates in one folder; `mykey card auth` must use it too
    if configured:
        monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    else:
        monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    assert default_trust_dir() == TerminalPaths.at().trust_dir
