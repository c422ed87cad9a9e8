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
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from platformdirs import user_data_dir
from sqlalchemy import select

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
from server_stub.db.schema import municipalities
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


@contextmanager
def _ledger_server(url: str, base: Path, trust_dir: Path) -> Iterator[str]:
    """A real ledger server on loopback (uvicorn in a thread) for the duration of the block."""
    migrate(url)
    settings = Settings(
        database_url=url, trust_dir=trust_dir, signing_key_path=base / "ledger-signing-key.pem"
    )
    _seed(url)
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
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def _seed(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if conn.execute(select(municipalities.c.code)).first() is not None:
                return
            operator.create_municipality(conn, KAWASAKI, "川崎市")
            operator.create_business(conn, STREET, KAWASAKI, "元住吉商店街", "street")
            operator.create_business(
                conn, SHOP, KAWASAKI, "ブレーメン青果店", "shop", street_id=STREET
            )
            operator.create_business(conn, DEPARTMENT, KAWASAKI, "健康福祉局", "department")
            program = operator.create_point_program(conn, KAWASAKI, "川崎市ポイント")
            operator.create_grant_program(conn, program, "健康診断受診", "健康福祉局", 500)
    finally:
        engine.dispose()


def _enrolled(
    base_url: str, db_url: str, business_id: str, roles: list[str], name: str
) -> LedgerClient:
    """A new terminal: the operator makes an enrollment code, the terminal enrolls its key."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            code = operator.create_enrollment_code(conn, business_id, roles).code
    finally:
        engine.dispose()
    key = Ed25519PrivateKey.generate()
    terminal = enroll(base_url, code, key, name=name)
    return LedgerClient(base_url, terminal.terminal_id, key)


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


def _signed(tx: Transaction, session: JpkiSession, certificate_der: bytes) -> Transaction:
    unsigned = tx.model_copy(
        update={"card": CardAuthorisation(certificate=b64encode(certificate_der))}
    )
    signature = sign_message(session, transaction_digest(unsigned))
    card = CardAuthorisation(certificate=b64encode(certificate_der), signature=b64encode(signature))
    return unsigned.model_copy(update={"card": card})


def _tx(
    client: LedgerClient, business_id: str, payload: PointUse | Grant | MyKeySetup
) -> Transaction:
    return Transaction(
        id=uuid7(),
        terminal_id=client.terminal_id,
        business_id=business_id,
        terminal_time=datetime.now(UTC),
        payload=payload,
    )


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
        db_url = f"sqlite:///{base / 'ledger.db'}"
        with _ledger_server(db_url, base, ca.trust_directory) as base_url:
            _counter_flows(base_url, db_url, session, card.certificate_der)
            engine = make_engine(db_url)
            with engine.connect() as conn:
                violations = audit(conn)
            engine.dispose()
        if violations:
            say(
                f"台帳監査: {len(violations)} 件の不整合",
                f"ledger audit: {len(violations)} violations",
            )
            return 1
        say("台帳監査: 問題なし（全勘定の合計は 0）", "ledger audit: ok (all accounts sum to zero)")
        return 0
    except (CardError, LedgerRefusedError) as error:
        ja = getattr(error, "message_ja", getattr(error, "title_ja", ""))
        en = getattr(error, "message_en", getattr(error, "title_en", str(error)))
        say(f"失敗: {ja}", f"failed: {en}")
        return 1
    finally:
        if connection is not None:
            connection.close()
        bridge.remove()
        bridge.stop()


def _counter_flows(
    base_url: str, db_url: str, session: JpkiSession, certificate_der: bytes
) -> None:
    """MyKey ID set-up at the office, a grant at the municipal desk, a point use at the shop."""
    office = _enrolled(base_url, db_url, STREET, ["office"], "商店街事務局")
    desk = _enrolled(base_url, db_url, DEPARTMENT, ["municipal"], "健康福祉局窓口")
    shop = _enrolled(base_url, db_url, SHOP, ["shop"], "ブレーメン青果店レジ")
    try:
        found = shop.lookup(certificate_der)
        if found.mykey_id is None:
            challenge = office.mykey_challenge().challenge
            setup = _tx(office, STREET, MyKeySetup(mykey_id=DEMO_MYKEY_ID, challenge=challenge))
            result = _check(office.authorize(_signed(setup, session, certificate_der)))
            say(
                f"マイキーIDを設定しました: {result.mykey_id}",
                f"MyKey ID set up: {result.mykey_id}",
            )
        else:
            say(f"マイキーID: {found.mykey_id}", f"MyKey ID: {found.mykey_id}")
        grant = _tx(desk, DEPARTMENT, Grant(grant_program_id=1))
        grant = grant.model_copy(
            update={"card": CardAuthorisation(certificate=b64encode(certificate_der))}
        )
        result = _check(desk.authorize(grant))
        say(
            f"付与: 健康診断受診 500 ポイント → 残高 {result.balance}",
            f"granted 500 points → balance {result.balance}",
        )
        use = _signed(_tx(shop, SHOP, PointUse(program_id=1, points=300)), session, certificate_der)
        result = _check(shop.authorize(use))
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
