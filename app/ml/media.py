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
from av.video.reformatter import VideoReformatter
from PIL import Image, UnidentifiedImageError

from app.i18n.marker import N_

# 40 megapixels covers every phone camera; above that a "photo" is almost surely a bomb.
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_CLIP_SECONDS = 30.0
# Per video frame: 4096x4096 covers 4K recordings; a few KB of VP8 or MJPEG can otherwise carry
# 16000x16000 frames (768 MB of RGB each): a decompression bomb. Deployments set
# MAX_VIDEO_FRAME_PIXELS; the limit is handed to FFmpeg (`max_pixels`), which refuses such a
# frame before allocating it, whatever the container's header claims.
DEFAULT_MAX_FRAME_PIXELS = 4096 * 4096
# FFmpeg checks max_pixels against the row width rounded up to its buffer alignment (up to 64
# pixels), so a frame exactly at the limit would be refused; it gets this much slack (at most
# 64 extra columns of the tallest possible frame) and our own check stays exact.
_FFMPEG_ALIGNMENT_SLACK = 64 * 65536
JPEG_QUALITY = 90


class MediaError(Exception):
    """A file the patient uploaded cannot be used; `message` is safe to show them."""

    message = N_("This file could not be read.")

    def __init__(self, message: str | None = None):
        if message is not None:
            self.message = message
        super().__init__(self.message)


class NotAnImage(MediaError):
    message = N_("This file is not a photo we can read. Please upload a JPEG, PNG or WebP picture.")


class UnsupportedImage(MediaError):
    message = N_(
        "This kind of picture is not supported. Please upload an ordinary colour photo (JPEG, PNG or WebP)."
    )


class ImageTooLarge(MediaError):
    message = N_("This picture is too large. Please upload a smaller photo.")


class NotAVideo(MediaError):
    message = N_("This file is not a video we can read. Please record the clip again.")


class VideoTooLarge(MediaError):
    message = N_("This video's picture size is too large. Please record with your camera's usual settings.")


class ClipTooLong(MediaError):
    message = N_("This clip is too long. Please record a shorter clip.")


class NoVideoFrames(MediaError):
    message = N_(
        "This recording contains no video. Please check that your camera is allowed and record again."
    )


_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")
# The video containers we accept, in one place: EBML (webm/mkv) and Ogg by their first four
# bytes, ISO-BMFF (mp4/mov) by its `ftyp` box at byte 4, AVI as a RIFF file of form "AVI ".
_VIDEO_MAGIC = {b"\x1a\x45\xdf\xa3": "video/webm", b"OggS": "video/ogg"}
# The file extension each container's MIME type gets when a patient downloads their data.
VIDEO_EXTENSIONS = {"video/webm": ".webm", "video/mp4": ".mp4", "video/ogg": ".ogv",
                    "video/x-msvideo": ".avi"}


def sniff_media_kind(data: bytes) -> str | None:
    """Say whether bytes look like an "image" or a "video" from their magic numbers only."""
    head = data[:16]
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if video_type(head) is not None:
        return "video"
    return None


def video_type(data: bytes) -> str | None:
    """The MIME type of a video container, from its magic numbers; None if not a video."""
    head = data[:16]
    if head[:4] in _VIDEO_MAGIC:
        return _VIDEO_MAGIC[head[:4]]
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    return None


def decode_image(
    data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, long_side: int | None = None
) -> Image.Image:
    """Decode an uploaded photo into an upright RGB image that carries no metadata.

    `long_side`: the analysis never looks at more pixels than its detector's side, so a JPEG
    is decoded straight at the smallest DCT scale (1/2, 1/4, 1/8) whose long side is still at
    least this: a 1080p photo decodes in a third of the time, a 12 MP one in a tenth.
    """
    if not data:
        raise NotAnImage(N_("The file is empty."))
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
        raise UnsupportedImage(N_("Animated pictures are not supported. Please upload a single still photo."))
    if image.mode not in {"RGB", "RGBA", "L", "LA", "P", "CMYK", "YCbCr"}:
        # 16-bit, float and other scientific modes would need a tone mapping we cannot guess.
        raise UnsupportedImage()
    if long_side and max(image.size) > long_side:
        ratio = long_side / max(image.size)
        image.draft("RGB", (max(1, round(image.width * ratio)), max(1, round(image.height * ratio))))
    try:
        image.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise NotAnImage(N_("This photo is damaged or incomplete. Please upload it again.")) from exc
    rgb = _upright(image).convert("RGB")
    # A fresh image from raw pixels drops EXIF, ICC and text chunks (e.g. GPS location).
    return Image.frombytes("RGB", rgb.size, rgb.tobytes())


_ORIENTATION_TAG = 0x0112
_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation, as ImageOps.exif_transpose does, but without writing the EXIF
    back: Pillow re-serialises it and raises TypeError etc. on malformed tags (found by fuzzing)."""
    try:
        orientation = int(image.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:  # untrusted EXIF can fail in many ways; it is optional, the pixels are fine
        orientation = 1
    method = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    return image.transpose(method) if method is not None else image


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


def open_video(source: str | Path | bytes, max_frame_pixels: int = DEFAULT_MAX_FRAME_PIXELS):
    """Open a clip for reading. FFmpeg may decode a frame while probing the streams (when the
    container does not state the size): that decoder gets the pixel limit and one thread too."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    elif isinstance(source, Path):
        source = str(source)
    return av.open(source, mode="r", options={"max_pixels": _ffmpeg_limit(max_frame_pixels), "threads": "1"})


