"""Grad-CAM towards negative affect on the pretrained model."""

from __future__ import annotations

import numpy as np
import pytest

from app.ml.faces import aligned_crop, face_box_xyxy, face_eyes
from app.ml.gradcam import gradcam_heatmap, overlay_png

pytestmark = pytest.mark.slow


def test_heatmap_shape_range_and_dependence_on_input(pretrained, detector, astronaut):
    face = detector.detect(astronaut).primary
    crop = aligned_crop(astronaut, face_box_xyxy(face), face_eyes(face), size=96)
    heatmap = gradcam_heatmap(pretrained, crop)
    assert heatmap.shape == (96, 96) and heatmap.dtype == np.float32
    assert heatmap.min() >= 0.0 and heatmap.max() == pytest.approx(1.0, abs=0.05)
    other = gradcam_heatmap(pretrained, np.ascontiguousarray(crop[:, ::-1]))
    assert np.abs(heatmap - other).mean() > 0.01
    png = overlay_png(crop, heatmap)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
