"""QR decoder backends behind one interface: zxing-cpp (default), pyzbar (zbar), OpenCV.

Each backend imports its library only when first used, so a missing library or native part (pyzbar
without libzbar, for example) shows up as ``available() == (False, reason)`` and as
``DecoderUnavailableError`` from ``get_decoder``, never as an import failure of this module. Every
call into a library is wrapped: ``decode`` raises nothing but ``DecoderError``.

Why zxing-cpp is the default: see ``bench/qr_decode.py`` (several times faster than pyzbar and
OpenCV, and it finds more codes in blurred, tilted and badly lit frames).
"""

from __future__ import annotations

import functools
import importlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import numpy as np

from terminal.scan._cv import load_cv2
from terminal.scan.errors import (
    DecoderError,
    DecoderUnavailableError,
    ImageUnreadableError,
)

log = logging.getLogger(__name__)

BACKENDS = ("zxing", "zbar", "opencv")
DEFAULT_BACKEND = "zxing"

Point = tuple[float, float]


@dataclass(frozen=True)
class DecodedCode:
    """One QR code found in an image: its text and its 4 corners in image pixels."""

    text: str
    corners: tuple[Point, ...]


class Decoder(Protocol):
    """A QR decoder backend."""

    name: str

    def available(self) -> tuple[bool, str]:
        """(usable here?, why not); never raises."""
        ...

    def decode(self, image: np.ndarray) -> list[DecodedCode]:
        """The QR codes in a BGR, BGRA or grayscale uint8 image; raises only DecoderError."""
        ...


