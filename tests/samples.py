"""Media samples for the screening tests, made from real face photos (scikit-image's astronaut).

Defined once here; tests/integration/test_screening_samples.py checks they are what they claim
to be, so a broken sample cannot make a bad-input test pass by accident.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from functools import cache

import av
import numpy as np
from PIL import Image


@cache
def astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())


def astronaut_jpeg(with_gps: bool = True) -> bytes:
    """The astronaut as a phone would send it: JPEG with EXIF, including a GPS position."""
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if with_gps:
        exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    astronaut().save(buffer, format="JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def landscape_png() -> bytes:
    """A real photo without a face (scikit-image's coffee cup)."""
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.coffee()).save(buffer, format="PNG")
    return buffer.getvalue()


def encode_clip(
    target,
    frames,
    fps: int = 15,
    codec: str = "libvpx-vp9",
    pix_fmt: str = "yuv420p",
    options: dict[str, str] | None = None,
    container_format: str | None = None,
):
    """Encode `frames` (PIL images or RGB arrays, all one size) into `target` (a path or a
    binary buffer) with FFmpeg, as a browser or a phone would hand in a clip. Returns `target`."""
    path_or_buffer = str(target) if isinstance(target, str | os.PathLike) else target
    with av.open(path_or_buffer, mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.pix_fmt = pix_fmt
        if options:
            stream.options = options
        for index, frame in enumerate(frames):
            pixels = np.asarray(frame, dtype=np.uint8)
            if index == 0:  # the stream takes the frames' size (PyAV's default is 640x480)
                stream.height, stream.width = pixels.shape[:2]
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return target


def clip_webm(
    seconds: float = 2.0, fps: int = 10, size: tuple[int, int] = (640, 480), face: bool = True
) -> bytes:
    """A VP8 webm of the astronaut drifting a little (as a webcam clip does)."""
    width, height = size
    photo = astronaut().resize((360, 360)) if face else Image.new("RGB", (360, 360), (90, 120, 150))

    def frames():
        for index in range(int(seconds * fps)):
            canvas = Image.new("RGB", size, (40, 40, 40))
            canvas.paste(photo, ((width - 360) // 2 + (index % 5) * 4, (height - 360) // 2))
            yield canvas

    realtime = {"deadline": "realtime", "cpu-used": "8"}
    buffer = encode_clip(io.BytesIO(), frames(), fps, "libvpx", options=realtime, container_format="webm")
    return buffer.getvalue()


def bomb_png(width: int = 12_000, height: int = 12_000) -> bytes:
    """A tiny PNG whose header claims 144 megapixels (a decompression bomb)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def png_16bit() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)).save(
        buffer, format="PNG"
    )
    return buffer.getvalue()


def cmyk_jpeg() -> bytes:
    buffer = io.BytesIO()
    astronaut().convert("CMYK").save(buffer, format="JPEG")
    return buffer.getvalue()


def animated_gif() -> bytes:
    buffer = io.BytesIO()
    frames = [astronaut().resize((64, 64)), astronaut().resize((64, 64)).rotate(10)]
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def truncated_jpeg() -> bytes:
    data = astronaut_jpeg(with_gps=False)
    return data[: len(data) // 3]


def corrupt_webm() -> bytes:
    return b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 40
