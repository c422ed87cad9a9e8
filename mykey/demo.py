"""`mykey demo`: the whole chain on embedded defaults, as a newcomer first sees it.

A virtual My Number Card (test CA, a card profile that keeps its identity between runs) is
placed in a real PC/SC reader through pcscd + vsmartcard-vpcd; the terminal reads and checks it,
asks for the PIN and has the card sign a challenge; a local ledger server on SQLite runs on
loopback; three enrolled terminals (a municipal desk, a shopping-street office, a shop) send
RFC 9421-signed, card-signed transactions: MyKey ID set-up, a grant, a point use. Then the
ledger is audited. Everything lives in one folder (``--dir``; default: the user data dir).
"""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from platformdirs import user_data_dir
from sqlalchemy import Engine, select

from cardio.auth import TrustStore, inspect_card, prove_possession, sign_message
from cardio.errors import CardError
from cardio.jpki import JpkiSession
from cardio.secrets import Pin, PinFormatError
from cardio.transport import PcscConnection
from cardio.virtual.ca import TestCA
from cardio.virtual.card import VirtualJpkiCard
from cardio.virtual.profile import CardProfile
from cardio.virtual.vpcd import VpcdBridge
from server_stub import operator
from server_stub.api.app import create_app
from server_stub.audit import audit
from server_stub.db.engine import make_engine
from server_stub.db.migrate import migrate
from server_stub.db.schema import grant_programs, municipalities
from server_stub.settings import Settings
from sync.client import LedgerClient, LedgerRefusedError, enroll
from sync.protocol import (
    CardAuthorisation,
    Grant,
    MyKeySetup,
    PointUse,
    ResultStatus,
    Transaction,
    TransactionResult,
    b64encode,
    transaction_digest,
    uuid7,
)

DEMO_PIN = "1234"
DEMO_MYKEY_ID = "DEMO2026"
KAWASAKI = "141305"
STREET, SHOP, DEPARTMENT = "B0001", "A0001", "D0001"
READER_WAIT_S = 10.0


def say(ja: str, en: str) -> None:
    """One step of the demo, in Japanese and then English."""
    sys.stdout.write(f"{ja}\n    {en}\n")
    sys.stdout.flush()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _card_profile(base: Path) -> tuple[TestCA, CardProfile]:
    ca_dir, card_dir = base / "ca", base / "card"
    ca = TestCA.load(ca_dir) if (ca_dir / "ca.json").exists() else TestCA.init(ca_dir)
    if (card_dir / "profile.json").exists():
        return ca, CardProfile.load(card_dir)
    return ca, ca.issue_card(card_dir, DEMO_PIN)


@dataclass(frozen=True)
class DemoLedger:
    """The demo's running ledger: its URL, its database, and the seeded program IDs."""

    base_url: str
    engine: Engine
    program_id: int
    grant_program_id: int


@contextmanager
def _ledger_server(base: Path, trust_dir: Path) -> Iterator[DemoLedger]:
    """A real ledger server on loopback (uvicorn in a thread) for the duration of the block."""
    url = f"sqlite:///{base / 'ledger.db'}"
    migrate(url)
    settings = Settings(
        database_url=url, trust_dir=trust_dir, signing_key_path=base / "ledger-signing-key.pem"
    )
    engine = make_engine(url)
    program_id, grant_program_id = _seed(engine)
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="ledger-server", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the ledger server did not start")
        time.sleep(0.05)
    try:
        yield DemoLedger(f"http://127.0.0.1:{port}", engine, program_id, grant_program_id)
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        engine.dispose()


def _seed(engine: Engine) -> tuple[int, int]:
    """Kawasaki, a street with a shop, a department, the point program and a grant program
    (made once); returns the program's and the grant program's IDs."""
    with engine.begin() as conn:
        if conn.execute(select(municipalities.c.code)).first() is None:
            operator.create_municipality(conn, KAWASAKI, "川崎市")
            operator.create_business(conn, STREET, KAWASAKI, "元住吉商店街", "street")
            operator.create_business(
                conn, SHOP, KAWASAKI, "ブレーメン青果店", "shop", street_id=STREET
            )
            operator.create_business(conn, DEPARTMENT, KAWASAKI, "健康福祉局", "department")
            program = operator.create_point_program(conn, KAWASAKI, "川崎市ポイント")
            operator.create_grant_program(conn, program, "健康診断受診", "健康福祉局", 500)
        row = conn.execute(select(grant_programs.c.program_id, grant_programs.c.id)).one()
        return int(row.program_id), int(row.id)


