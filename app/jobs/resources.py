"""Heavy resources a worker loads once per process, before taking its first job.

The serving runtime is the deployment's `ML_BACKEND` (LiteRT by default): with converted
models present a worker never imports TensorFlow unless a job needs it (Grad-CAM, a
plugin that only has Keras, or a missing/stale conversion, which is logged).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from app.ml.backends import get_face_detector
from app.plugins.registry import deployment_plugins, get_plugin
from app.services.plugin_settings import default_plugin_name

log = logging.getLogger(__name__)


def face_detector(config: Mapping):
    """The process-wide face detector for this deployment's settings."""
    return get_face_detector(
        int(config["FACE_MAX_SIDE"]),
        config["ML_BACKEND"],
        Path(config["ML_MODELS_DIR"]).resolve(),
    )


def classifier(config: Mapping, name: str):
    """The process-wide instance of plugin `name` served by this deployment's runtime, if the
    deployment allows it (ALLOWED_PLUGINS). Raises `UnknownPlugin` or `PluginUnavailable`."""
    return get_plugin(name, config["ML_MODELS_DIR"], set(deployment_plugins()), backend=config["ML_BACKEND"])


def preload(app: Flask) -> None:
    """Load the face detector and the default classifier so the first job is not a cold start."""
    with app.app_context():
        face_detector(app.config)
        name = default_plugin_name()
        try:
            classifier(app.config, name)
        except Exception as exc:  # an unavailable plugin must not keep the worker from starting
            log.warning("default plugin %s not preloaded: %s", name, exc)
