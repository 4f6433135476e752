#!/usr/bin/env python3
"""Writes the demo's example files: a small valid JPEG (baseline, grayscale,
drawn here, no image library), a CSV of measurements, a minimal valid PDF.
Run from anywhere: python3 examples/files/generate.py"""
import math
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# --- JPEG: 64x48 grayscale, each 8x8 block flat (DC only), standard tables.
DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
DC_VALS = list(range(12))
AC_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d]
AC_VALS = bytes.fromhex(
    "01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435"
    "363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798"
    "999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4"
    "f5f6f7f8f9fa")


def huff_codes(bits, vals):
    codes, code, k = {}, 0, 0
    for length in range(1, 17):
        for _ in range(bits[length - 1]):
            codes[vals[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


def segment(marker, payload):
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg(width=64, height=48):
    dc = huff_codes(DC_BITS, DC_VALS)
    ac = huff_codes(AC_BITS, list(AC_VALS))
    bits = []

    def put(code, length):
        for i in range(length - 1, -1, -1):
            bits.append((code >> i) & 1)

    prev = 0
    for by in range(height // 8):
        for bx in range(width // 8):
            # a soft disc on a gradient: something to look at
            d = math.hypot(bx - 3.5, by - 2.5)
            level = int(60 + 20 * bx + (90 if d < 2.2 else 0)) % 256
            coef = (level - 128) * 8  # DC with a quantiser of 1
            diff, prev = coef - prev, coef
            size = 0 if diff == 0 else abs(diff).bit_length()
            put(*dc[size])
            if size:
                put(diff if diff > 0 else diff + (1 << size) - 1, size)
            put(*ac[0x00])  # EOB: every AC coefficient is zero
    while len(bits) % 8:
        bits.append(1)
    scan = bytearray()
    for i in range(0, len(bits), 8):
        byte = int("".join(map(str, bits[i:i + 8])), 2)
        scan.append(byte)
        if byte == 0xFF:
            scan.append(0)
    out = b"\xff\xd8"
    out += segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    out += segment(0xDB, b"\x00" + bytes([1] * 64))
    out += segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
    out += segment(0xC4, b"\x00" + bytes(DC_BITS) + bytes(DC_VALS))
    out += segment(0xC4, b"\x10" + bytes(AC_BITS) + AC_VALS)
    out += segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    return out + bytes(scan) + b"\xff\xd9"


def csv():
    rows = ["serial,station,characteristic,nominal_mm,measured_mm,tolerance_mm,result"]
    for i in range(1, 13):
        measured = 12.0 + 0.004 * ((i * 7) % 11 - 5)
        ok = abs(measured - 12.0) <= 0.02
        rows.append(f"SN-{1000 + i},CMM-2,bore diameter,12.000,{measured:.3f},0.020,{'pass' if ok else 'fail'}")
    return ("\n".join(rows) + "\n").encode()


def pdf():
    text = b"BT /F1 18 Tf 72 720 Td (Inspection report - run 7) Tj 0 -28 Td /F1 12 Tf (All 12 parts within tolerance.) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


for name, data in (("inspection-photo.jpg", jpeg()), ("measurements.csv", csv()), ("report.pdf", pdf())):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    print(f"{name}: {len(data)} bytes")
