"""The demo's world on embedded defaults: one folder with a local ledger on SQLite, a test CA,
three residents' virtual cards and one enrolled terminal per role.

Kawasaki (141305) runs 川崎市ポイント and a special support event; the Motosumi-Bremen street
has three shops and its office; a library; the health department grants points (普通救命講習
300 pt, 健康診断受診 500 pt). The cards: an ordinary one, one with a single PIN try left, and a
revoked one. Everything is made once and re-used; each start resets the cards' PIN tries, gives
the ledger a fresh CRL and points the terminals at the ledger's current address.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import Engine, select

from cardio.auth import TrustStore
from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from mykey.child_process import UNTIL_STDIN_CLOSES, mykey_command
from server_stub import operator
from server_stub.db.engine import make_engine
from server_stub.db.migrate import migrate
from server_stub.db.schema import municipalities
from sync.client import enroll
from terminal.config import TerminalPaths, enroll_terminal, load_identity, save_identity

DEMO_PIN = "1234"
KAWASAKI = "141305"
STREET, OFFICE_NAME = "B0001", "元住吉ブレーメン通り商店街"
SHOPS = {"A0001": "ブレーメン青果店", "A0002": "パン工房モトスミ", "A0003": "ブレーメン書房"}
LIBRARY, DEPARTMENT = "L0001", "D0001"
#: card name -> (MyKey ID, points granted at set-up)
RESIDENTS = {
    "ordinary": ("DEMO0001", 3000),
    "last-try": ("DEMO0002", 1000),
    "revoked": ("DEMO0003", 500),
}
START_TIMEOUT_S = 30.0
#: terminal name -> (business, roles)
TERMINALS = {
    "shop": ("A0001", ["shop"]),
    "office": (STREET, ["office", "shop"]),
    "library": (LIBRARY, ["library"]),
    "desk": (DEPARTMENT, ["municipal"]),
}


@dataclass(frozen=True)
class DemoWorld:
    """The demo folder's parts."""

    base: Path
    ca: TestCA
    cards: dict[str, CardProfile]
    terminals: dict[str, TerminalPaths]

    @property
    def database_url(self) -> str:
        """The local ledger's SQLite database."""
        return f"sqlite:///{self.base / 'ledger' / 'ledger.db'}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(base: Path) -> DemoWorld:
    """Create (first time) or load the demo world in ``base``; cards get their PIN tries back."""
    (base / "ledger").mkdir(parents=True, exist_ok=True)
    ca_dir = base / "ca"
    ca = TestCA.load(ca_dir) if (ca_dir / "ca.json").exists() else TestCA.init(ca_dir)
    cards: dict[str, CardProfile] = {}
    for name in RESIDENTS:
        folder = base / "cards" / name
        profile = (
            CardProfile.load(folder)
            if (folder / "profile.json").exists()
            else ca.issue_card(folder, DEMO_PIN)
        )
        profile.pin_tries_left = 1 if name == "last-try" else 3
        profile.save_counters()
        cards[name] = profile
    if not ca.revoked():
        ca.revoke(cards["revoked"].auth_certificate)
    terminals = {name: TerminalPaths.at(base / "terminals" / name) for name in TERMINALS}
    world = DemoWorld(base, ca, cards, terminals)
    migrate(world.database_url)
    engine = make_engine(world.database_url)
    try:
        _seed(engine, world)
        with engine.begin() as conn:
            crl = ca.crl().public_bytes(Encoding.DER)
            operator.import_crl(conn, crl, TrustStore.from_directory(ca.trust_directory))
    finally:
        engine.dispose()
    return world


