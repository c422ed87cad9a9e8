"""The decoder backends: each reads a real QR PNG, and none lets anything but DecoderError out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from terminal.scan import decoders
from terminal.scan.decoders import (
    BACKENDS,
    DecodedCode,
    DecoderError,
    OpencvDecoder,
    ZbarDecoder,
    decode_file,
    get_decoder,
)
from terminal.scan.errors import DecoderUnavailableError, ImageUnreadableError
from terminal.scan.synthetic import render_qr
from tests.scan.support import payloads, write_qr_png


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_backend_reads_a_voucher_qr_png(backend: str, tmp_path: Path) -> None:
    text = payloads(1)[0]
    png = write_qr_png(tmp_path / "voucher.png", text)
    codes = decode_file(png, backend)
    assert [c.text for c in codes] == [text]
    # the corners frame the code: 4 points inside the image, spanning most of it
    corners = np.array(codes[0].corners)
    assert corners.shape == (4, 2)
    side = render_qr(text, 6).shape[0]
    assert corners.min() >= 0 and corners.max() <= side
    assert np.ptp(corners[:, 0]) > side * 0.7


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_backend_reads_colour_and_grayscale_arrays(backend: str) -> None:
    text = payloads(2)[1]
    gray = render_qr(text, 4)
    bgr = np.repeat(gray[:, :, None], 3, axis=2)
    bgra = np.concatenate([bgr, np.full_like(gray, 255)[:, :, None]], axis=2)
    decoder = get_decoder(backend)
    for image in (gray, bgr, bgra, np.pad(bgr, ((10, 10), (30, 30), (0, 0)), constant_values=255)):
        assert [c.text for c in decoder.decode(image)] == [text]


def test_opencv_uses_the_aruco_detector_when_this_opencv_has_it() -> None:
    import cv2

    expected = "aruco" if hasattr(cv2, "QRCodeDetectorAruco") else "classic"
    assert OpencvDecoder().describe() == expected


def test_an_unknown_backend_is_a_typed_error() -> None:
    with pytest.raises(DecoderUnavailableError) as caught:
        get_decoder("zxing-gpu")
    assert caught.value.code == "decoder-unavailable"
    assert "zxing" in caught.value.reason


def test_a_backend_missing_its_library_is_reported_not_fatal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pyzbar without libzbar raises ImportError on import: available() says so, get_decoder
    raises the typed error, and the other backends keep working."""

    class BrokenZbar(ZbarDecoder):
        module_name = "terminal.scan.no_such_native_library"

    ok, reason = BrokenZbar().available()
    assert not ok and "ModuleNotFoundError" in reason
    monkeypatch.setitem(decoders._FACTORIES, "zbar", BrokenZbar)
    decoders.backend_status.cache_clear()
    try:
        with pytest.raises(DecoderUnavailableError) as caught:
            get_decoder("zbar")
        assert caught.value.backend == "zbar"
        assert caught.value.user_lines()[0].startswith("指定された")
        assert get_decoder("zxing").decode(render_qr("PV1:OK", 4))[0].text == "PV1:OK"
    finally:
        decoders.backend_status.cache_clear()


def test_a_missing_or_corrupt_image_file_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ImageUnreadableError):
        decode_file(tmp_path / "missing.png")
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(ImageUnreadableError):
        decode_file(garbage)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageUnreadableError):
        decode_file(empty)


def test_an_image_without_a_code_gives_an_empty_list() -> None:
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 256, size=(240, 320, 3), dtype=np.uint8)
    for backend in BACKENDS:
        assert get_decoder(backend).decode(noise) == []


def _decode_or_typed_error(backend: str, image: object) -> None:
    decoder = get_decoder(backend)
    try:
        found = decoder.decode(image)  # type: ignore[arg-type]
    except DecoderError:
        return
    assert isinstance(found, list)
    assert all(isinstance(c, DecodedCode) and isinstance(c.text, str) for c in found)


_shapes = st.one_of(
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=48),
    st.tuples(st.integers(0, 40), st.integers(0, 40), st.sampled_from([1, 2, 3, 4, 5])),
    hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6),
)
_dtypes = st.sampled_from([np.uint8, np.uint8, np.uint8, np.uint16, np.float32, np.int8, bool])


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_arrays_give_codes_or_decoder_error(backend: str, data: st.DataObject) -> None:
    dtype = data.draw(_dtypes)
    image = data.draw(hnp.arrays(dtype=dtype, shape=_shapes))
    _decode_or_typed_error(backend, image)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=25, deadline=None)
@given(
    garbage=st.one_of(st.none(), st.integers(), st.text(max_size=8), st.binary(max_size=64)),
    noisy=st.integers(0, 2**32 - 1),
)
def test_non_arrays_and_damaged_codes_never_raise_anything_else(
    backend: str, garbage: object, noisy: int
) -> None:
    _decode_or_typed_error(backend, garbage)
    # a real code with random modules flipped: decoded (maybe) or nothing, never a crash
    rng = np.random.default_rng(noisy)
    qr = render_qr("PV1:" + "A" * 60, 3).copy()
    flips = rng.random(qr.shape) < 0.08
    qr[flips] = 255 - qr[flips]
    _decode_or_typed_error(backend, qr)
    strided = np.repeat(qr[:, :, None], 3, axis=2)[::2, ::-1]  # non-contiguous view
    _decode_or_typed_error(backend, strided)
