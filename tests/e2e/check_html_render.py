#!/usr/bin/python3
"""Renders an HTML report in headless Chromium and checks that the page shows the path
diagram with the refusal marked.

The report is made from a sample whose truth is a refusal at hop 2; the screenshot must
hold pixels of the refusal colour (#c92a2a, used only for the refusing hop and its mark)
and of the diagram's box outlines. Skips (exit 77) when Chromium is not installed.
"""
import pathlib
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

REFUSAL = (0xC9, 0x2A, 0x2A)


def png_pixels(path):
    """Decodes an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) into rows."""
    data = pathlib.Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), f"unsupported PNG (depth {depth}, colour {colour})"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(line)
        prev = line
    return width, height, channels, rows


def count_colour(width, height, channels, rows, rgb, tolerance=24):
    n = 0
    for line in rows:
        for x in range(width):
            r, g, b = line[x * channels:x * channels + 3]
            if abs(r - rgb[0]) <= tolerance and abs(g - rgb[1]) <= tolerance and abs(b - rgb[2]) <= tolerance:
                n += 1
    return n


def main():
    # A BPF filter keeps one attempt, so that its finding and diagram open the page.
    synprobe, sample, bpf = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("chromium absent: skipped")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        html, shot = tmp / "report.html", tmp / "shot.png"
        subprocess.run([synprobe, "analyze", str(sample), bpf, "--report", str(html), "-o", str(tmp / "out.txt")],
                       check=True, timeout=60)
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp / 'profile'}", "--window-size=1280,1400",
                        f"--screenshot={shot}", html.as_uri()],
                       check=True, timeout=120, capture_output=True)
        width, height, channels, rows = png_pixels(shot)
        red = count_colour(width, height, channels, rows, REFUSAL)
        outline = count_colour(width, height, channels, rows, (0x55, 0x55, 0x66), tolerance=12)
        print(f"screenshot {width}x{height}: {red} refusal-coloured pixels, {outline} box-outline pixels")
        ok = red > 200 and outline > 500
        print(f"{1 if ok else 0} passed, {0 if ok else 1} failed")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
