"""What a QR code in a screenshot says: Chromium's PNG read here (8-bit RGB or RGBA, not
interlaced: what its screenshots are), then decoded by zxing-cpp, a reader independent of the
generator the pages use."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import zxingcpp


def _unfilter(kind: int, line: bytearray, prior: bytes, bpp: int) -> None:
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = prior[i]
        corner = prior[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + best) & 0xFF


def png_grey(png: bytes) -> np.ndarray:
    """A PNG's pixels as greys (height x width, uint8)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, data, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, "a PNG of another kind"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            data += body
        pos += 12 + length
    raw, stride = zlib.decompress(data), width * channels
    rows, prior = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(raw[start], line, prior, channels)
        rows.append(bytes(line))
        prior = rows[-1]
    pixels = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(height, width, channels)
    grey: np.ndarray = pixels[:, :, :3].mean(axis=2).astype(np.uint8)
    return grey


def qr_texts(png: bytes) -> list[str]:
    """The texts of the QR codes in a screenshot."""
    found = zxingcpp.read_barcodes(png_grey(png))
    return [r.text for r in found if r.format == zxingcpp.BarcodeFormat.QRCode]
