"""Decoding untrusted uploads: good media decodes, bad media raises a typed MediaError."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from PIL import Image

from app.ml.media import (
    ClipTooLong,
    ImageTooLarge,
    MediaError,
    NotAnImage,
    NotAVideo,
    NoVideoFrames,
    UnsupportedImage,
    decode_clip,
    decode_image,
    reencode_jpeg,
    sniff_media_kind,
)
from tests.samples import encode_clip


def _png(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def _animated_gif() -> bytes:
    buffer = io.BytesIO()
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "blue")]
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def write_clip(path, frames: int = 20, size=(64, 48), rate: int = 10, codec: str = "libvpx-vp9") -> None:
    """Flat grey frames, a little brighter each time (enough for the timing and size checks)."""
    pixels = (np.full((size[1], size[0], 3), (i * 10) % 255, np.uint8) for i in range(frames))
    encode_clip(path, pixels, rate, codec)


def test_decodes_jpeg_to_rgb_without_metadata(astronaut_jpeg):
    image = decode_image(astronaut_jpeg)
    assert image.mode == "RGB" and image.size == (512, 512)
    assert not image.info and not image.getexif()


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(buffer, format="JPEG", exif=exif.tobytes())
    image = decode_image(buffer.getvalue())
    assert image.size == (20, 40)
    assert "exif" not in image.info


def test_reencoded_jpeg_carries_no_metadata(astronaut):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    data = reencode_jpeg(decode_image(_png(astronaut, exif=exif.tobytes())))
    assert data[:3] == b"\xff\xd8\xff"
    assert b"PhoneMaker" not in data and b"Exif" not in data


def test_cmyk_jpeg_is_converted_to_rgb():
    buffer = io.BytesIO()
    Image.new("CMYK", (30, 30), (0, 255, 255, 0)).save(buffer, format="JPEG")
    image = decode_image(buffer.getvalue())
    assert image.mode == "RGB"
    red, green, blue = image.getpixel((15, 15))
    assert red > 200 and green < 60 and blue < 60


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda jpeg: b"", NotAnImage),
        (lambda jpeg: b"Hello, this is not a photo\n" * 10, NotAnImage),
        (lambda jpeg: jpeg[: len(jpeg) // 2], NotAnImage),
        (lambda jpeg: _png(Image.new("1", (8000, 8000))), ImageTooLarge),
        (lambda jpeg: _png(Image.fromarray(np.full((16, 16), 40000, np.uint16))), UnsupportedImage),
        (lambda jpeg: _animated_gif(), UnsupportedImage),
    ],
    ids=["zero-bytes", "text", "truncated-jpeg", "decompression-bomb", "16-bit-png", "animated-gif"],
)
def test_bad_images_raise_typed_errors(astronaut_jpeg, make, error):
    with pytest.raises(error) as caught:
        decode_image(make(astronaut_jpeg))
    assert isinstance(caught.value, MediaError)
    assert caught.value.message and caught.value.message.endswith(".")


def test_sniffs_kind_from_content(astronaut_jpeg, tmp_path):
    clip = tmp_path / "c.webm"
    write_clip(clip, frames=3)
    assert sniff_media_kind(astronaut_jpeg) == "image"
    assert sniff_media_kind(_png(Image.new("RGB", (2, 2)))) == "image"
    assert sniff_media_kind(clip.read_bytes()) == "video"
    assert sniff_media_kind(b"%PDF-1.7") is None
    assert sniff_media_kind(b"") is None


def test_clip_frames_are_counted_by_decoding(tmp_path):
    clip = tmp_path / "c.webm"
    write_clip(clip, frames=20, rate=10)
    frames = list(decode_clip(clip, sample_every=3))
    assert [f.index for f in frames] == list(range(0, 20, 3))
    assert frames[1].timestamp == pytest.approx(0.3, abs=0.02)
    assert frames[0].rgb.shape == (48, 64, 3)
    assert len(list(decode_clip(clip.read_bytes()))) == 20


def test_clip_length_limit(tmp_path):
    clip = tmp_path / "c.webm"
    write_clip(clip, frames=30, rate=10)
    with pytest.raises(ClipTooLong):
        list(decode_clip(clip, max_seconds=2.0))


def test_corrupt_webm_raises_not_a_video(tmp_path):
    clip = tmp_path / "c.webm"
    write_clip(clip, frames=5)
    data = clip.read_bytes()
    corrupt = data[:4] + bytes(len(data) - 4)
    with pytest.raises((NotAVideo, NoVideoFrames)):
        list(decode_clip(corrupt))
    with pytest.raises(NotAVideo):
        list(decode_clip(b"not a video at all"))
    with pytest.raises(NotAVideo):
        list(decode_clip(b""))


def test_audio_only_file_raises_no_video_frames(tmp_path):
    path = tmp_path / "voice.webm"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libopus", rate=48000)
        samples = np.zeros((1, 960), np.int16)
        for _ in range(10):
            frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
            frame.sample_rate = 48000
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with pytest.raises(NoVideoFrames) as caught:
        list(decode_clip(path))
    assert "camera" in caught.value.message
