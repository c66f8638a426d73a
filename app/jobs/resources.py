"""Heavy resources a worker loads once per process, before taking its first job."""

from __future__ import annotations

import logging

from flask import Flask

log = logging.getLogger(__name__)


def preload(app: Flask) -> None:
    """Load the face detector and the default classifier so the first job is not a cold start."""
    from app.ml.faces import get_face_detector
    from app.plugins.registry import get_plugin
    from app.services.plugin_settings import default_plugin_name

    with app.app_context():
        get_face_detector(max_side=app.config["FACE_MAX_SIDE"])
        name = default_plugin_name()
        try:
            get_plugin(name, app.config["ML_MODELS_DIR"])
        except Exception as exc:  # an unavailable plugin must not keep the worker from starting
            log.warning("default plugin %s not preloaded: %s", name, exc)
