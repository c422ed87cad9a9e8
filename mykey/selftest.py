"""`mykey --selftest`: prove a frozen or installed app is complete and starts, in one JSON line.

Each check is a small function that raises on failure and returns a one-line detail on success;
``CHECKS`` lists them in order. The report is one JSON object on standard output::

    {"ok": true, "version": "0.1.0", "frozen": true,
     "checks": {"imports": {"ok": true, "detail": "..."}, ...}}

and the exit code is 0 only when every check passed. Nothing here needs a network, a reader, a
card or a display; everything written goes to a temporary folder that is removed afterwards.

The Qt checks run offscreen where no display is set (``QT_QPA_PLATFORM=offscreen``).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import IO, Any

from mykey import __version__
from mykey.cli import GROUPS

log = logging.getLogger(__name__)

#: A check: returns a short detail on success, raises any exception on failure.
Check = Callable[[], str]

#: Our packages and the third-party modules they cannot start without (lazily imported ones
#: included: a frozen app only has what the spec collected). The CLI groups are added from
#: ``mykey.cli.GROUPS``.
REQUIRED_MODULES: tuple[str, ...] = (
    "cardio.auth",
    "cardio.jpki",
    "cardio.monitor",
    "cardio.transport",
    "cardio.virtual.vpcd",
    "mykey.demo_story",
    "terminal",
    "sync.client",
    "sync.protocol",
    "ui",
    "server_stub.api.app",
    "server_stub.db.migrate",
    "alembic",
    "cv2",
    "cryptography.x509",
    "fastapi",
    "http_message_signatures",
    "numpy",
    "platformdirs",
    "pydantic",
    "pydantic_settings",
    "PySide6.QtGui",
    "PySide6.QtPrintSupport",
    "PySide6.QtWidgets",
    "qrcode",
    "requests",
    "requests_http_signature",
    "smartcard.scard",
    "sqlalchemy",
    "sqlite_utils",
    "uvicorn",
    "zxingcpp",
)


def check_imports() -> str:
    """Every required module and every CLI group imports."""
    names = [*REQUIRED_MODULES, *(module for module, _help in GROUPS.values())]
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as error:
            failed.append(f"{name}: {type(error).__name__}: {error}")
    if failed:
        raise RuntimeError("; ".join(failed))
    return f"{len(names)} modules"


def check_version() -> str:
    """The package metadata travelled with the app (else the version reads 0.0.0)."""
    if __version__ == "0.0.0":
        raise RuntimeError("package metadata of mykey-terminal is missing (version 0.0.0)")
    return __version__


def check_timezone() -> str:
    """Asia/Tokyo resolves (Windows has no system tz database: the tzdata package must ship)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    offset = datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo")).utcoffset()
    if offset is None or offset.total_seconds() != 9 * 3600:
        raise RuntimeError(f"Asia/Tokyo offset is {offset}")
    return "Asia/Tokyo UTC+09:00"


def check_sqlite_wal() -> str:
    """SQLite in WAL mode with synchronous=FULL: write, close, reopen, read."""
    with tempfile.TemporaryDirectory(prefix="mykey-selftest-") as folder:
        path = Path(folder) / "selftest.db"
        first = sqlite3.connect(path)
        try:
            mode = first.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            first.execute("PRAGMA synchronous=FULL")
            synchronous = first.execute("PRAGMA synchronous").fetchone()[0]
            with first:
                first.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
                first.execute("INSERT INTO t (v) VALUES (?)", ("ポイント",))
        finally:
            first.close()
        if mode != "wal" or synchronous != 2:  # 2 = FULL
            raise RuntimeError(f"journal_mode={mode}, synchronous={synchronous}")
        second = sqlite3.connect(path)
        try:
            rows = second.execute("SELECT v FROM t").fetchall()
            reopened_mode = second.execute("PRAGMA journal_mode").fetchone()[0]
        finally:
            second.close()
        if rows != [("ポイント",)] or reopened_mode != "wal":
            raise RuntimeError(f"read back {rows!r} in mode {reopened_mode}")
    return f"SQLite {sqlite3.sqlite_version}, WAL, synchronous=FULL"


