"""Photo-like camera frames of a printed QR code, made from a real rendered QR (qrcode library).

For the tests, the benchmark and the demo: a voucher-sized white card with the QR and some text-like
bars, placed on a textured desk with a perspective warp, then the camera's faults on top (blur,
motion blur, low light, glare, sensor noise, JPEG). Everything is driven by a seeded
``numpy.random.Generator`` so a run is repeatable.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import qrcode  # type: ignore[import-untyped]
import qrcode.constants  # type: ignore[import-untyped]

from terminal.scan._cv import load_cv2

BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

_EC_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


def voucher_like_payload(rng: np.random.Generator, length: int = 140) -> str:
    """``PV1:`` + ``length`` random Base45-alphabet characters (the shape of a voucher payload)."""
    picks = rng.integers(0, len(BASE45_ALPHABET), size=length)
    return "PV1:" + "".join(BASE45_ALPHABET[int(i)] for i in picks)


@functools.lru_cache(maxsize=64)
def qr_modules(text: str, ec: str = "M", border: int = 4) -> np.ndarray:
    """The QR code of ``text`` as a boolean module matrix (True = dark), quiet zone included.

    Cached; the array is read-only.
    """
    qr = qrcode.QRCode(error_correction=_EC_LEVELS[ec], border=border)
    qr.add_data(text)
    qr.make(fit=True)
    modules = np.array(qr.get_matrix(), dtype=bool)
    modules.setflags(write=False)
    return modules


def render_qr(text: str, module_px: int = 8, ec: str = "M", border: int = 4) -> np.ndarray:
    """A clean grayscale QR image (uint8, black on white), ``module_px`` pixels per module."""
    modules = qr_modules(text, ec, border)
    image = np.where(modules, 0, 255).astype(np.uint8)
    return np.repeat(np.repeat(image, module_px, axis=0), module_px, axis=1)


@functools.lru_cache(maxsize=16)
def voucher_card(text: str, module_px: int = 6, ec: str = "M") -> np.ndarray:
    """A voucher-like card (grayscale): the QR on the right, text-like bars on the left.

    Cached; the array is read-only.
    """
    qr = render_qr(text, module_px, ec, border=2)
    side = qr.shape[0]
    height = int(side * 1.3)
    width = int(side * 2.4)
    card = np.full((height, width), 245, dtype=np.uint8)
    top = (height - side) // 2
    card[top : top + side, width - side - module_px * 2 : width - module_px * 2] = qr
    # Text-like lines: title, big points, dates, number (dark bars of varying lengths).
    rows = [(0.10, 0.06, 0.75), (0.25, 0.14, 0.5), (0.50, 0.05, 0.7), (0.62, 0.05, 0.7)]
    rows += [(0.80, 0.04, 0.6)]
    text_right = width - side - module_px * 4
    for y, h, w in rows:
        y0, y1 = int(y * height), int((y + h) * height)
        card[y0:y1, module_px * 3 : int(module_px * 3 + w * (text_right - module_px * 3))] = 60
    card.setflags(write=False)
    return card


@dataclass(frozen=True)
class Shot:
    """How one frame is taken. Sizes are fractions of the frame height; blur lengths in pixels."""

    size: tuple[int, int] = (640, 480)
    #: the QR's side as a fraction of the frame height
    code_frac: float = 0.4
    rotation_deg: float = 0.0
    #: corner jitter of the card as a fraction of its size (0 = square on, 0.15 = strongly tilted)
    tilt: float = 0.04
    blur_sigma: float = 0.0
    motion_px: float = 0.0
    motion_deg: float = 0.0
    #: overall brightness (1 = well lit, 0.2 = dim room)
    light: float = 1.0
    #: peak of the glare blob added on the code (0 = none, 255 = saturating)
    glare: float = 0.0
    noise_sigma: float = 2.0
    jpeg_quality: int = 90


def _desk(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A textured, unevenly lit desk background (grayscale float32)."""
    cv2: Any = load_cv2()
    small = rng.uniform(70, 150, size=(6, 8)).astype(np.float32)
    base = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    grain = rng.normal(0, 6, size=(height // 4 + 1, width // 4 + 1)).astype(np.float32)
    grain = cv2.resize(grain, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.asarray(base + grain)


def photograph(
    card: np.ndarray, qr_side_on_card: int, shot: Shot, rng: np.random.Generator
) -> np.ndarray:
    """A BGR uint8 camera frame of ``card`` taken as ``shot`` says.

    The scene is built in grayscale (decoders read luma) and tinted at the end; the sensor noise is
    per colour channel.
    """
    cv2: Any = load_cv2()
    width, height = shot.size
    frame = _desk(rng, width, height)
    ch, cw = card.shape[:2]
    scale = shot.code_frac * height / qr_side_on_card
    half_w, half_h = cw * scale / 2, ch * scale / 2
    # Keep the QR (right part of the card) near the frame centre.
    centre = np.array([width / 2, height / 2]) + rng.uniform(-0.08, 0.08, size=2) * height
    angle = np.deg2rad(shot.rotation_deg)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = np.array([[-half_w, -half_h], [half_w, -half_h], [half_w, half_h], [-half_w, half_h]])
    corners -= np.array([half_w * 0.45, 0.0])
    corners += rng.uniform(-1, 1, size=(4, 2)) * shot.tilt * np.array([half_w, half_h]) * 2
    dst = (corners @ rot.T + centre).astype(np.float32)
    src = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    paper = cv2.warpPerspective(
        card.astype(np.float32), matrix, (width, height), flags=cv2.INTER_AREA, borderValue=0
    )
    alpha = cv2.warpPerspective(
        np.ones(card.shape, np.float32), matrix, (width, height), flags=cv2.INTER_LINEAR
    )
    frame = frame + alpha * (paper - frame)
    # Shading across the frame (lamp on one side) and the overall light level.
    xs = np.linspace(0, 1, width, dtype=np.float32)
    shade = (0.85 + 0.15 * (xs if rng.random() < 0.5 else xs[::-1])) * np.float32(shot.light)
    frame *= shade[None, :]
    if shot.glare > 0:  # a specular highlight on or near the code
        qr_xy = np.array([[[cw - qr_side_on_card / 2, ch / 2]]], dtype=np.float32)
        qr_centre = cv2.perspectiveTransform(qr_xy, matrix)[0, 0]
        side = shot.code_frac * height
        spot = qr_centre + rng.uniform(-0.2, 0.2, size=2) * side
        radius = side * rng.uniform(0.18, 0.28)
        xs2 = ((np.arange(width, dtype=np.float32) - spot[0]) / radius) ** 2
        ys2 = ((np.arange(height, dtype=np.float32) - spot[1]) / radius) ** 2
        frame += np.float32(shot.glare) * np.exp(-(ys2[:, None] + xs2[None, :]) / 2)
    if shot.blur_sigma > 0:
        frame = cv2.GaussianBlur(frame, (0, 0), shot.blur_sigma)
    if shot.motion_px >= 1:
        frame = _motion_blur(frame, shot.motion_px, shot.motion_deg)
    tint = np.array([0.96, 1.0, 1.03], dtype=np.float32)  # warm indoor light (B, G, R)
    colour = frame[:, :, None] * tint
    if shot.noise_sigma > 0:
        colour += rng.standard_normal(colour.shape, dtype=np.float32) * np.float32(shot.noise_sigma)
    out = np.clip(colour, 0, 255).astype(np.uint8)
    if shot.jpeg_quality < 100:
        ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(shot.jpeg_quality)])
        if ok:
            out = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return np.asarray(out)


def _motion_blur(frame: np.ndarray, length: float, angle_deg: float) -> np.ndarray:
    """Linear motion blur of ``length`` pixels in direction ``angle_deg``."""
    cv2: Any = load_cv2()
    size = int(np.ceil(length)) | 1
    kernel = np.zeros((size, size), dtype=np.float32)
    kernel[size // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), angle_deg, 1.0)
    kernel = cv2.warpAffine(kernel, rot, (size, size))
    kernel /= max(float(kernel.sum()), 1e-6)
    return np.asarray(cv2.filter2D(frame, -1, kernel))


def voucher_frame(
    text: str, shot: Shot, rng: np.random.Generator, module_px: int = 6
) -> np.ndarray:
    """One photo-like frame (BGR) of a voucher card carrying ``text``."""
    card = voucher_card(text, module_px)
    side = qr_modules(text, border=2).shape[0] * module_px
    return photograph(card, side, shot, rng)
