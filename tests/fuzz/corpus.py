"""A corpus of malformed and hostile uploads, generated (never downloaded, never committed).

Run `python -m tests.fuzz.corpus OUT_DIR` to write the files for manual poking; the upload
fuzz test imports `build_corpus()` and sends every sample through the real upload route.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Sample:
    name: str
    filename: str
    data: bytes


def _image(mode: str = "RGB", size=(64, 64), fmt: str = "JPEG", **save) -> bytes:
    rng = np.random.default_rng(7)
    if mode == "I;16":
        image = Image.fromarray(rng.integers(0, 65535, size[::-1], dtype=np.uint16))
    else:
        noise = Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
        image = noise.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_with_header(width: int, height: int, bit_depth: int = 1, colour: int = 0,
                     rows: bytes | None = None) -> bytes:
    """A PNG whose header claims width×height; the pixel data is a tiny compressed stream."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    if rows is None:
        # All-zero rows compress ~1000:1: a few MB on disk, gigapixels once decoded.
        compressor = zlib.compressobj(9)
        row = b"\x00" * (1 + (width * bit_depth + 7) // 8)
        parts = [compressor.compress(row) for _ in range(min(height, 2000))]
        rows = b"".join(parts) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", rows)
            + _png_chunk(b"IEND", b""))


def _gif(frames: int = 3, size=(32, 32), screen: tuple[int, int] | None = None) -> bytes:
    images = [Image.new("RGB", size, color=(index * 80, 255 - index * 80, 40)) for index in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=frames > 1, append_images=images[1:], duration=100, loop=0)
    data = bytearray(buffer.getvalue())
    if screen:  # logical screen size lives right after the 6-byte signature
        data[6:10] = struct.pack("<HH", *screen)
    return bytes(data)


def _video(container: str = "webm", codec: str = "libvpx-vp9", seconds: float = 1.0, fps: int = 5,
           size=(64, 48), audio_only: bool = False, frames: int | None = None, noise: bool = False,
           options: dict | None = None) -> bytes:
    """A small clip; `noise` makes frames incompressible (so a damaged tail hits frame data),
    `options` go to the muxer (e.g. webm `live` like Chromium's MediaRecorder: no duration)."""
    buffer = io.BytesIO()
    rng = np.random.default_rng(3)
    with av.open(buffer, "w", format=container, options=options or {}) as output:
        if audio_only:
            stream = output.add_stream("libopus" if container == "webm" else "aac", rate=48000)
            samples = int(48000 * seconds)
            tone = (np.sin(np.arange(samples) / 20) * 0.2).astype(np.float32).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(tone, format="flt", layout="mono")
            frame.sample_rate = 48000
            for packet in stream.encode(frame):
                output.mux(packet)
        else:
            stream = output.add_stream(codec, rate=fps)
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            stream.time_base = Fraction(1, fps)
            count = int(seconds * fps) if frames is None else frames
            output.start_encoding()  # writes the header even when no frame follows
            for index in range(count):
                pixels = (rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8) if noise
                          else np.full((size[1], size[0], 3), (index * 7) % 255, np.uint8))
                for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                    output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def _corrupt_middle(data: bytes, every: int = 7) -> bytes:
    middle = bytearray(data)
    for index in range(len(middle) // 3, 2 * len(middle) // 3, every):
        middle[index] ^= 0xFF
    return bytes(middle)


def _corrupt_tail(data: bytes, fraction: float = 0.3, every: int = 5) -> bytes:
    """Damage the last part only: the first frames still decode, later ones do not."""
    damaged = bytearray(data)
    for index in range(int(len(damaged) * (1 - fraction)), len(damaged), every):
        damaged[index] ^= 0xFF
    return bytes(damaged)


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOF0) claims other dimensions."""
    data = bytearray(_image())
    sof = data.index(b"\xff\xc0")
    data[sof + 5: sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _jpeg_with_exif(malformed_gps: bool = False) -> bytes:
    """A JPEG rotated by EXIF (orientation 6) with a GPS block; `malformed_gps` declares the
    latitude reference (ASCII "N") as a SHORT, which Pillow reads but cannot write back."""
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Cam"
    exif[0x8825] = {1: "N", 2: (1.0, 2.0, 3.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 100, 50)).save(buffer, "JPEG", exif=exif.tobytes())
    data = buffer.getvalue()
    if malformed_gps:
        entry = data.index(b"\x00\x01\x00\x02\x00\x00\x00\x02N\x00")  # tag 1, type 2 (ASCII), 2 values
        data = data[: entry + 3] + b"\x03" + data[entry + 4:]
    return data


def _huge_webm(width: int = 4224, height: int = 4224) -> bytes:
    """A 30 KB VP8 clip of black 18-megapixel frames: a decompression bomb for the worker."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as output:
        stream = output.add_stream("libvpx", rate=2)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"deadline": "realtime", "cpu-used": "16"}
        frame = av.VideoFrame(width, height, "yuv420p")
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.pts = 0
        for packet in [*stream.encode(frame), *stream.encode()]:
            output.mux(packet)
    return buffer.getvalue()


