"""Rendering a PDF must not make the upload decoder lenient (WeasyPrint flips a Pillow global)."""

import io

import numpy as np
import pytest
from PIL import Image

from app.ml.media import NotAnImage, decode_image
from app.services.reports import render_pdf


def test_truncated_jpeg_is_still_refused_after_a_pdf_was_rendered():
    buffer = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 255, (128, 128, 3), dtype=np.uint8)
    Image.fromarray(noise).save(buffer, "JPEG")
    truncated = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    assert render_pdf("<p>report</p>", base_url=".").startswith(b"%PDF")
    with pytest.raises(NotAnImage):
        decode_image(truncated)
