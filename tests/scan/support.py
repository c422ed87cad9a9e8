"""Test material for scanning: voucher-shaped payloads, QR PNG files, a synthetic webcam video."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from terminal.scan.synthetic import Shot, render_qr, voucher_frame, voucher_like_payload

FPS = 20


def payloads(count: int, seed: int = 5) -> list[str]:
    """``count`` different voucher-like payloads ("PV1:" + 140 Base45-alphabet characters)."""
    rng = np.random.default_rng(seed)
    return [voucher_like_payload(rng, 140) for _ in range(count)]


def write_qr_png(path: Path, text: str, module_px: int = 6) -> Path:
    """A QR PNG of ``text`` (qrcode library, level M) written to ``path``."""
    if not cv2.imwrite(str(path), render_qr(text, module_px, ec="M")):
        raise OSError(f"could not write {path}")
    return path


def hand_held_shot(rng: np.random.Generator, size: tuple[int, int] = (640, 480)) -> Shot:
    """A webcam frame of a voucher held in a hand: tilted, a little blurred, glare, noise."""
    return Shot(
        size=size,
        code_frac=float(rng.uniform(0.42, 0.5)),
        rotation_deg=float(rng.uniform(-12, 12)),
        tilt=0.08,
        blur_sigma=float(rng.uniform(0.6, 1.1)),
        motion_px=float(rng.uniform(0, 3)),
        motion_deg=float(rng.uniform(0, 180)),
        light=float(rng.uniform(0.7, 1.0)),
        glare=float(rng.uniform(90, 140)),
        noise_sigma=5.0,
        jpeg_quality=80,
    )


def write_voucher_video(
    path: Path, texts: list[str], *, seconds_each: float = 1.0, gap_frames: int = 4, seed: int = 9
) -> int:
    """An MJPG .avi at ``FPS`` showing each text's voucher for ``seconds_each``, with empty desk
    frames in between; returns the number of frames written."""
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (640, 480))
    if not writer.isOpened():
        raise OSError(f"could not open a video writer for {path}")
    written = 0
    empty = Shot(code_frac=0.0001, light=0.9)  # the card is a speck: an empty desk
    try:
        for text in texts:
            for _ in range(gap_frames):
                writer.write(voucher_frame("PV1:", empty, rng))
                written += 1
            for _ in range(round(seconds_each * FPS)):
                writer.write(voucher_frame(text, hand_held_shot(rng), rng))
                written += 1
        for _ in range(gap_frames):
            writer.write(voucher_frame("PV1:", empty, rng))
            written += 1
    finally:
        writer.release()
    return written
