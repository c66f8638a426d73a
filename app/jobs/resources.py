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
from app.services.plugin_settings import default_plugin_name, serving_version

log = logging.getLogger(__name__)


def face_detector(config: Mapping):
    """The process-wide face detector for this deployment's settings."""
    return get_face_detector(
        int(config["FACE_MAX_SIDE"]),
        config["ML_BACKEND"],
        Path(config["ML_MODELS_DIR"]).resolve(),
    )


def classifier(config: Mapping, name: str, recorded_version: str | None = None):
    """The process-wide instance of plugin `name`, served by this deployment's runtime.

    A trained plugin loads the version an admin chose to serve, read from the database on every
    call so a new choice applies from the next job; or, given the `recorded_version` a past
    screening used (its Grad-CAM), that one. Raises `UnknownPlugin` or `PluginUnavailable`.
    """
    plugin_class = deployment_plugins().get(name)
    if recorded_version and plugin_class is not None and plugin_class.versioned:
        version = recorded_version
    else:
        version = serving_version(name)
    return get_plugin(name, config["ML_MODELS_DIR"], backend=config["ML_BACKEND"], version=version)


def preload(app: Flask) -> None:
    """Load the face detector and the default classifier so the first job is not a cold start."""
    with app.app_context():
        face_detector(app.config)
        name = default_plugin_name()
        try:
            classifier(app.config, name)
        except Exception as exc:  # an unavailable plugin must not keep the worker from starting
            log.warning("default plugin %s not preloaded: %s", name, exc)