def _seed(engine: Engine, world: DemoWorld) -> None:
    """Kawasaki's programs, businesses and residents (once)."""
    with engine.begin() as conn:
        if conn.execute(select(municipalities.c.code)).first() is not None:
            return
        operator.create_municipality(conn, KAWASAKI, "川崎市")
        operator.create_business(conn, STREET, KAWASAKI, OFFICE_NAME, "street")
        for shop_id, name in SHOPS.items():
            operator.create_business(conn, shop_id, KAWASAKI, name, "shop", street_id=STREET)
        operator.create_business(conn, LIBRARY, KAWASAKI, "川崎市立中原図書館", "library")
        operator.create_business(conn, DEPARTMENT, KAWASAKI, "健康福祉局", "department")
        program = operator.create_point_program(
            conn, KAWASAKI, "川崎市ポイント", voucher_validity_days=14
        )
        operator.create_point_program(
            conn,
            KAWASAKI,
            "【期間限定】川崎市実証実験ポイント",
            kind="special_event",
            accepted_business_ids=["A0001", "A0002"],
        )
        operator.create_grant_program(conn, program, "普通救命講習", "健康福祉局", 300)
        welcome = operator.create_grant_program(conn, program, "健康診断受診", "健康福祉局", 500)
        for name, (mykey_id, points) in RESIDENTS.items():
            operator.create_mykey_id(conn, mykey_id, world.cards[name].auth_certificate)
            operator.grant_points(conn, welcome, mykey_id, points)


class DemoLedger:
    """The local ledger server on a fixed loopback port, in its own process (``mykey ledger
    serve``, as an operator runs it), so the terminal's process holds only the terminal. Stop
    it and start it again on the same port to show the counter working offline."""

    def __init__(self, world: DemoWorld, port: int | None = None) -> None:
        self.world = world
        self.port = port or _free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Where the terminals reach it."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """True while it serves."""
        return self._process is not None

    def _command(self) -> list[str]:
        return [
            *mykey_command(),
            UNTIL_STDIN_CLOSES,  # the pipe closes when the demo ends, however it ends
            "ledger",
            "serve",
            "--db",
            self.world.database_url,
            "--trust",
            str(self.world.ca.trust_directory),
            "--port",
            str(self.port),
        ]

    def start(self) -> None:
        """Serve; returns once it accepts connections."""
        if self._process is not None:
            return
        folder = self.world.base / "ledger"
        env = {
            **os.environ,
            "MYKEY_LEDGER_SIGNING_KEY_PATH": str(folder / "signing-key.pem"),
            "MYKEY_LEDGER_PULL_CURSOR_LAG_SECONDS": "0",
        }
        with (folder / "server.log").open("ab") as log_file:
            process = subprocess.Popen(
                self._command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
                env=env,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _accepts(self.port):
            if process.poll() is not None or time.monotonic() > deadline:
                _end(process)
                raise RuntimeError(
                    f"the demo ledger could not listen on port {self.port} "
                    f"(see {folder / 'server.log'})"
                )
            time.sleep(0.05)
        self._process = process

    def stop(self) -> None:
        """Stop serving (the network is "down" for the terminals)."""
        process, self._process = self._process, None
        if process is not None:
            _end(process)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _end(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (uvicorn finishes what it serves), SIGKILL if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdin is not None:
        process.stdin.close()


def enroll_terminals(world: DemoWorld, ledger: DemoLedger) -> None:
    """Enroll every demo terminal not yet enrolled; point the others at ``ledger.url``."""
    engine = make_engine(world.database_url)
    try:
        for name, (business_id, roles) in TERMINALS.items():
            paths = world.terminals[name]
            paths.root.mkdir(parents=True, exist_ok=True)
            if not paths.trust_dir.exists():
                # contents only: copy2's CopyFile2 is missing under Wine, where the build tests
                shutil.copytree(
                    world.ca.trust_directory, paths.trust_dir, copy_function=shutil.copyfile
                )
            if paths.identity.exists():
                identity = load_identity(paths)
                if identity.server_url != ledger.url:
                    save_identity(paths, replace(identity, server_url=ledger.url))
                continue
            with engine.begin() as conn:
                code = operator.create_enrollment_code(conn, business_id, roles).code
            enroll_terminal(
                paths,
                ledger.url,
                code,
                name=f"demo {name}",
                enroll=lambda url, c, key, vkey, n: enroll(url, c, key, voucher_key=vkey, name=n),
            )
    finally:
        engine.dispose()


@contextmanager
def running_world(base: Path, port: int | None = None) -> Iterator[tuple[DemoWorld, DemoLedger]]:
    """The prepared world with its ledger serving and every terminal enrolled."""
    world = prepare(base)
    ledger = DemoLedger(world, port)
    ledger.start()
    try:
        enroll_terminals(world, ledger)
        yield world, ledger
    finally:
        ledger.stop()
