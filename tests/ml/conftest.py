"""Fixtures for the face-analysis tests: real photos from scikit-image, synthetic FER data.

These tests need no Flask app: `app/ml` and `app/plugins` are pure computation.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests import samples


@pytest.fixture(scope="session")
def astronaut() -> Image.Image:
    return samples.astronaut()


@pytest.fixture(scope="session")
def astronaut_jpeg(astronaut) -> bytes:
    buffer = io.BytesIO()
    astronaut.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def detector():
    """The Keras (TensorFlow) detector: the reference the LiteRT one must match."""
    from app.ml.backends import KERAS, get_face_detector

    return get_face_detector(backend=KERAS)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def pretrained(models_dir):
    from app.plugins import DEFAULT_PLUGIN, get_plugin

    return get_plugin(DEFAULT_PLUGIN, models_dir)


@pytest.fixture(scope="session")
def converted_models_dir(models_dir, pretrained):
    """`models_dir` after `flask ml convert`'s work: LiteRT copies of MTCNN and the pretrained model."""
    from app.ml import mtcnn_litert

    mtcnn_litert.convert_stages(models_dir)
    pretrained.convert_to_litert()
    return models_dir


@pytest.fixture(scope="session")
def litert_detector(converted_models_dir):
    from app.ml.backends import LITERT, get_face_detector

    detector = get_face_detector(backend=LITERT, models_dir=converted_models_dir)
    assert detector.backend == LITERT
    return detector


@pytest.fixture(scope="session")
def litert_pretrained(converted_models_dir):
    from app.plugins import DEFAULT_PLUGIN, get_plugin
    from app.plugins.base import LITERT

    plugin = get_plugin(DEFAULT_PLUGIN, converted_models_dir, backend=LITERT)
    assert plugin.runtime == LITERT
    return plugin