def _ffmpeg_limit(max_frame_pixels: int) -> str:
    return str(max_frame_pixels + _FFMPEG_ALIGNMENT_SLACK)


def decode_clip(
    source: str | Path | bytes,
    max_seconds: float = DEFAULT_MAX_CLIP_SECONDS,
    sample_every: int = 1,
    max_frame_pixels: int = DEFAULT_MAX_FRAME_PIXELS,
    threads: int = 0,
) -> Iterator[VideoFrame]:
    """Yield every `sample_every`-th decoded video frame of a clip with its timestamp.

    Frames are counted by decoding, since Chromium's webm carries no duration. The length
    limit is checked as frames arrive; `NoVideoFrames` is raised at the end when nothing
    could be decoded, so callers always either get frames or a `MediaError`. A frame larger
    than `max_frame_pixels` (also one that appears mid-stream) raises `VideoTooLarge` before
    its pixels exist. `threads=1` decodes on one thread (a probe in the web process: frame
    threading would hold one frame buffer per thread); 0 lets FFmpeg choose.
    """
    if sample_every < 1:
        raise ValueError("sample_every must be >= 1")
    if isinstance(source, bytes) and not source:
        raise NotAVideo(N_("The file is empty."))
    try:
        container = open_video(source, max_frame_pixels)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise NotAVideo() from exc
    with container:
        if not container.streams.video:
            raise NoVideoFrames()
        stream = container.streams.video[0]
        # The container's claim is checked before any decoding, each frame's own size below.
        context = stream.codec_context  # None when no decoder knows the codec: fails below
        if context is not None:
            if (context.width or 0) * (context.height or 0) > max_frame_pixels:
                raise VideoTooLarge()
            # Read by avcodec_open2 when decoding starts: every later frame header is checked
            # against it before a buffer is allocated.
            context.options = {**context.options, "max_pixels": _ffmpeg_limit(max_frame_pixels)}
            if threads:
                context.thread_count = threads
            else:
                context.thread_type = "AUTO"
        # One converter for the whole clip: `frame.to_ndarray(format=...)` builds a new swscale
        # context (with its slice threads) for every frame, which cost more than converting.
        # Same function, same pixels; one slice thread, since a worker owns one core. (RGBA out,
        # which Pillow could share without a copy, is wrong at some widths: not used.)
        reformatter = VideoReformatter()
        yielded = 0
        first_time: float | None = None
        last_time: float | None = None
        try:
            for index, frame in enumerate(container.decode(stream)):
                timestamp = _frame_time(frame, stream, index)
                if first_time is None:
                    first_time = timestamp
                timestamp -= first_time
                if timestamp > max_seconds:
                    raise ClipTooLong(
                        N_("This clip is longer than %(seconds)s seconds. Please record a shorter clip.",
                           seconds=format(max_seconds, "g"))
                    )
                if last_time is not None and timestamp <= last_time:
                    continue  # damaged timing (found by fuzzing): frames must move forward in time
                last_time = timestamp
                if frame.width * frame.height > max_frame_pixels:
                    raise VideoTooLarge()
                if index % sample_every == 0:
                    yielded += 1
                    rgb = reformatter.reformat(frame, format="rgb24", threads=1).to_ndarray()
                    yield VideoFrame(index, timestamp, rgb)
        except av.error.ArgumentError as exc:
            # EINVAL while opening or decoding: FFmpeg refused a frame size above max_pixels
            # (a clip that switches to huge frames is refused, not cut short and accepted).
            raise VideoTooLarge() from exc
        except (av.FFmpegError, OSError, ValueError) as exc:
            if yielded == 0:
                raise NotAVideo(N_("This recording is damaged. Please record the clip again.")) from exc
            # A webcam clip cut off mid-frame (tab closed while uploading) keeps its good part.
        if yielded == 0:
            raise NoVideoFrames()


def _frame_time(frame: av.VideoFrame, stream: av.video.stream.VideoStream, index: int) -> float:
    if frame.pts is not None and frame.time_base is not None:
        return float(frame.pts * frame.time_base)
    rate = float(stream.average_rate or stream.guessed_rate or 30)
    return index / rate


def probe_clip(data: bytes, max_seconds: float, max_frame_pixels: int) -> None:
    """Cheap checks at upload: a video stream, not obviously too long, first frame decodes.

    Packets are only demuxed (not decoded), so this costs milliseconds; the worker decodes
    every frame and catches what this cannot see (webm from Chromium has no duration).
    """
    try:
        with open_video(data, max_frame_pixels) as container:
            if not container.streams.video:
                raise NoVideoFrames()
            stream = container.streams.video[0]
            first = last = None
            for packet in container.demux(stream):
                if packet.pts is None or packet.time_base is None:
                    continue
                seconds = float(packet.pts * packet.time_base)
                first = seconds if first is None else min(first, seconds)
                last = seconds if last is None else max(last, seconds)
                if last - first > max_seconds + 0.5:
                    raise ClipTooLong(
                        N_("This clip is longer than %(seconds)s seconds. Please record a shorter clip.",
                           seconds=format(max_seconds, "g"))
                    )
    except MediaError:
        raise
    except (av.FFmpegError, OSError, ValueError, IndexError) as exc:
        raise NotAVideo(N_("This recording is damaged. Please record the clip again.")) from exc
    # One decoded frame proves the codec works (decode_clip raises MediaError otherwise); one
    # thread and FFmpeg's max_pixels keep a lying clip from ballooning the web process.
    next(decode_clip(data, max_seconds=max_seconds, max_frame_pixels=max_frame_pixels, threads=1), None)
