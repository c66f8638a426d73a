"""LiteRT serving must give the answers Keras gives: same faces, same probabilities, same screening.

Both runtimes run here on the same real photos and clips (scikit-image's astronaut and
camera, LFW crops); the Keras runtime is the reference.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from PIL import Image

from app.ml import mtcnn_litert
from app.ml.backends import KERAS, LITERT, get_face_detector
from app.ml.faces import aligned_crop, face_box_xyxy, face_eyes
from app.ml.pipeline import analyse_clip, analyse_photo
from app.plugins import DEFAULT_PLUGIN, get_plugin
from app.plugins import litert as litert_files
from app.plugins.base import ClassifierPlugin
from tests.samples import encode_clip

pytestmark = pytest.mark.slow


def sample_images(astronaut):
    from skimage import data

    return {
        "astronaut": astronaut,
        "camera": Image.fromarray(data.camera()).convert("RGB"),
        "astronaut-1080p": astronaut.resize((1080, 1080)).crop((0, 0, 1080, 1080)).resize((1920, 1080)),
        "coffee (no face)": Image.fromarray(data.coffee()),
    }


def sample_faces(astronaut, detector) -> np.ndarray:
    """Classifier inputs: jittered astronaut crops, the camera man, and real LFW faces."""
    from skimage import data

    face = detector.detect(astronaut).primary
    crops = [
        aligned_crop(astronaut, face_box_xyxy(face), face_eyes(face), size=64, zoom=zoom, shift=(dx, dy))
        for zoom in (0.8, 1.0, 1.2)
        for dx in (-0.08, 0.0, 0.08)
        for dy in (-0.08, 0.0, 0.08)
    ]
    lfw = data.lfw_subset()[:100]  # 25×25 grey faces in [0, 1]
    crops += [
        np.repeat(np.asarray(Image.fromarray((f * 255).astype(np.uint8)).resize((64, 64)))[..., None], 3, -1)
        for f in lfw
    ]
    return np.stack(crops)


def test_litert_probabilities_match_keras_within_1e3(pretrained, litert_pretrained, detector, astronaut):
    faces = sample_faces(astronaut, detector)
    keras_probabilities = pretrained.predict_batch(faces)
    litert_probabilities = litert_pretrained.predict_batch(faces)
    assert litert_probabilities.shape == keras_probabilities.shape == (len(faces), 7)
    assert np.abs(litert_probabilities - keras_probabilities).max() <= 1e-3
    assert np.allclose(litert_probabilities.sum(axis=1), 1.0)
    # One face at a time (a different batch shape) gives the same answer.
    assert np.abs(litert_pretrained.predict_batch(faces[:1]) - keras_probabilities[:1]).max() <= 1e-3


def test_litert_detector_finds_the_same_faces_as_keras(detector, litert_detector, astronaut):
    for name, image in sample_images(astronaut).items():
        keras_faces = detector.detect(image).to_dict()
        litert_faces = litert_detector.detect(image).to_dict()
        assert litert_faces == keras_faces, name


def test_litert_tracker_refines_like_keras(detector, litert_detector, astronaut):
    frames = np.stack([np.asarray(astronaut), np.asarray(astronaut.transform(astronaut.size, Image.AFFINE,
                                                                               (1, 0, 6, 0, 1, -4)))])
    box = face_box_xyxy(detector.detect(astronaut).primary)
    boxes = np.repeat(box[None], 2, axis=0)
    for keras_part, litert_part in zip(detector.refine(frames, boxes), litert_detector.refine(frames, boxes),
                                       strict=True):
        assert np.abs(keras_part - litert_part).max() < 1e-2


def test_photo_screening_result_is_the_same_with_either_runtime(
    detector, pretrained, litert_detector, litert_pretrained, astronaut_jpeg
):
    keras_result = analyse_photo(astronaut_jpeg, pretrained, detector)
    litert_result = analyse_photo(astronaut_jpeg, litert_pretrained, litert_detector)
    assert litert_result.primary_crop_jpeg == keras_result.primary_crop_jpeg
    assert _without_timings(litert_result.to_dict()) == _without_timings(keras_result.to_dict())


def test_clip_screening_result_is_the_same_with_either_runtime(
    detector, pretrained, litert_detector, litert_pretrained, astronaut, tmp_path
):
    path = tmp_path / "clip.webm"
    head = astronaut.crop((120, 0, 340, 230)).resize((220, 230))
    frames = []
    for i in range(30):
        frame = Image.new("RGB", (320, 240), (70, 80, 90))
        frame.paste(head, (50 + 2 * (i % 7), 5 + i % 3))
        frames.append(frame)
    encode_clip(path, frames, 15)
    keras_result = _without_timings(analyse_clip(path, pretrained, detector).to_dict())
    litert_result = _without_timings(analyse_clip(path, litert_pretrained, litert_detector).to_dict())
    assert litert_result["frames_with_face"] >= 25
    assert litert_result == keras_result


def _without_timings(result: dict) -> dict:
    result = json.loads(json.dumps(result))
    result.pop("timings_ms")
    return result


# --- missing or stale conversions: Keras serves, the reason is logged -------------------------


def test_missing_conversion_falls_back_to_keras_with_a_logged_reason(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        plugin = get_plugin(DEFAULT_PLUGIN, tmp_path, backend=LITERT)
        detector = get_face_detector(backend=LITERT, models_dir=tmp_path)
    assert plugin.runtime == KERAS and detector.backend == KERAS
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "served by Keras instead of LiteRT" in messages and "flask ml convert" in messages
    assert "no converted model" in messages


def test_stale_conversion_is_never_served(converted_models_dir, tmp_path, caplog):
    import shutil

    models = tmp_path / "models"
    shutil.copytree(converted_models_dir, models)
    plugin_copy = get_plugin(DEFAULT_PLUGIN, models, backend=KERAS).litert_path()
    # The source model "changed" since the conversion: the recorded checksum no longer matches.
    meta = json.loads(litert_files.sidecar(plugin_copy).read_text())
    litert_files.sidecar(plugin_copy).write_text(json.dumps({**meta, "source_sha256": "0" * 64}))
    # A stage file replaced behind the converter's back.
    onet = mtcnn_litert.cache_dir(models) / "onet.tflite"
    onet.write_bytes(onet.read_bytes()[:-16])
    with caplog.at_level(logging.WARNING):
        plugin = get_plugin(DEFAULT_PLUGIN, models, backend=LITERT)
        detector = get_face_detector(backend=LITERT, models_dir=models)
    assert plugin.runtime == KERAS and detector.backend == KERAS
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "stale: its source model changed" in messages
    assert "does not match its checksum" in messages
    # Converting again makes the copies current.
    assert get_plugin(DEFAULT_PLUGIN, models, backend=KERAS).convert_to_litert() == plugin_copy
    mtcnn_litert.convert_stages(models)
    assert plugin.litert_stale_reason() is None and mtcnn_litert.stale_reason(models) is None


class OwnRuntimePlugin(ClassifierPlugin):
    """A third-party plugin that ships only its own runtime (no Keras model, no LiteRT copy)."""

    name = "own-runtime-test"
    default_input_shape = (8, 8, 1)

    def unavailable_reason(self):
        return None

    def _load(self):
        pass

    def predict_batch(self, faces):
        return np.full((len(faces), 7), 1 / 7)


def test_a_plugin_with_only_its_own_runtime_ignores_the_litert_preference(tmp_path, detector, astronaut_jpeg):
    plugin = OwnRuntimePlugin(tmp_path)
    plugin.prefer_runtime(LITERT)
    plugin.load()
    assert plugin.runtime is None
    result = analyse_photo(astronaut_jpeg, plugin, detector)
    assert result.status == "one" and result.faces[0].probabilities["happy"] == pytest.approx(1 / 7)
