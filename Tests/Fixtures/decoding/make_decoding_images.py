#!/usr/bin/env python3
"""Writes the images Pillow decodes in its own way, with Pillow's RGB pixels beside each (raw
bytes, rows top to bottom), for DatasetsTests: a CMYK JPEG, 16-bit gray and colour PNGs, and a
truncated JPEG Pillow refuses. Random pixels from a fixed seed; needs only Pillow.

    python3 make_decoding_images.py OUT_DIR
"""
import io, os, random, struct, sys, zlib

from PIL import Image

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = random.Random(0)


def png16(path, width, height, channels, top):
    """A 16-bit PNG (gray or RGB) written by hand: Pillow writes no 16-bit colour."""
    rows = b"".join(b"\x00" + b"".join(struct.pack(">H", rng.randrange(top)) for _ in range(width * channels))
                    for _ in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 16, 2 if channels == 3 else 0, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


cmyk = Image.frombytes("CMYK", (12, 8), bytes(rng.randrange(256) for _ in range(12 * 8 * 4)))
cmyk.save(os.path.join(out, "cmyk.jpg"), quality=95)
png16(os.path.join(out, "gray16.png"), 7, 5, 1, 600)
png16(os.path.join(out, "rgb16.png"), 7, 5, 3, 65536)
for name in ["cmyk.jpg", "gray16.png", "rgb16.png"]:
    with open(os.path.join(out, os.path.splitext(name)[0] + ".rgb"), "wb") as f:
        f.write(Image.open(os.path.join(out, name)).convert("RGB").tobytes())
whole = io.BytesIO()
Image.frombytes("RGB", (64, 64), bytes(rng.randrange(256) for _ in range(64 * 64 * 3))).save(whole, "JPEG", quality=90)
with open(os.path.join(out, "truncated.jpg"), "wb") as f:
    f.write(whole.getvalue()[: len(whole.getvalue()) // 2])
