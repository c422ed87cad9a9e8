"""Print → PDF → pdftoppm PNG (300 dpi) → decode: the A4 sheet and the 58/80 mm receipts.

The rendered pages stay in build/screenshots/vouchers/ for people to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PySide6.QtWidgets import QApplication

from terminal.vouchers import VoucherFace, a4_sheet, decode_payload, receipt
from terminal.vouchers.layout import PaperLayout
from tests.printing.support import (
    decode_zbar,
    decode_zxing,
    make_face,
    page_size_mm,
    pdf_fonts,
    pdf_text,
    rasterise,
)
from ui.printing.errors import NothingToPrintError
from ui.printing.voucher_painter import write_pdf

pytestmark = pytest.mark.gui

A4_POINTS = [500, 500, 500, 500, 2420, 12000, 50, 99999, 1000]
A4_REISSUED = 4  # index of the one reprint on the sheet


@dataclass(frozen=True)
class Printed:
    """One PDF written by the renderer and its rasterised pages."""

    layout: PaperLayout
    faces: list[VoucherFace]
    pdf: Path
    pages: list[Path]


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def printed(
    qapp: QApplication, key: Ed25519PrivateKey, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Printed]]:
    """Every PDF the tests look at, written and rasterised once."""
    folder = tmp_path_factory.mktemp("vouchers")
    jobs: dict[str, tuple[PaperLayout, list[VoucherFace]]] = {
        "a4": (
            a4_sheet(),
            [make_face(key, i + 1, p, reissue=i == A4_REISSUED) for i, p in enumerate(A4_POINTS)],
        ),
        "receipt-58": (receipt(58), [make_face(key, 101, 2420)]),
        "receipt-58-reissue": (receipt(58), [make_face(key, 102, 2420, reissue=True)]),
        "receipt-80": (receipt(80), [make_face(key, 103, 12000)]),
        "receipt-80-reissue": (receipt(80), [make_face(key, 104, 500, reissue=True)]),
    }
    out = {}
    for name, (layout, faces) in jobs.items():
        pdf = write_pdf(faces, layout, folder / f"{name}.pdf")
        out[name] = Printed(layout, faces, pdf, rasterise(pdf, name))
    yield out


def test_a4_sheet_every_qr_decodes_to_the_payload_printed(printed: dict[str, Printed]) -> None:
    sheet = printed["a4"]
    per_page = sheet.layout.per_page
    assert len(sheet.pages) == 2  # 9 vouchers, 8 per sheet
    for page_no, png in enumerate(sheet.pages):
        expected = sorted(f.payload for f in sheet.faces[page_no * per_page :][:per_page])
        assert sorted(code.text for code in decode_zxing(png)) == expected
        assert sorted(decode_zbar(png)) == expected


@pytest.mark.parametrize(
    "name", ["receipt-58", "receipt-58-reissue", "receipt-80", "receipt-80-reissue"]
)
def test_receipt_qr_decodes_and_is_at_least_20_mm(printed: dict[str, Printed], name: str) -> None:
    job = printed[name]
    (png,) = job.pages
    (face,) = job.faces
    (found,) = decode_zxing(png)
    assert found.text == face.payload
    assert decode_zbar(png) == [face.payload]
    assert found.side_mm >= 20.0, f"QR only {found.side_mm:.1f} mm wide"
    voucher = decode_payload(found.text).data  # the same voucher comes back
    assert (voucher.number, voucher.points) == (face.number, face.points)


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("a4", (210.0, 297.0)),
        ("receipt-58", (58.0, receipt(58).page_mm[1])),
        ("receipt-80", (80.0, receipt(80).page_mm[1])),
    ],
)
def test_pdf_page_is_the_layouts_paper(
    printed: dict[str, Printed], name: str, size: tuple[float, float]
) -> None:
    width, height = page_size_mm(printed[name].pdf)
    assert width == pytest.approx(size[0], abs=0.5)
    assert height == pytest.approx(size[1], abs=0.5)


@pytest.mark.parametrize("name", ["a4", "receipt-58", "receipt-80"])
def test_the_japanese_font_is_embedded(printed: dict[str, Printed], name: str) -> None:
    fonts = pdf_fonts(printed[name].pdf)
    assert ("IPAexGothic", True) in fonts
    assert all(embedded for _, embedded in fonts), fonts


def test_numbers_points_dates_and_stamp_boxes_are_in_the_text(
    printed: dict[str, Printed],
) -> None:
    for name in ("a4", "receipt-58", "receipt-80"):
        job = printed[name]
        text = pdf_text(job.pdf)
        for face in job.faces:
            assert face.number in text
            assert f"{face.points:,}" in text
        for words in (
            "ポイント券",
            "川崎市ポイント",
            "2026年11月24日",
            "2026年12月31日",
            "発行日:2026/11/24",
            "発券番号:",
            "元住吉商店街",
            "発行認印",
            "利用店舗印",
        ):
            assert words in text, (name, words)


def test_reprints_are_marked_and_originals_are_not(printed: dict[str, Printed]) -> None:
    assert "再発行" in pdf_text(printed["receipt-58-reissue"].pdf)
    assert "再発行" in pdf_text(printed["receipt-80-reissue"].pdf)
    assert "再発行" not in pdf_text(printed["receipt-58"].pdf)
    assert "再発行" not in pdf_text(printed["receipt-80"].pdf)
    sheet = pdf_text(printed["a4"].pdf)
    assert sheet.count("再発行") == 1


def test_printing_nothing_is_refused(qapp: QApplication, tmp_path: Path) -> None:
    with pytest.raises(NothingToPrintError) as caught:
        write_pdf([], a4_sheet(), tmp_path / "empty.pdf")
    assert caught.value.user_lines()[0] == "印刷するポイント券がありません。"
    assert not (tmp_path / "empty.pdf").exists()
