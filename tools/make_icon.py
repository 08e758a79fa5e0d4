"""Draw icon.png: a gold key over a parcel, 32x32, with the standard library only.

Usage: python3 tools/make_icon.py [--out icon.png] [--size 32] [--preview preview.png]

Shapes are signed distance functions rendered with 8x8 supersampling; each shape
has a fill and a dark outline. ``--preview`` also writes an 8x enlargement.
"""

from __future__ import annotations

import argparse
import math
import struct
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

SIZE = 32
SAMPLES = 8
OUTLINE = 1.0  # outline width in pixels

Point = tuple[float, float]
Color = tuple[int, int, int]
Sdf = Callable[[float, float], float]
Pixel = tuple[int, int, int, int]


def hex_color(text: str) -> Color:
    return (int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16))


def segment_distance(px: float, py: float, a: Point, b: Point) -> float:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def polygon(points: Sequence[Point]) -> Sdf:
    """Signed distance to a simple polygon (negative inside)."""

    def sdf(x: float, y: float) -> float:
        inside = False
        dist = math.inf
        n = len(points)
        for i in range(n):
            a, b = points[i], points[(i + 1) % n]
            dist = min(dist, segment_distance(x, y, a, b))
            if (a[1] > y) != (b[1] > y) and x < a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]):
                inside = not inside
        return -dist if inside else dist

    return sdf


def circle(cx: float, cy: float, r: float) -> Sdf:
    return lambda x, y: math.hypot(x - cx, y - cy) - r


def capsule(a: Point, b: Point, r: float) -> Sdf:
    return lambda x, y: segment_distance(x, y, a, b) - r


def union(*parts: Sdf) -> Sdf:
    return lambda x, y: min(p(x, y) for p in parts)


def subtract(shape: Sdf, hole: Sdf) -> Sdf:
    return lambda x, y: max(shape(x, y), -hole(x, y))


# Layers from back to front: (shape, fill, outline or None).
PARCEL_EDGE = hex_color("#5b3a1c")
KEY_EDGE = hex_color("#6b4c00")
LAYERS: list[tuple[Sdf, Color, Color | None]] = [
    # parcel: front, side and top faces
    (
        polygon([(2.5, 14.5), (19.5, 14.5), (19.5, 29.5), (2.5, 29.5)]),
        hex_color("#c98c4f"),
        PARCEL_EDGE,
    ),
    (
        polygon([(19.5, 14.5), (26.5, 9.5), (26.5, 24.5), (19.5, 29.5)]),
        hex_color("#a06a34"),
        PARCEL_EDGE,
    ),
    (
        polygon([(2.5, 14.5), (9.5, 9.5), (26.5, 9.5), (19.5, 14.5)]),
        hex_color("#e8b678"),
        PARCEL_EDGE,
    ),
    # packing tape across the top and down the front
    (polygon([(9.6, 14.5), (12.4, 14.5), (19.4, 9.5), (16.6, 9.5)]), hex_color("#f6e7c6"), None),
    (polygon([(9.6, 14.5), (12.4, 14.5), (12.4, 29.0), (9.6, 29.0)]), hex_color("#f6e7c6"), None),
    # key: bow with a hole, shaft, two teeth
    (
        union(
            subtract(circle(23.5, 8.5, 6.0), circle(23.5, 8.5, 2.2)),
            capsule((19.5, 12.5), (8.0, 24.0), 1.7),
            polygon([(12.0, 20.0), (14.8, 22.8), (12.7, 24.9), (9.9, 22.1)]),
            polygon([(8.6, 23.4), (11.4, 26.2), (9.6, 28.0), (6.8, 25.2)]),
        ),
        hex_color("#f7c623"),
        KEY_EDGE,
    ),
    # a highlight on the bow
    (capsule((20.2, 6.0), (21.8, 4.2), 0.7), hex_color("#fff1a8"), None),
]


def render(size: int = SIZE) -> list[list[Pixel]]:
    """Average the supersamples of every pixel into straight (not premultiplied) RGBA.

    The shapes are drawn on a 32-unit canvas, scaled to ``size`` pixels.
    """
    rows = []
    scale = SIZE / size
    samples = max(2, SAMPLES * SIZE // size)  # about as many samples in all at any size
    step = 1.0 / samples
    for py in range(size):
        row = []
        for px in range(size):
            r = g = b = a = 0.0
            for sy in range(samples):
                for sx in range(samples):
                    x = (px + (sx + 0.5) * step) * scale
                    y = (py + (sy + 0.5) * step) * scale
                    color: Color | None = None
                    for sdf, fill, edge in LAYERS:
                        d = sdf(x, y)
                        if edge is not None and d < OUTLINE / 2:
                            color = fill if d < -OUTLINE / 2 else edge
                        elif d < 0:
                            color = fill
                    if color is not None:
                        r += color[0]
                        g += color[1]
                        b += color[2]
                        a += 1
            if a:
                row.append((round(r / a), round(g / a), round(b / a), round(255 * a / samples**2)))
            else:
                row.append((0, 0, 0, 0))
        rows.append(row)
    return rows


def png(rows: list[list[Pixel]]) -> bytes:
    """An 8-bit RGBA PNG of the given rows."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    height, width = len(rows), len(rows[0])
    raw = b"".join(b"\x00" + bytes(v for pixel in row for v in pixel) for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def enlarge(rows: list[list[Pixel]], factor: int) -> list[list[Pixel]]:
    """Nearest-neighbour enlargement on a light checkerboard, for looking at the icon."""

    def over(c: int, a: int, bg: int) -> int:
        return round((c * a + bg * (255 - a)) / 255)

    out = []
    for y in range(len(rows) * factor):
        row = []
        for x in range(len(rows[0]) * factor):
            r, g, b, a = rows[y // factor][x // factor]
            bg = 235 if ((x // 8) + (y // 8)) % 2 else 255
            row.append((over(r, a, bg), over(g, a, bg), over(b, a, bg), 255))
        out.append(row)
    return out


def icon_png(size: int = SIZE) -> bytes:
    """The icon as PNG bytes, ``size`` pixels square."""
    return png(render(size))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    root = Path(__file__).resolve().parent.parent
    parser.add_argument("--out", type=Path, default=root / "icon.png")
    parser.add_argument("--size", type=int, default=SIZE, help="pixels (default 32)")
    parser.add_argument("--preview", type=Path, help="also write an 8x enlargement here")
    args = parser.parse_args(argv)
    rows = render(args.size)
    args.out.write_bytes(png(rows))
    if args.preview:
        args.preview.write_bytes(png(enlarge(rows, 8)))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