def as_gray(image: object) -> np.ndarray:
    """A C-contiguous 2-D uint8 view of ``image`` (BGR/BGRA converted); DecoderError otherwise."""
    if not isinstance(image, np.ndarray):
        raise DecoderError(f"not an image array: {type(image).__name__}")
    if image.dtype != np.uint8:
        raise DecoderError(f"image must be uint8, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        gray = image
    elif image.ndim == 3 and image.shape[2] in (3, 4):
        gray = _bgr_to_gray(image)
    else:
        raise DecoderError(f"unsupported image shape {image.shape}")
    if gray.shape[0] < 1 or gray.shape[1] < 1:
        raise DecoderError(f"empty image {image.shape}")
    return np.ascontiguousarray(gray)


def _bgr_to_gray(image: np.ndarray) -> np.ndarray:
    """BT.601 luma of a BGR/BGRA image (OpenCV when present, numpy otherwise)."""
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise DecoderError(f"empty image {image.shape}")
    try:
        cv2: Any = load_cv2()
    except ImportError:
        bgr = image[:, :, :3].astype(np.uint16)
        luma = (bgr[:, :, 0] * 29 + bgr[:, :, 1] * 150 + bgr[:, :, 2] * 77 + 128) >> 8
        return luma.astype(np.uint8)
    code = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
    try:
        return np.asarray(cv2.cvtColor(np.ascontiguousarray(image), code))
    except Exception as error:
        raise DecoderError(f"colour conversion failed: {error}") from error


def _box_corners(points: Sequence[Sequence[float]]) -> tuple[Point, ...]:
    """4 corners from a polygon (itself when it has 4 points, else its bounding box)."""
    pts = [(float(p[0]), float(p[1])) for p in points]
    if len(pts) == 4:
        return tuple(pts)
    if not pts:
        return ()
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    return ((min(xs), min(ys)), (max(xs), min(ys)), (max(xs), max(ys)), (min(xs), max(ys)))


def _text(data: bytes) -> str:
    """Payload bytes as text: UTF-8 (our payloads are ASCII), undecodable bytes replaced."""
    return data.decode("utf-8", errors="replace")


class _Backend:
    """Shared plumbing: lazy import of the library, cached availability, wrapped calls."""

    name = "?"
    module_name = "?"

    def __init__(self) -> None:
        self._module: ModuleType | None = None
        self._lock = threading.Lock()

    def _load(self) -> ModuleType:
        if self._module is None:
            self._module = importlib.import_module(self.module_name)
        return self._module

    def available(self) -> tuple[bool, str]:
        """(usable here?, why not); never raises."""
        try:
            self._probe()
        except Exception as error:
            return False, f"{type(error).__name__}: {error}"
        return True, ""

    def _probe(self) -> None:
        """Import the library and decode a blank image once; raises when that fails."""
        self._load()
        self._decode(np.full((32, 32), 255, dtype=np.uint8))

    def decode(self, image: np.ndarray) -> list[DecodedCode]:
        """The QR codes in ``image``; raises only DecoderError."""
        gray = as_gray(image)
        try:
            return self._decode(gray)
        except DecoderError:
            raise
        except Exception as error:
            log.debug("%s failed on a %s image", self.name, gray.shape, exc_info=True)
            raise DecoderError(f"{self.name}: {type(error).__name__}: {error}") from error

    def _decode(self, gray: np.ndarray) -> list[DecodedCode]:
        raise NotImplementedError


class ZxingDecoder(_Backend):
    """zxing-cpp: fast and robust; releases the GIL and is thread-safe."""

    name = "zxing"
    module_name = "zxingcpp"

    def __init__(self, *, try_invert: bool = False) -> None:
        super().__init__()
        self.try_invert = try_invert

    def _decode(self, gray: np.ndarray) -> list[DecodedCode]:
        zx: Any = self._load()
        found = zx.read_barcodes(
            gray,
            formats=zx.BarcodeFormat.QRCode,
            try_rotate=True,
            try_downscale=True,
            try_invert=self.try_invert,
        )
        codes = []
        for barcode in found:
            if not barcode.valid:
                continue
            pos = barcode.position
            corners = tuple(
                (float(p.x), float(p.y))
                for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
            )
            codes.append(DecodedCode(text=str(barcode.text), corners=corners))
        return codes


class ZbarDecoder(_Backend):
    """pyzbar over libzbar (system library; unmaintained, kept as a comparison and fallback)."""

    name = "zbar"
    module_name = "pyzbar.pyzbar"

    def _decode(self, gray: np.ndarray) -> list[DecodedCode]:
        zbar: Any = self._load()
        h, w = gray.shape
        # (pixels, width, height): pyzbar's raw form, no PIL needed.
        found = zbar.decode((gray.tobytes(), w, h), symbols=[zbar.ZBarSymbol.QRCODE])
        return [
            DecodedCode(text=_text(bytes(sym.data)), corners=_box_corners(sym.polygon))
            for sym in found
        ]


class OpencvDecoder(_Backend):
    """OpenCV's QR detector: ``QRCodeDetectorAruco`` when this OpenCV has it, else the classic.

    The bytes API is used (``detectAndDecodeBytesMulti`` where present): the text API raises
    UnicodeDecodeError on non-UTF-8 payloads. A detector object is not thread-safe; calls on one
    decoder are serialised.
    """

    name = "opencv"
    module_name = "cv2"

    def __init__(self) -> None:
        super().__init__()
        self._detector: Any = None
        self.detector_kind = ""

    def _load(self) -> ModuleType:
        if self._module is None:
            self._module = load_cv2()
        return self._module

    def _get_detector(self) -> Any:
        if self._detector is None:
            cv2: Any = self._load()
            if hasattr(cv2, "QRCodeDetectorAruco"):
                self._detector, self.detector_kind = cv2.QRCodeDetectorAruco(), "aruco"
            else:
                self._detector, self.detector_kind = cv2.QRCodeDetector(), "classic"
        return self._detector

    def describe(self) -> str:
        """Which OpenCV detector is used (``aruco`` or ``classic``); loads it if needed."""
        try:
            self._get_detector()
        except Exception:
            return "unavailable"
        return self.detector_kind

    def _decode(self, gray: np.ndarray) -> list[DecodedCode]:
        with self._lock:
            detector = self._get_detector()
            if hasattr(detector, "detectAndDecodeBytesMulti"):
                ok, payloads, points, _ = detector.detectAndDecodeBytesMulti(gray)
                if not ok or points is None:
                    return []
                pairs = list(zip(payloads, points, strict=False))
            else:  # older OpenCV: text API, which may raise UnicodeDecodeError (wrapped)
                ok, texts, points, _ = detector.detectAndDecodeMulti(gray)
                if not ok or points is None:
                    return []
                pairs = [(t.encode("utf-8"), p) for t, p in zip(texts, points, strict=False)]
        return [
            DecodedCode(text=_text(bytes(data)), corners=_box_corners(np.asarray(pts).tolist()))
            for data, pts in pairs
            if len(data) > 0
        ]


_FACTORIES: dict[str, type[_Backend]] = {
    "zxing": ZxingDecoder,
    "zbar": ZbarDecoder,
    "opencv": OpencvDecoder,
}


@functools.cache
def backend_status(name: str) -> tuple[bool, str]:
    """(available?, reason) for a backend name, probed once per process."""
    factory = _FACTORIES.get(name)
    if factory is None:
        return False, f"unknown backend (one of {', '.join(BACKENDS)})"
    return factory().available()


def get_decoder(name: str = DEFAULT_BACKEND) -> Decoder:
    """A new decoder of backend ``name``; DecoderUnavailableError when it cannot run here."""
    ok, reason = backend_status(name)
    if not ok:
        raise DecoderUnavailableError(name, reason)
    return _FACTORIES[name]()


def read_image(path: Path) -> np.ndarray:
    """An image file as a BGR array (works with non-ASCII paths); ImageUnreadableError if not."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise ImageUnreadableError(f"{path}: {error.strerror or error}") from error
    try:
        image = load_cv2().imdecode(data, 1) if data.size else None  # 1 = IMREAD_COLOR
    except Exception as error:
        raise ImageUnreadableError(f"{path}: {error}") from error
    if image is None:
        raise ImageUnreadableError(f"{path}: not a readable image")
    return np.asarray(image)


def decode_file(path: Path, backend: str = DEFAULT_BACKEND) -> list[DecodedCode]:
    """The QR codes in an image file (DecoderUnavailableError, ImageUnreadableError, …)."""
    decoder = get_decoder(backend)
    return decoder.decode(read_image(path))
