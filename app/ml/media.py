"""Decoding of uploaded photos and clips into pixels, with typed, patient-readable errors.

Everything here works on untrusted bytes: limits are checked before pixels are allocated
and every decoder failure is turned into a `MediaError` so a bad upload never reaches
the models or crashes the worker.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# 40 megapixels covers every phone camera; above that a "photo" is almost surely a bomb.
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_CLIP_SECONDS = 30.0
JPEG_QUALITY = 90


class MediaError(Exception):
    """A file the patient uploaded cannot be used; `message` is safe to show them."""

    message = "This file could not be read."

    def __init__(self, message: str | None = None):
        if message is not None:
            self.message = message
        super().__init__(self.message)


class NotAnImage(MediaError):
    message = "This file is not a photo we can read. Please upload a JPEG, PNG or WebP picture."


class UnsupportedImage(MediaError):
    message = (
        "This kind of picture is not supported. Please upload an ordinary colour photo (JPEG, PNG or WebP)."
    )


class ImageTooLarge(MediaError):
    message = "This picture is too large. Please upload a smaller photo."


class NotAVideo(MediaError):
    message = "This file is not a video we can read. Please record the clip again."


class ClipTooLong(MediaError):
    message = "This clip is too long. Please record a shorter clip."


class NoVideoFrames(MediaError):
    message = "This recording contains no video. Please check that your camera is allowed and record again."


_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")
# EBML (webm/mkv), Ogg; ISO-BMFF (mp4/mov) is recognised by its `ftyp` box below.
_VIDEO_MAGIC = (b"\x1a\x45\xdf\xa3", b"OggS")


def sniff_media_kind(data: bytes) -> str | None:
    """Say whether bytes look like an "image" or a "video" from their magic numbers only."""
    head = data[:16]
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if (
        head.startswith(_VIDEO_MAGIC)
        or head[4:8] == b"ftyp"
        or (head[:4] == b"RIFF" and head[8:12] == b"AVI ")
    ):
        return "video"
    return None


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode an uploaded photo into an upright RGB image that carries no metadata."""
    if not data:
        raise NotAnImage("The file is empty.")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns below 2x its limit; we enforce ours explicitly.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        if isinstance(exc, Image.DecompressionBombError):
            raise ImageTooLarge() from exc
        raise NotAnImage() from exc
    # The header is read but no pixels yet: reject bombs before allocating them.
    if image.width * image.height > max_pixels:
        raise ImageTooLarge()
    if getattr(image, "n_frames", 1) > 1:
        raise UnsupportedImage("Animated pictures are not supported. Please upload a single still photo.")
    if image.mode not in {"RGB", "RGBA", "L", "LA", "P", "CMYK", "YCbCr"}:
        # 16-bit, float and other scientific modes would need a tone mapping we cannot guess.
        raise UnsupportedImage()
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError) as exc:
        raise NotAnImage("This photo is damaged or incomplete. Please upload it again.") from exc
    rgb = upright.convert("RGB")
    # A fresh image from raw pixels drops EXIF, ICC and text chunks (e.g. GPS location).
    return Image.frombytes("RGB", rgb.size, rgb.tobytes())


def reencode_jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    """Encode an image as a metadata-free JPEG (what we store instead of the upload)."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


@dataclass(frozen=True)
class VideoFrame:
    index: int
    timestamp: float  # seconds from the first decoded frame
    rgb: np.ndarray  # (height, width, 3) uint8


def decode_clip(
    source: str | Path | bytes,
    max_seconds: float = DEFAULT_MAX_CLIP_SECONDS,
    sample_every: int = 1,
) -> Iterator[VideoFrame]:
    """Yield every `sample_every`-th decoded video frame of a clip with its timestamp.

    Frames are counted by decoding, since Chromium's webm carries no duration. The length
    limit is checked as frames arrive; `NoVideoFrames` is raised at the end when nothing
    could be decoded, so callers always either get frames or a `MediaError`.
    """
    if sample_every < 1:
        raise ValueError("sample_every must be >= 1")
    if isinstance(source, bytes):
        if not source:
            raise NotAVideo("The file is empty.")
        source = io.BytesIO(source)
    try:
        container = av.open(source if not isinstance(source, Path) else str(source), mode="r")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise NotAVideo() from exc
    with container:
        if not container.streams.video:
            raise NoVideoFrames()
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        yielded = 0
        first_time: float | None = None
        try:
            for index, frame in enumerate(container.decode(stream)):
                timestamp = _frame_time(frame, stream, index)
                if first_time is None:
                    first_time = timestamp
                timestamp -= first_time
                if timestamp > max_seconds:
                    raise ClipTooLong(
                        f"This clip is longer than {max_seconds:g} seconds. Please record a shorter clip."
                    )
                if index % sample_every == 0:
                    yielded += 1
                    yield VideoFrame(index, timestamp, frame.to_ndarray(format="rgb24"))
        except (av.FFmpegError, OSError, ValueError) as exc:
            if yielded == 0:
                raise NotAVideo("This recording is damaged. Please record the clip again.") from exc
            # A webcam clip cut off mid-frame (tab closed while uploading) keeps its good part.
        if yielded == 0:
            raise NoVideoFrames()


def _frame_time(frame: av.VideoFrame, stream: av.video.stream.VideoStream, index: int) -> float:
    if frame.pts is not None and frame.time_base is not None:
        return float(frame.pts * frame.time_base)
    rate = float(stream.average_rate or stream.guessed_rate or 30)
    return index / rate