def check_ed25519() -> str:
    """Ed25519 sign and verify; a changed message is refused."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    signature = key.sign(b"mykey selftest")
    key.public_key().verify(signature, b"mykey selftest")
    try:
        key.public_key().verify(signature, b"mykey selftesT")
    except InvalidSignature:
        return "sign, verify, tamper refused"
    raise RuntimeError("a signature over another message verified")


def check_rsa() -> str:
    """RSA-2048 PKCS#1 v1.5 with SHA-256 (what a JPKI card signs) sign and verify."""
    import cryptography
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = b"mykey selftest"
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    key.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    try:
        key.public_key().verify(signature, message + b"!", padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return f"cryptography {cryptography.__version__}, RSA-2048 PKCS#1 v1.5 SHA-256"
    raise RuntimeError("a signature over another message verified")


def check_migrations() -> str:
    """The ledger's Alembic migrations are found and run on a fresh SQLite file."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    from server_stub.db.engine import make_engine
    from server_stub.db.migrate import alembic_config, migrate

    with tempfile.TemporaryDirectory(prefix="mykey-selftest-") as folder:
        url = f"sqlite:///{Path(folder) / 'ledger.db'}"
        heads = ScriptDirectory.from_config(alembic_config(url)).get_heads()
        migrate(url)
        engine = make_engine(url)
        try:
            tables = inspect(engine).get_table_names()
        finally:
            engine.dispose()
    if "alembic_version" not in tables or len(tables) < 2:
        raise RuntimeError(f"tables after migrating: {tables}")
    return f"head {','.join(heads)}, {len(tables)} tables"


def check_pcsc() -> str:
    """A PC/SC context through pyscard; no reader or no PC/SC service is a state, not a failure.

    Only a library that cannot be loaded fails (ImportError/OSError propagate).
    """
    from cardio.errors import CardError, NoReaderError
    from cardio.transport import list_readers

    try:
        readers = list_readers()
    except NoReaderError as error:
        return f"no PC/SC service or no reader ({error})"
    except CardError as error:
        return f"PC/SC answered with an error ({error})"
    if not readers:
        return "PC/SC context established; no reader connected"
    return f"PC/SC context established; readers: {', '.join(readers)}"


def _qt_app() -> Any:
    """The QApplication (made offscreen when there is no display to use)."""
    if sys.platform != "win32" and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([sys.argv[0]])


def check_japanese_font() -> str:
    """The bundled Japanese font registers with Qt and covers the voucher's characters."""
    from PySide6.QtGui import QFont, QFontMetrics

    from ui.fonts import register_fonts

    _qt_app()
    family = register_fonts()
    metrics = QFontMetrics(QFont(family, 12))
    missing = [c for c in "ポイント券発行認印利用店舗" if not metrics.inFontUcs4(ord(c))]
    if missing:
        raise RuntimeError(f"{family} lacks {''.join(missing)}")
    return family


#: Where the main window check saves what it rendered (for a person to look at), when set.
SCREENSHOT_ENV = "MYKEY_SELFTEST_SCREENSHOT"


def check_main_window() -> str:
    """The terminal's main window renders offscreen (as before enrollment: 設定 only); saved as
    PNG to ``$MYKEY_SELFTEST_SCREENSHOT`` when that is set."""
    from ui.app import make_app
    from ui.context import AppServices
    from ui.main_window import MainWindow
    from ui.prefs import Prefs

    _qt_app()
    make_app(Prefs())

    from mykey.app_context import pcsc_session

    window = MainWindow(AppServices(None, None, pcsc_session), Prefs())
    window.resize(1280, 800)
    image = window.grab().toImage()
    window.close()
    if image.isNull() or image.width() < 100:
        raise RuntimeError("the window rendered nothing")
    screenshot = os.environ.get(SCREENSHOT_ENV)
    if screenshot and not image.save(screenshot):
        raise RuntimeError(f"could not save the screenshot to {screenshot}")
    return f"{image.width()}x{image.height()} rendered"


def check_qr_round_trip() -> str:
    """A signed voucher payload as a QR image, read back by the default decoder, verifies."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from terminal.scan.decoders import get_decoder
    from terminal.scan.synthetic import render_qr
    from terminal.vouchers.payload import VoucherData, decode_payload, encode_payload

    key = Ed25519PrivateKey.generate()
    data = VoucherData(
        number="1000010000013",
        program_id=1,
        points=500,
        valid_from=date(2026, 12, 1),
        valid_until=date(2026, 12, 3),
        issuer_terminal_id="TSELFTEST",
    )
    payload = encode_payload(data, key)
    decoder = get_decoder()
    texts = [code.text for code in decoder.decode(render_qr(payload))]
    if texts != [payload]:
        raise RuntimeError(f"decoded {texts!r}")
    signed = decode_payload(texts[0])
    key.public_key().verify(signed.signature, signed.body)
    return f"{decoder.name}: {len(payload)} characters, signature verified"


#: The checks, in order (name, function). Add a line here for each new check.
CHECKS: list[tuple[str, Check]] = [
    ("imports", check_imports),
    ("version", check_version),
    ("timezone", check_timezone),
    ("sqlite_wal", check_sqlite_wal),
    ("ed25519", check_ed25519),
    ("rsa", check_rsa),
    ("migrations", check_migrations),
    ("pcsc", check_pcsc),
    ("japanese_font", check_japanese_font),
    ("main_window", check_main_window),
    ("qr_round_trip", check_qr_round_trip),
]


def run_checks(checks: Sequence[tuple[str, Check]]) -> dict[str, dict[str, Any]]:
    """Run every check (a failing one does not stop the others); name -> {"ok", "detail"}."""
    results: dict[str, dict[str, Any]] = {}
    for name, check in checks:
        try:
            results[name] = {"ok": True, "detail": check()}
        except Exception as error:
            log.debug("selftest check %s failed", name, exc_info=True)
            results[name] = {"ok": False, "detail": f"{type(error).__name__}: {error}"}
    return results


def report(checks: Sequence[tuple[str, Check]] = CHECKS) -> dict[str, Any]:
    """The self-test report as a JSON-ready dict."""
    results = run_checks(checks)
    return {
        "ok": all(result["ok"] for result in results.values()),
        "version": __version__,
        "frozen": bool(getattr(sys, "frozen", False)),
        "checks": results,
    }


def main(out: IO[str] | None = None, checks: Sequence[tuple[str, Check]] = CHECKS) -> int:
    """Write the report as one JSON line to ``out`` (stdout); 0 only if every check passed."""
    result = report(checks)
    stream = sys.stdout if out is None else out
    if stream is not None:  # a windowed Windows exe may have no stdout at all
        stream.write(json.dumps(result) + "\n")
        stream.flush()
    return 0 if result["ok"] else 1
