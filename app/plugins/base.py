"""The classifier plugin contract: faces in, FER2013 emotion probabilities out."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np

FER_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# Classes whose probability mass the facial-affect indicator and Grad-CAM treat as negative.
NEGATIVE_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "sad")
MODEL_FILE = "model.keras"
CARD_FILE = "model_card.json"
EVALUATION_FILE = "evaluation.json"
# Runtimes that can serve a model: LiteRT (serving default, no TensorFlow) and Keras.
LITERT = "litert"
KERAS = "keras"
BACKENDS = (LITERT, KERAS)


class PluginUnavailable(RuntimeError):
    """The plugin cannot run here (no trained weights, missing dependency)."""


class ClassifierPlugin(ABC):
    """A facial-expression classifier. Instances are cheap until `load()` is called.

    Subclasses set `name`, `labels`, `default_input_shape` and implement
    `unavailable_reason`, `_load` and `predict_batch`; each owns its preprocessing.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    labels: ClassVar[tuple[str, ...]] = FER_LABELS
    default_input_shape: ClassVar[tuple[int, int, int]]
    # True when the weights come as folders models_dir/<name>/<version>/ among which an admin
    # chooses the one that serves; such a class also takes `version=` (its folder name).
    versioned: ClassVar[bool] = False

    def __init__(self, models_dir: str | Path):
        self.models_dir = Path(models_dir)
        self._loaded = False
        # What serves the loaded model, for the logs and the benchmark; a plugin with a
        # runtime of its own may name it or leave it None.
        self.runtime: str | None = None

    def prefer_runtime(self, backend: str) -> None:
        """The deployment's serving runtime (LITERT or KERAS), said before `load()`.

        A hint: plugins that have a single runtime (e.g. third-party ones shipping only
        Keras) ignore it, so the seam never requires LiteRT.
        """
        return None

    @property
    def version(self) -> str | None:
        """Version of the weights this instance uses; None when there are none."""
        return None

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.default_input_shape

    @abstractmethod
    def unavailable_reason(self) -> str | None:
        """Why the plugin cannot run (with the command that fixes it), or None."""

    def available(self) -> bool:
        return self.unavailable_reason() is None

    def load(self) -> ClassifierPlugin:
        """Load weights once; later calls are free."""
        if not self._loaded:
            reason = self.unavailable_reason()
            if reason is not None:
                raise PluginUnavailable(reason)
            self._load()
            self._loaded = True
        return self

    @property
    def loaded(self) -> bool:
        return self._loaded

    @abstractmethod
    def _load(self) -> None: ...

    @abstractmethod
    def predict_batch(self, faces: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """Probabilities (n, len(labels)) for n face crops (RGB uint8 (h, w, 3) or grey (h, w))."""

    def weights_dir(self) -> Path | None:
        """Folder of this version's model card and evaluation files, if any."""
        return None

    def model_card(self) -> dict:
        """What the admin page shows: source, data, metrics, limits."""
        card: dict = {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "labels": list(self.labels),
            "input_shape": list(self.input_shape),
            "available": self.available(),
            "unavailable_reason": self.unavailable_reason(),
        }
        folder = self.weights_dir()
        for filename, key in ((CARD_FILE, None), (EVALUATION_FILE, "evaluation")):
            path = folder / filename if folder else None
            if path is not None and path.is_file():
                data = json.loads(path.read_text())
                card.update(data if key is None else {key: data})
        return card
