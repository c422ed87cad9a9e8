"""Draw the MyKey terminal icon once, with the standard library only, and write it to assets/.

Usage: .venv/bin/python scripts/make_icon.py   (rewrites assets/mykey.ico and assets/mykey.png)

The design: a blue rounded square holding a white card with a gold chip and an orange point coin.
The .ico holds 16, 24, 32 and 48 px as classic 32-bit DIBs (what NSIS and old resource tools
read) and 256 px as PNG (what Windows Vista and later show in Explorer).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"

RGBA = tuple[int, int, int, int]
#: A shape: (x, y) in the unit square -> True when the point is inside.
Shape = Callable[[float, float], bool]

BLUE: RGBA = (31, 95, 168, 255)
WHITE: RGBA = (255, 255, 255, 255)
GOLD: RGBA = (222, 176, 60, 255)
ORANGE: RGBA = (240, 120, 40, 255)
CLEAR: RGBA = (0, 0, 0, 0)


def rounded_rect(x0: float, y0: float, x1: float, y1: float, radius: float) -> Shape:
    """A rectangle with round corners."""

    def inside(x: float, y: float) -> bool:
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            return False
        cx = min(max(x, x0 + radius), x1 - radius)
        cy = min(max(y, y0 + radius), y1 - radius)
        return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2

    return inside


def circle(cx: float, cy: float, radius: float) -> Shape:
    """A filled disc."""
    return lambda x, y: (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def ring(cx: float, cy: float, outer: float, inner: float) -> Shape:
    """A ring between two radii."""
    return lambda x, y: inner**2 <= (x - cx) ** 2 + (y - cy) ** 2 <= outer**2


#: Painted in order; later shapes cover earlier ones.
LAYERS: list[tuple[Shape, RGBA]] = [
    (rounded_rect(0.02, 0.02, 0.98, 0.98, 0.18), BLUE),
    (rounded_rect(0.12, 0.24, 0.80, 0.70, 0.06), WHITE),
    (rounded_rect(0.20, 0.36, 0.36, 0.50, 0.025), GOLD),
    (circle(0.72, 0.72, 0.20), ORANGE),
    (ring(0.72, 0.72, 0.14, 0.10), WHITE),
]


def render(size: int, samples: int = 4) -> bytes:
    """RGBA pixels, rows top to bottom, anti-aliased by ``samples``² supersampling."""
    out = bytearray()
    step = 1.0 / (size * samples)
    for row in range(size):
        for col in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(samples):
                for sx in range(samples):
                    x = (col * samples + sx + 0.5) * step
                    y = (row * samples + sy + 0.5) * step
                    colour = CLEAR
                    for shape, paint in LAYERS:
                        if shape(x, y):
                            colour = paint
                    alpha = colour[3]
                    acc[0] += colour[0] * alpha
                    acc[1] += colour[1] * alpha
                    acc[2] += colour[2] * alpha
                    acc[3] += alpha
            total_alpha = acc[3]
            if total_alpha == 0:
                out += bytes(4)
            else:
                out += bytes(
                    [
                        round(acc[0] / total_alpha),
                        round(acc[1] / total_alpha),
                        round(acc[2] / total_alpha),
                        round(total_alpha / samples**2),
                    ]
                )
    return bytes(out)


def png(size: int, rgba: bytes) -> bytes:
    """A PNG file (8-bit RGBA) of ``rgba``."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    stride = size * 4
    raw = b"".join(b"\x00" + rgba[r * stride : (r + 1) * stride] for r in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def dib(size: int, rgba: bytes) -> bytes:
    """An icon-image DIB: BITMAPINFOHEADER, BGRA rows bottom-up, then a 1-bit AND mask."""
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, 0, 0, 0, 0, 0)
    stride = size * 4
    pixels = bytearray()
    for row in reversed(range(size)):
        line = rgba[row * stride : (row + 1) * stride]
        for i in range(0, stride, 4):
            r, g, b, a = line[i : i + 4]
            pixels += bytes([b, g, r, a])
    mask_stride = ((size + 31) // 32) * 4
    mask = bytes(mask_stride * size)  # all opaque: the alpha channel decides
    return header + bytes(pixels) + mask


def ico(images: list[tuple[int, bytes]]) -> bytes:
    """An .ico file holding ``(size, image data)`` entries."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries = b""
    for size, data in images:
        side = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return header + entries + b"".join(data for _, data in images)


def main() -> None:
    """Write assets/mykey.ico and assets/mykey.png."""
    ASSETS.mkdir(exist_ok=True)
    images = [(size, dib(size, render(size))) for size in (16, 24, 32, 48)]
    big = png(256, render(256, samples=2))
    images.append((256, big))
    (ASSETS / "mykey.ico").write_bytes(ico(images))
    (ASSETS / "mykey.png").write_bytes(big)
    print(f"wrote {ASSETS / 'mykey.ico'} and {ASSETS / 'mykey.png'}")


if __name__ == "__main__":
    main()
