#!/usr/bin/env python3
"""Seed inputs for fuzz_decode_frame and fuzz_quote, cut from capture files.

  make_seeds.py OUT_DIR CAPTURE...

Writes OUT_DIR/decode_frame/<n> (2 selector bytes + one frame, as fuzz_decode_frame.cpp
reads them) and OUT_DIR/quote/<n> (the IP packets, and the quotations of the ICMP errors,
for fuzz_quote). Reads pcap and pcapng itself (no dependencies); files it cannot read are
skipped: the point is variety, not completeness.
"""
import hashlib
import os
import struct
import sys

# The order of the table in fuzz_decode_frame.cpp (the selector indexes it).
LINKS = [0, 1, 9, 12, 14, 50, 101, 104, 108, 113, 239, 228, 229, 276]
MAX_PER_FILE = 40


def frames(data):
    """Yields (link_type, frame bytes) of a pcap or pcapng file."""
    if len(data) < 24:
        return
    magic = data[:4]
    if magic == b"\x0a\x0d\x0d\x0a":
        yield from pcapng_frames(data)
        return
    for order in "<>":
        m = struct.unpack(order + "I", magic)[0]
        if m in (0xA1B2C3D4, 0xA1B23C4D, 0xA1B2CD34):
            break
    else:
        return
    link = struct.unpack(order + "I", data[20:24])[0] & 0xFFFF
    header = 24 if m == 0xA1B2CD34 else 16
    pos = 24
    while pos + header <= len(data):
        caplen = struct.unpack(order + "I", data[pos + 8:pos + 12])[0]
        if caplen > 1 << 20 or pos + header + caplen > len(data):
            return
        yield link, data[pos + header:pos + header + caplen]
        pos += header + caplen


def pcapng_frames(data):
    pos, order, links = 0, "<", []
    while pos + 12 <= len(data):
        if data[pos:pos + 4] == b"\x0a\x0d\x0d\x0a":
            order = "<" if data[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        btype, length = struct.unpack(order + "II", data[pos:pos + 8])
        if length < 12 or pos + length > len(data):
            return
        body = data[pos + 8:pos + length - 4]
        if btype == 1 and len(body) >= 2:
            links.append(struct.unpack(order + "H", body[:2])[0])
        elif btype == 6 and len(body) >= 20:
            iface, _, _, caplen = struct.unpack(order + "IIII", body[:16])
            if iface < len(links):
                yield links[iface], body[20:20 + caplen]
        pos += length


def ip_offset(link, frame):
    if link == 1:
        off, ethertype = 14, frame[12:14]
        while ethertype in (b"\x81\x00", b"\x88\xa8") and len(frame) >= off + 4:
            ethertype, off = frame[off + 2:off + 4], off + 4
        return off
    return {113: 16, 276: 20, 0: 4, 108: 4, 101: 0, 12: 0, 14: 0, 228: 0, 229: 0}.get(link)


def quotes(link, frame):
    off = ip_offset(link, frame)
    if off is None or len(frame) <= off:
        return
    ip = frame[off:]
    yield ip
    version = ip[0] >> 4
    if version == 4 and len(ip) >= 20 and ip[9] == 1:
        icmp = ip[(ip[0] & 15) * 4:]
        if len(icmp) > 8 and icmp[0] in (3, 11, 12):
            yield icmp[8:]
    elif version == 6 and len(ip) >= 48 and ip[6] == 58 and ip[40] in (1, 2, 3, 4):
        yield ip[48:]


def main():
    out, captures = sys.argv[1], sys.argv[2:]
    written = {"decode_frame": set(), "quote": set()}
    for kind in written:
        os.makedirs(os.path.join(out, kind), exist_ok=True)

    def write(kind, blob):
        name = hashlib.sha1(blob).hexdigest()[:16]
        if name not in written[kind]:
            written[kind].add(name)
            with open(os.path.join(out, kind, name), "wb") as f:
                f.write(blob)

    for path in captures:
        try:
            with open(path, "rb") as f:
                data = f.read()
            for n, (link, frame) in enumerate(frames(data)):
                if n >= MAX_PER_FILE:
                    break
                selector = LINKS.index(link) if link in LINKS else 0x8000 | (link & 0x7FFF)
                write("decode_frame", struct.pack(">H", selector) + frame)
                for q in quotes(link, frame):
                    write("quote", q)
        except (OSError, struct.error, IndexError):
            continue
    print(f"make_seeds: {len(written['decode_frame'])} frames, {len(written['quote'])} quotations "
          f"from {len(captures)} files")


if __name__ == "__main__":
    main()
