"""Real MTCNN and the real pretrained FER2013 model on real photos shipped by scikit-image."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from app.ml.pipeline import analyse_clip, analyse_photo
from tests.samples import encode_clip

pytestmark = pytest.mark.slow


def test_astronaut_face_is_found_with_plausible_box(detector, astronaut):
    detection = detector.detect(astronaut)
    assert detection.status == "one"
    x, y, w, h = detection.primary.box
    # The face sits around x 180–265, y 60–175 in the 512×512 photo.
    assert 160 < x < 200 and 40 < y < 90 and 70 < w < 110 and 90 < h < 140
    assert detection.primary.confidence > 0.95
    eyes = detection.primary.keypoints
    assert eyes["left_eye"][0] < eyes["right_eye"][0]
    assert all(type(v) is int for point in eyes.values() for v in point)


def test_boxes_map_back_from_downscaled_detection(detector, astronaut):
    large = astronaut.resize((1024, 1024))
    face = detector.detect(large).primary
    small = detector.detect(astronaut).primary
    assert np.allclose(np.array(face.box) / 2, small.box, atol=8)


def test_photo_analysis_smiling_astronaut_is_happy(detector, pretrained, astronaut_jpeg):
    result = analyse_photo(astronaut_jpeg, pretrained, detector)
    assert result.status == "one"
    face = result.faces[0]
    assert sum(face.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert max(face.probabilities, key=face.probabilities.get) == "happy"
    assert result.summary.indicator < 30
    data = result.to_dict()
    json.dumps(data)
    assert set(data["timings_ms"]) >= {"decode", "detect", "crop", "classify", "total"}
    assert result.primary_crop_jpeg[:3] == b"\xff\xd8\xff"


def test_image_without_face_reports_no_face(detector, pretrained):
    from skimage import data

    result = analyse_photo(Image.fromarray(data.coffee()), pretrained, detector)
    assert result.status == "none" and result.faces == [] and result.summary is None
    assert result.to_dict()["summary"] is None


def test_generated_clip_yields_per_frame_results(detector, pretrained, astronaut, tmp_path):
    head = astronaut.crop((120, 0, 340, 230)).resize((220, 230))
    path = tmp_path / "webcam.webm"
    frames = []
    for i in range(45):
        frame = Image.new("RGB", (320, 240), (70, 80, 90))
        frame.paste(head, (50 + i % 5, 5))  # a little sway, as in a real webcam clip
        frames.append(frame)
    encode_clip(path, frames, 15)
    calls = []
    result = analyse_clip(path, pretrained, detector, progress=lambda f, m: calls.append(f))
    assert result.status == "one"
    assert len(result.frames) == 45 and result.frames_with_face >= 40
    assert result.detections < 10  # tracked, not detected on every frame
    timestamps = [f.timestamp for f in result.frames]
    assert timestamps == sorted(timestamps) and timestamps[-1] == pytest.approx(44 / 15, abs=0.05)
    assert result.summary.distribution["happy"] > 0.5
    assert result.summary.samples == result.frames_with_face
    assert calls[0] == 0.0 and calls[-1] == 1.0 and calls == sorted(calls)
    json.dumps(result.to_dict())
