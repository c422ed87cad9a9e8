"""Helpers for the printing tests: real voucher faces, PDF rasterising and QR decoding."""

from __future__ import annotations

import subprocess
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyzbar import pyzbar  # type: ignore[import-untyped]

from terminal.vouchers import VoucherData, VoucherFace, encode_payload
from terminal.vouchers.layout import TITLE, usable_at_text
from terminal.vouchers.numbers import voucher_number

ROOT = Path(__file__).resolve().parents[2]
#: rendered vouchers are kept here for people to look at
SHOTS = ROOT / "build" / "screenshots" / "vouchers"
RASTER_DPI = 300
PREFIX = 271828
VALID_FROM = date(2026, 11, 24)
VALID_UNTIL = date(2026, 12, 31)


def make_face(
    key: Ed25519PrivateKey, sequence: int, points: int, *, reissue: bool = False
) -> VoucherFace:
    """A face as the issuing service makes it: a real number and a signed payload."""
    number = voucher_number(PREFIX, sequence)
    data = VoucherData(
        number=number,
        program_id=7,
        points=points,
        valid_from=VALID_FROM,
        valid_until=VALID_UNTIL,
        issuer_terminal_id="T-OFFICE-0001",
        issuer_street_id="B-MOTOSUMIYOSHI",
    )
    return VoucherFace(
        title=TITLE,
        program_name="川崎市ポイント",
        points=points,
        valid_from=VALID_FROM,
        valid_until=VALID_UNTIL,
        issued_on=VALID_FROM,
        number=number,
        usable_at=usable_at_text("元住吉商店街"),
        payload=encode_payload(data, key),
        reissue=reissue,
    )


def rasterise(pdf: Path, stem: str) -> list[Path]:
    """``pdftoppm -r 300 -png`` into build/screenshots/vouchers/; the page PNGs in order."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob(f"{stem}-*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-r", str(RASTER_DPI), "-png", str(pdf), str(SHOTS / stem)],
        check=True,
        timeout=60,
    )
    return sorted(SHOTS.glob(f"{stem}-*.png"))


@dataclass(frozen=True)
class Found:
    """One decoded QR code: its text and its side in millimetres on paper."""

    text: str
    side_mm: float


def decode_zxing(png: Path) -> list[Found]:
    """Every QR code zxing-cpp finds on the page."""
    image = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    assert image is not None, png
    found = []
    for code in zxingcpp.read_barcodes(image):
        assert code.format == zxingcpp.BarcodeFormat.QRCode, code.format
        corner_a, corner_b = code.position.top_left, code.position.top_right
        side_px = float(np.hypot(corner_b.x - corner_a.x, corner_b.y - corner_a.y))
        found.append(Found(code.text, side_px / RASTER_DPI * 25.4))
    return found


def decode_zbar(png: Path) -> list[str]:
    """Every QR code pyzbar finds on the page."""
    image = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    assert image is not None, png
    return [
        symbol.data.decode("ascii")
        for symbol in pyzbar.decode(image, symbols=[pyzbar.ZBarSymbol.QRCODE])
    ]


def pdf_text(pdf: Path) -> str:
    """The PDF's text (pdftotext), NFKC-normalised: Qt's PDF maps a few kanji shared with
    Kangxi radicals (月, 日, 行, 用) to the radical code points, which NFKC folds back."""
    out = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, timeout=60
    ).stdout.decode("utf-8")
    return unicodedata.normalize("NFKC", out)


def pdf_fonts(pdf: Path) -> list[tuple[str, bool]]:
    """(font name, embedded?) for every font ``pdffonts`` lists."""
    out = subprocess.run(
        ["pdffonts", str(pdf)], check=True, capture_output=True, timeout=60
    ).stdout.decode("utf-8")
    rows = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        # name type [type…] encoding emb sub uni object ID: emb is the 5th field from the end
        rows.append((parts[0], parts[-5] == "yes"))
    return rows


def page_size_mm(pdf: Path) -> tuple[float, float]:
    """The first page's size in millimetres (``pdfinfo``)."""
    out = subprocess.run(
        ["pdfinfo", str(pdf)], check=True, capture_output=True, timeout=60
    ).stdout.decode("utf-8")
    for line in out.splitlines():
        if line.startswith("Page size:"):
            fields = line.split()
            return float(fields[2]) * 25.4 / 72, float(fields[4]) * 25.4 / 72
    raise AssertionError(f"no page size in pdfinfo output: {out}")
