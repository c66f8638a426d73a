"""The media samples are what they claim to be, so a broken sample cannot make a bad-input test
pass by accident."""

from __future__ import annotations

import io
import warnings

from PIL import Image

from app.ml.media import sniff_media_kind
from tests.samples import (
    animated_gif,
    astronaut_jpeg,
    bomb_png,
    clip_webm,
    cmyk_jpeg,
    corrupt_webm,
    png_16bit,
)


def test_samples_are_what_they_claim():
    assert Image.open(io.BytesIO(astronaut_jpeg())).getexif().get(0x8825)
    assert sniff_media_kind(clip_webm(seconds=0.5)) == "video"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        assert Image.open(io.BytesIO(bomb_png())).size == (12_000, 12_000)
    assert Image.open(io.BytesIO(png_16bit())).mode.startswith("I")
    assert Image.open(io.BytesIO(cmyk_jpeg())).mode == "CMYK"
    assert Image.open(io.BytesIO(animated_gif())).n_frames == 2
    assert sniff_media_kind(corrupt_webm()) == "video"
