"""Fixtures for the face-analysis tests: real photos from scikit-image, synthetic FER data.

These tests need no Flask app: `app/ml` and `app/plugins` are pure computation.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image


@pytest.fixture(scope="session")
def astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())


@pytest.fixture(scope="session")
def astronaut_jpeg(astronaut) -> bytes:
    buffer = io.BytesIO()
    astronaut.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def detector():
    from app.ml.faces import get_face_detector

    return get_face_detector()


@pytest.fixture(scope="session")
def pretrained(tmp_path_factory):
    from app.plugins import DEFAULT_PLUGIN, get_plugin

    return get_plugin(DEFAULT_PLUGIN, tmp_path_factory.mktemp("models"))
