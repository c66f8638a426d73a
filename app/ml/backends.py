"""Which runtime serves the networks: LiteRT (serving default) or Keras (training, Grad-CAM, fallback).

The pipeline asks for "a detector" and "a classifier" and never looks at the runtime.
LiteRT is used only where a converted copy matches its source's checksum; otherwise the
Keras runtime serves and the reason is logged, so a stale file can never give an answer.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from app.ml.faces import DEFAULT_MAX_SIDE, FaceDetector
from app.plugins.base import BACKENDS, KERAS, LITERT

log = logging.getLogger(__name__)


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"unknown inference backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return backend


@lru_cache(maxsize=4)
def get_face_detector(
    max_side: int = DEFAULT_MAX_SIDE, backend: str = KERAS, models_dir: Path | None = None
) -> FaceDetector:
    """The process-wide detector for these settings (built once: loads weights, plans graphs).

    `backend=LITERT` needs the converted stages under `models_dir` (`flask ml convert`);
    without current ones the Keras detector serves instead and the reason is logged.
    """
    if check_backend(backend) == LITERT:
        from app.ml import mtcnn_litert  # deferred: a Keras-only deployment never loads LiteRT

        reason = "no models folder given" if models_dir is None else mtcnn_litert.stale_reason(models_dir)
        if reason is None:
            return mtcnn_litert.LiteRTFaceDetector(models_dir, max_side=max_side)
        log.warning("face detector served by Keras instead of LiteRT: %s", reason)
    from app.ml.mtcnn_keras import KerasFaceDetector  # deferred: the mtcnn package loads TensorFlow

    return KerasFaceDetector(max_side=max_side)