def _enrolled(ledger: DemoLedger, business_id: str, roles: list[str], name: str) -> LedgerClient:
    """A new terminal: the operator makes an enrollment code, the terminal enrolls its key."""
    with ledger.engine.begin() as conn:
        code = operator.create_enrollment_code(conn, business_id, roles).code
    key = Ed25519PrivateKey.generate()
    terminal = enroll(ledger.base_url, code, key, name=name)
    return LedgerClient(ledger.base_url, terminal.terminal_id, key)


def _wait_for_card(reader: str | None) -> PcscConnection:
    deadline = time.monotonic() + READER_WAIT_S
    while True:
        try:
            return PcscConnection.open(reader)
        except CardError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _ask_pin(tries_left: int, interactive: bool) -> Pin:
    if not interactive:
        say(
            f"暗証番号を入力します（デモカード: {DEMO_PIN}）",
            f"entering the demo card's PIN ({DEMO_PIN})",
        )
        return Pin(DEMO_PIN)
    while True:
        prompt = f"暗証番号4桁 / PIN (4 digits; demo card {DEMO_PIN}; tries left {tries_left}): "
        try:
            return Pin(getpass.getpass(prompt))
        except PinFormatError as error:
            sys.stdout.write(f"{error}\n")


def _tx(
    client: LedgerClient,
    business_id: str,
    payload: PointUse | Grant | MyKeySetup,
    certificate_der: bytes,
) -> Transaction:
    """A transaction of ``client``'s terminal naming the card (not yet signed by it)."""
    return Transaction(
        id=uuid7(),
        terminal_id=client.terminal_id,
        business_id=business_id,
        terminal_time=datetime.now(UTC),
        payload=payload,
        card=CardAuthorisation(certificate=b64encode(certificate_der)),
    )


def _signed(tx: Transaction, session: JpkiSession) -> Transaction:
    """``tx`` with the card's signature over its digest (the PIN is already verified)."""
    assert tx.card is not None
    signature = sign_message(session, transaction_digest(tx))
    card = tx.card.model_copy(update={"signature": b64encode(signature)})
    return tx.model_copy(update={"card": card})


def _check(result: TransactionResult) -> TransactionResult:
    if result.status not in (ResultStatus.APPLIED, ResultStatus.DUPLICATE):
        raise LedgerRefusedError(
            409, result.reason or "refused", result.message_ja or "", result.message_en or ""
        )
    return result


def run_demo(
    base: Path, *, latency: str, vpcd_port: int, reader: str | None, interactive: bool
) -> int:
    """Run the demo; returns the exit code."""
    base.mkdir(parents=True, exist_ok=True)
    say(f"デモ用フォルダ: {base}", f"demo folder: {base}")
    ca, profile = _card_profile(base)
    bridge = VpcdBridge(port=vpcd_port)
    bridge.start()
    bridge.insert(VirtualJpkiCard(profile, latency=latency))
    say(
        "カードをリーダーに置きました（仮想カード）",
        f"the virtual card is in the reader (latency: {latency})",
    )
    connection: PcscConnection | None = None
    try:
        connection = _wait_for_card(reader)
        session = JpkiSession(connection)
        trust = TrustStore.from_directory(ca.trust_directory)
        checked = inspect_card(session, trust=trust)
        say(
            f"カードを読み取りました: 証明書シリアル {checked.ref.serial}",
            f"card read in {connection.reader}: certificate serial {checked.ref.serial}",
        )
        card = prove_possession(
            session, checked, lambda tries: _ask_pin(tries, interactive), os.urandom(32)
        )
        say(
            "本人確認できました（カードがチャレンジに署名）",
            f"authenticated: {card.ref.fingerprint_sha256[:16]}…",
        )
        with _ledger_server(base, ca.trust_directory) as ledger:
            _counter_flows(ledger, session, card.certificate_der)
            with ledger.engine.connect() as conn:
                violations = audit(conn)
        if violations:
            say(
                f"台帳監査: {len(violations)} 件の不整合",
                f"ledger audit: {len(violations)} violations",
            )
            return 1
        say("台帳監査: 問題なし（全勘定の合計は 0）", "ledger audit: ok (all accounts sum to zero)")
        return 0
    except CardError as error:
        say(f"失敗: {error.message_ja}", f"failed: {error.message_en}")
        return 1
    except LedgerRefusedError as error:
        say(f"失敗: {error.title_ja}", f"failed: {error.title_en}")
        return 1
    finally:
        if connection is not None:
            connection.close()
        bridge.remove()
        bridge.stop()