def _vp8_packets(width: int, height: int, count: int) -> list:
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = Fraction(1, 2)
    codec.options = {"deadline": "realtime", "cpu-used": "16"}
    frame = av.VideoFrame(width, height, "yuv420p")
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    packets = []
    for index in range(count):
        frame.pts = index
        packets += codec.encode(frame)
    return packets + list(codec.encode(None))


def _growing_webm() -> bytes:
    """Two small frames, then an 18-megapixel keyframe: the container header and the first
    frame (all the upload checks decode) look harmless; the size changes mid-stream."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as output:
        stream = output.add_stream("libvpx", rate=2)
        stream.width, stream.height = 64, 48
        stream.time_base = Fraction(1, 2)
        packets = _vp8_packets(64, 48, 2) + _vp8_packets(4224, 4224, 1)
        for pts, packet in enumerate(packets):
            packet.stream, packet.pts, packet.dts, packet.time_base = stream, pts, pts, Fraction(1, 2)
            output.mux(packet)
    return buffer.getvalue()


def _generators() -> list[tuple[str, str, Callable[[], bytes]]]:
    jpeg = _image()
    png = _image(fmt="PNG")
    webp = _image(fmt="WEBP")
    webm = _video()
    mp4 = _video("mp4", "libx264")
    noisy_webm = _video(seconds=3, noise=True)
    # Fragmented mp4 keeps its index (moov) at the start, so a damaged tail still plays at first.
    noisy_mp4 = _video("mp4", "libx264", seconds=3, noise=True,
                       options={"movflags": "frag_keyframe+empty_moov"})
    return [
        ("zero-bytes-jpg", "empty.jpg", lambda: b""),
        ("zero-bytes-webm", "empty.webm", lambda: b""),
        ("one-byte", "x.jpg", lambda: b"\xff"),
        ("text-as-jpg", "notes.jpg", lambda: b"hello, this is not a picture\n" * 20),
        ("html-as-png", "page.png", lambda: b"<html><script>alert(1)</script></html>"),
        ("svg-as-png", "vector.png",
         lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("pdf-as-jpg", "doc.jpg", lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"),
        ("zip-as-jpg", "archive.jpg", lambda: b"PK\x03\x04" + b"\x00" * 200),
        ("random-bytes", "noise.jpg", lambda: np.random.default_rng(1).bytes(200_000)),
        ("jpeg-magic-only", "magic.jpg", lambda: b"\xff\xd8\xff\xe0"),
        ("jpeg-truncated-half", "half.jpg", lambda: jpeg[: len(jpeg) // 2]),
        ("jpeg-truncated-header", "head.jpg", lambda: jpeg[:100]),
        ("jpeg-corrupt-middle", "corrupt.jpg", lambda: _corrupt_middle(jpeg)),
        ("jpeg-cmyk", "cmyk.jpg", lambda: _image("CMYK")),
        ("jpeg-grayscale", "gray.jpg", lambda: _image("L")),
        ("jpeg-zip-polyglot", "polyglot.jpg", lambda: jpeg + b"PK\x03\x04" + b"\x00" * 100),
        ("png-truncated", "half.png", lambda: png[: len(png) // 2]),
        ("png-bad-crc", "crc.png", lambda: png[:30] + bytes([png[30] ^ 0xFF]) + png[31:]),
        ("png-16-bit", "deep.png", lambda: _image("I;16", fmt="PNG")),
        ("png-palette", "palette.png", lambda: _image("P", fmt="PNG")),
        ("png-alpha", "alpha.png", lambda: _image("RGBA", fmt="PNG")),
        ("png-gray-alpha", "la.png", lambda: _image("LA", fmt="PNG")),
        ("png-1-bit", "bits.png", lambda: _image("1", fmt="PNG")),
        ("png-1x1", "dot.png", lambda: _image(size=(1, 1), fmt="PNG")),
        ("png-decompression-bomb", "bomb.png", lambda: _png_with_header(30000, 30000)),
        ("png-huge-dimensions-no-data", "huge.png", lambda: _png_with_header(2**31 - 1, 2**31 - 1, rows=b"")),
        ("png-zero-width", "zero.png", lambda: _png_with_header(0, 10, rows=b"")),
        ("webp-truncated", "half.webp", lambda: webp[: len(webp) // 2]),
        ("webp-bad-header", "bad.webp", lambda: b"RIFF\xff\xff\xff\xffWEBPVP8 " + b"\x00" * 40),
        ("gif-animated", "anim.gif", lambda: _gif(3)),
        ("gif-truncated", "half.gif", lambda: _gif(3)[:40]),
        ("gif-huge-screen", "screen.gif", lambda: _gif(1, screen=(65535, 65535))),
        ("gif-js-polyglot", "polyglot.gif", lambda: b"GIF89a/*\x00\x00*/=alert(1);//" + b"\x00" * 30),
        ("bmp", "old.bmp", lambda: _image(fmt="BMP")),
        ("tiff", "scan.tiff", lambda: _image(fmt="TIFF")),
        ("webm-header-only", "head.webm", lambda: b"\x1a\x45\xdf\xa3"),
        ("webm-truncated", "cut.webm", lambda: webm[: len(webm) // 3]),
        ("webm-corrupt", "corrupt.webm", lambda: webm[:64] + np.random.default_rng(2).bytes(len(webm))),
        ("webm-audio-only", "voice.webm", lambda: _video(audio_only=True)),
        ("webm-zero-frames", "none.webm", lambda: _video(frames=0)),
        ("webm-over-long", "long.webm", lambda: _video(seconds=40, fps=2, size=(32, 24))),
        ("mp4-truncated", "cut.mp4", lambda: mp4[: len(mp4) // 2]),
        ("mp4-corrupt", "corrupt.mp4", lambda: mp4[:32] + b"\x00" * 500),
        ("mp4-audio-only", "voice.mp4", lambda: _video("mp4", audio_only=True)),
        ("png-named-webm", "photo.webm", lambda: png),
        # Below: hostile files that pass the upload checks and must be handled by the worker.
        ("jpeg-exif-malformed-gps", "gps.jpg", lambda: _jpeg_with_exif(malformed_gps=True)),
        ("jpeg-progressive", "progressive.jpg", lambda: _image(progressive=True)),
        ("jpeg-claims-65535x65535", "claims.jpg", lambda: _jpeg_claiming(65535, 65535)),
        ("png-extreme-aspect", "strip.png", lambda: _image(size=(20000, 2), fmt="PNG")),
        ("gif-still", "still.gif", lambda: _gif(1)),
        ("mp4-named-jpg", "photo.jpg", lambda: mp4),
        ("webm-2x2", "tiny.webm", lambda: _video(size=(2, 2))),
        ("webm-live-no-duration", "live.webm",
         lambda: _video(codec="libvpx", seconds=2, options={"live": "1"})),
        ("webm-live-endless", "endless.webm",
         lambda: _video(codec="libvpx", seconds=40, fps=2, size=(32, 24), options={"live": "1"})),
        ("webm-huge-frames", "huge.webm", _huge_webm),
        ("webm-grows-huge-mid-clip", "grows.webm", _growing_webm),
        ("webm-corrupt-tail", "tail.webm", lambda: _corrupt_tail(noisy_webm)),
        ("webm-cut-mid-cluster", "cut-late.webm", lambda: noisy_webm[:-3000]),
        ("mp4-fragmented-corrupt-tail", "tail.mp4", lambda: _corrupt_tail(noisy_mp4)),
    ]


def build_corpus() -> list[Sample]:
    return [Sample(name, filename, make()) for name, filename, make in _generators()]


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "fuzz-corpus")
    out.mkdir(parents=True, exist_ok=True)
    for sample in build_corpus():
        (out / f"{sample.name}--{sample.filename}").write_bytes(sample.data)
    print(f"wrote {len(_generators())} files to {out}")
