"""Grad-CAM overlays, rendered when a doctor first opens one — not during the analysis.

The analysis stores the display crop of the primary face (encrypted JPEG); this job reads it
back, differentiates the screening's classifier through its Keras model and stores the
overlay encrypted beside it. Only this job (and training) makes a worker import TensorFlow
when LiteRT serves the analyses; a patient's result never waits for it.
"""

from __future__ import annotations

import io
import logging

import numpy as np
from flask import current_app
from PIL import Image

from app.extensions import db
from app.jobs.resources import classifier
from app.ml.gradcam import gradcam_heatmap, overlay_png, supports_gradcam
from app.models.screening import Screening, ScreeningStatus
from app.plugins.registry import PluginUnavailable, UnknownPlugin
from app.storage import media_store

log = logging.getLogger(__name__)

DONE = "done"
UNAVAILABLE = "unavailable"  # no face crop, or a classifier without a Keras model
GONE = "deleted"


def render_activation_map(screening_id: int) -> str:
    """Render and store the screening's Grad-CAM overlay; returns DONE, UNAVAILABLE or GONE."""
    screening = db.session.get(Screening, screening_id)
    if screening is None:
        return GONE
    if screening.gradcam_path:
        return DONE
    if screening.status is not ScreeningStatus.DONE or not screening.crop_path:
        return UNAVAILABLE
    config = current_app.config
    try:
        plugin = classifier(config, screening.plugin_name, screening.plugin_version)
    except (UnknownPlugin, PluginUnavailable):
        log.warning("screening %s: classifier %s gone, no map", screening_id, screening.plugin_name)
        return UNAVAILABLE
    if not supports_gradcam(plugin):
        return UNAVAILABLE
    crop = np.asarray(Image.open(io.BytesIO(media_store.load(screening.crop_path))).convert("RGB"))
    png = overlay_png(crop, gradcam_heatmap(plugin, crop))
    # Read afresh: the account may have been deleted meanwhile; then nothing is stored.
    screening = db.session.get(Screening, screening_id, populate_existing=True)
    if screening is None:
        return GONE
    path = media_store.save(png, media_store.patient_media_folder(screening.patient_id), ".gradcam.png")
    try:
        screening.gradcam_path = path
        db.session.commit()
    except Exception:
        db.session.rollback()
        media_store.delete(path)
        raise
    return DONE
