"""`mykey voucher decode`: a PNG of a voucher QR code gives one JSON line per image, verified
with the terminal's synced keys when its data folder is given."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import qrcode
from sqlalchemy import Engine

from cardio.virtual.profile import CardProfile
from mykey.cli import main
from terminal.scan.decoders import BACKENDS
from terminal.vouchers.payload import encode_payload
from tests.ledger.conftest import World, resident
from tests.vouchers.conftest import MakeDesk
from tests.vouchers.test_codec import KEY, TYPICAL
from tests.vouchers.test_services import _issue


def render_png(text: str, path: Path, module_px: int = 6) -> Path:
    """The QR code of ``text`` (level M) as a black-on-white PNG with its quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(text)
    code.make(fit=True)
    dark = np.array(code.get_matrix(), dtype=bool)
    image = np.where(dark, 0, 255).astype(np.uint8)
    image = np.kron(image, np.ones((module_px, module_px), dtype=np.uint8))
    assert cv2.imwrite(str(path), image)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, object]]]:
    code = main(["voucher", "decode", *args])
    lines = capsys.readouterr().out.splitlines()
    return code, [json.loads(line) for line in lines]


@pytest.mark.parametrize("backend", BACKENDS)
def test_decode_without_a_terminal_shows_the_voucher_unchecked(
    backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = render_png(encode_payload(TYPICAL, KEY), tmp_path / "v.png")
    code, [line] = run(capsys, "--backend", backend, "--data", str(tmp_path / "none"), str(png))
    assert code == 0 and line["ok"] is True
    assert line["voucher"] == {
        "number": TYPICAL.number,
        "program_id": 1,
        "points": 2420,
        "valid_from": "2026-12-15",
        "valid_until": "2026-12-17",
        "issuer_terminal_id": TYPICAL.issuer_terminal_id,
        "issuer_street_id": "S0001",
    }
    assert line["verification"] == {"state": "not-checked", "on": line["verification"]["on"]}  # type: ignore[index]
    assert not (tmp_path / "none").exists()  # looking did not create a data folder


def test_decode_verifies_with_the_terminals_keys_and_reports_typed_errors(
    make_desk: MakeDesk,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    session_for,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    office = make_desk("S0001", ["office", "shop"])
    office.sync()
    resident(engine, world, cards[0], "VCLI0001", 1000)
    face = _issue(office, session_for(cards[0]), world, [700]).faces[0]
    data = tmp_path / "shop-data"
    shop = make_desk("A0001", ["shop"], data_dir=data)
    shop.sync()

    good = render_png(face.payload, tmp_path / "good.png")
    forged = render_png(encode_payload(TYPICAL, KEY), tmp_path / "forged.png")
    other = render_png("https://example.jp/not-a-voucher", tmp_path / "other.png")
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((64, 64), 255, dtype=np.uint8))
    code, lines = run(capsys, "--data", str(data), *(str(p) for p in (good, forged, other, blank)))
    assert code == 1 and len(lines) == 4
    ok, unknown, malformed, empty = lines
    assert ok["ok"] is True and ok["voucher"]["number"] == face.number  # type: ignore[index]
    assert ok["verification"]["state"] == "verified"  # type: ignore[index]
    assert ok["verification"]["issuer_business_id"] == "S0001"  # type: ignore[index]
    assert unknown["ok"] is False
    assert unknown["verification"]["code"] == "voucher-unknown-issuer"  # type: ignore[index]
    assert malformed["code"] == "voucher-malformed" and malformed["message_ja"]
    assert empty["code"] == "no-code-found" and empty["codes_found"] == 0

    code, [expired] = run(capsys, "--data", str(data), "--date", "2099-01-01", str(good))
    assert code == 1 and expired["verification"]["code"] == "voucher-expired"  # type: ignore[index]
