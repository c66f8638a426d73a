"""Hostile video clips for the decoding-limit tests and bench/bench_hostile_uploads.py (no tests here).

Each frame is a hand-written baseline JPEG of one grey level: two bits per 8x8 block, so a
16000x16000 frame (256 MB decoded, 768 MB as RGB) takes 1 MB of file. Frames are muxed into
Matroska (the same EBML container as webm) whose header states 64x64, the size the first
frames really have; the huge frames come later, or from the start.
"""

from __future__ import annotations

import io
import struct
from fractions import Fraction

import av

HUGE = (16000, 16000)
SMALL = (64, 64)


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def grey_jpeg(width: int, height: int) -> bytes:
    """A valid grey JPEG of any size: every block is 'DC unchanged, end of block'."""
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    one_code = bytes([1] + [0] * 15) + b"\x00"  # a Huffman table with the single code '0'
    return b"".join([
        b"\xff\xd8",
        _segment(0xDB, b"\x00" + bytes([1] * 64)),
        _segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"),
        _segment(0xC4, b"\x00" + one_code),  # DC: difference category 0
        _segment(0xC4, b"\x10" + one_code),  # AC: end of block
        _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
        bytes((blocks * 2 + 7) // 8),
        b"\xff\xd9",
    ])


def clip(sizes: list[tuple[int, int]], fps: int = 10) -> bytes:
    """A Matroska clip whose header says 64x64 and whose frames have the given sizes."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="matroska") as out:
        stream = out.add_stream("mjpeg", rate=fps)
        stream.width, stream.height = SMALL
        stream.pix_fmt = "yuvj420p"
        for index, (width, height) in enumerate(sizes):
            packet = av.Packet(grey_jpeg(width, height))
            packet.pts = packet.dts = index
            packet.time_base = Fraction(1, fps)
            packet.stream = stream
            packet.is_keyframe = True
            out.mux(packet)
    return buffer.getvalue()


def huge_from_the_start(frames: int = 3) -> bytes:
    return clip([HUGE] * frames)


def huge_mid_stream(small_frames: int = 5, huge_frames: int = 3) -> bytes:
    """Small frames first (what an upload probe decodes), then huge ones for the worker."""
    return clip([SMALL] * small_frames + [HUGE] * huge_frames)


def honest(frames: int = 10) -> bytes:
    return clip([SMALL] * frames)
