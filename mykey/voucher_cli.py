"""`mykey voucher …`: vouchers without a window, for support staff and tests.

``mykey voucher decode [--backend zxing|zbar|opencv] [--data DIR] [--date YYYY-MM-DD] IMAGE…``
prints one JSON line per image: the voucher (number, program, points, dates, issuer) and, when
the terminal's data folder holds an identity and synced keys, its verification state (checked as
the counter would, offline: signature, street, JST dates, redemptions); or the typed error
(code, Japanese and English message). Exit code 0 only when every image held a voucher that was
not refused.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from terminal.config import TerminalIdentity, TerminalPaths, load_identity
from terminal.errors import TerminalError
from terminal.scan.decoders import BACKENDS, DEFAULT_BACKEND, DecodedCode, decode_file
from terminal.services.point_use import JST
from terminal.services.vouchers import verify_scanned
from terminal.store import TerminalStore
from terminal.vouchers.payload import PAYLOAD_PREFIX, decode_payload

log = logging.getLogger(__name__)


def _emit(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def _error(error: TerminalError) -> dict[str, Any]:
    return {"code": error.code, "message_ja": error.message_ja, "message_en": error.message_en}


@contextmanager
def _verifier(paths: TerminalPaths) -> Iterator[tuple[TerminalStore, TerminalIdentity] | None]:
    """The terminal's store and identity when the data folder has them (never creates files)."""
    if not paths.database.exists():
        yield None
        return
    try:
        identity = load_identity(paths)
        store = TerminalStore.open(paths.database)
    except TerminalError as error:
        log.warning("cannot verify with %s: %s", paths.root, error)
        yield None
        return
    try:
        yield store, identity
    finally:
        store.close()


def _pick(codes: list[DecodedCode]) -> DecodedCode:
    """The first code that looks like a voucher, else the first code."""
    return next((c for c in codes if c.text.strip().startswith(PAYLOAD_PREFIX)), codes[0])


def describe_image(
    path: Path,
    backend: str,
    verifier: tuple[TerminalStore, TerminalIdentity] | None,
    today: date,
) -> dict[str, Any]:
    """The JSON line of one image (never raises a TerminalError)."""
    line: dict[str, Any] = {"image": str(path), "backend": backend}
    try:
        codes = decode_file(path, backend)
    except TerminalError as error:
        return line | {"ok": False} | _error(error)
    line["codes_found"] = len(codes)
    if not codes:
        return line | {
            "ok": False,
            "code": "no-code-found",
            "message_ja": "画像にQRコードが見つかりませんでした。",
            "message_en": "No QR code was found in the image.",
        }
    text = _pick(codes).text
    try:
        data = decode_payload(text).data
    except TerminalError as error:
        return line | {"ok": False} | _error(error)
    line["voucher"] = {
        "number": data.number,
        "program_id": data.program_id,
        "points": data.points,
        "valid_from": data.valid_from.isoformat(),
        "valid_until": data.valid_until.isoformat(),
        "issuer_terminal_id": data.issuer_terminal_id,
        "issuer_street_id": data.issuer_street_id or None,
    }
    if verifier is None:
        line["verification"] = {"state": "not-checked", "on": today.isoformat()}
        return line | {"ok": True}
    store, identity = verifier
    try:
        verified = verify_scanned(store, identity, text, today=today)
    except TerminalError as error:
        line["verification"] = {"state": "refused", "on": today.isoformat()} | _error(error)
        return line | {"ok": False}
    line["verification"] = {
        "state": "verified",
        "on": today.isoformat(),
        "issuer_business_id": verified.issuer_business_id,
    }
    return line | {"ok": True}


def cmd_decode(args: argparse.Namespace) -> int:
    """Decode (and verify when possible) each image; one JSON line each."""
    today = args.date or datetime.now(JST).date()
    all_ok = True
    with _verifier(TerminalPaths.at(args.data)) as verifier:
        for image in args.images:
            line = describe_image(image, args.backend, verifier, today)
            all_ok = all_ok and bool(line["ok"])
            _emit(line)
    return 0 if all_ok else 1


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``voucher`` subcommands."""
    commands = parser.add_subparsers(dest="command", required=True)
    sub = commands.add_parser(
        "decode",
        help="decode and verify voucher QR codes in image files (one JSON line per image)",
        description="decode and verify voucher QR codes in image files (one JSON line per image)",
    )
    sub.add_argument("--backend", choices=BACKENDS, default=DEFAULT_BACKEND, help="QR decoder")
    sub.add_argument("--data", type=Path, help="terminal data folder (default: user data dir)")
    sub.add_argument(
        "--date", type=date.fromisoformat, help="check validity on this JST date (default: today)"
    )
    sub.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    sub.set_defaults(func=cmd_decode)