def _counter_flows(ledger: DemoLedger, session: JpkiSession, certificate_der: bytes) -> None:
    """MyKey ID set-up at the office, a grant at the municipal desk, a point use at the shop."""
    office = _enrolled(ledger, STREET, ["office"], "商店街事務局")
    desk = _enrolled(ledger, DEPARTMENT, ["municipal"], "健康福祉局窓口")
    shop = _enrolled(ledger, SHOP, ["shop"], "ブレーメン青果店レジ")
    try:
        found = shop.lookup(certificate_der)
        if found.mykey_id is None:
            challenge = office.mykey_challenge().challenge
            setup = MyKeySetup(mykey_id=DEMO_MYKEY_ID, challenge=challenge)
            result = _check(
                office.authorize(_signed(_tx(office, STREET, setup, certificate_der), session))
            )
            say(
                f"マイキーIDを設定しました: {result.mykey_id}",
                f"MyKey ID set up: {result.mykey_id}",
            )
        else:
            say(f"マイキーID: {found.mykey_id}", f"MyKey ID: {found.mykey_id}")
        grant = Grant(grant_program_id=ledger.grant_program_id)  # a tap: no PIN, not signed
        result = _check(desk.authorize(_tx(desk, DEPARTMENT, grant, certificate_der)))
        say(
            f"付与: 健康診断受診 500 ポイント → 残高 {result.balance}",
            f"granted 500 points → balance {result.balance}",
        )
        use = PointUse(program_id=ledger.program_id, points=300)
        result = _check(shop.authorize(_signed(_tx(shop, SHOP, use, certificate_der), session)))
        say(
            f"利用: 300 ポイント（カード署名済み） → 残高 {result.balance}",
            f"used 300 points (card-signed) → balance {result.balance}",
        )
        balances = shop.lookup(certificate_der).balances
        for balance in balances:
            expiry = balance.nearest_expiry.isoformat() if balance.nearest_expiry else "-"
            say(
                f"{balance.program_name}: {balance.points} ポイント（最も近い有効期限 {expiry}）",
                f"{balance.program_name}: {balance.points} points (nearest expiry {expiry})",
            )
    finally:
        for client in (office, desk, shop):
            client.close()


def _run(args: argparse.Namespace) -> int:
    base = Path(args.dir) if args.dir else Path(user_data_dir("mykey")) / "demo"
    interactive = sys.stdin.isatty() and not args.auto_pin
    return run_demo(
        base,
        latency=args.latency,
        vpcd_port=args.vpcd_port,
        reader=args.reader,
        interactive=interactive,
    )


def register(parser: argparse.ArgumentParser) -> None:
    """Options of ``mykey demo``."""
    parser.add_argument("--dir", help="demo folder (default: the user data dir's demo folder)")
    parser.add_argument(
        "--latency", choices=["instant", "contact", "contactless"], default="contact"
    )
    parser.add_argument(
        "--vpcd-port", type=int, default=35963, help="vpcd port (35963 = Virtual PCD 00 00)"
    )
    parser.add_argument("--reader", help="the reader to use (default: the one holding a JPKI card)")
    parser.add_argument(
        "--auto-pin", action="store_true", help="enter the demo card's PIN without asking"
    )
    parser.set_defaults(func=_run)
