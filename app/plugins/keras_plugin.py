"""Shared machinery of the Keras classifiers: preprocessing graph, compiled inference."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image

from app.plugins.base import MODEL_FILE, ClassifierPlugin

# Large enough to amortise the call overhead, small enough to bound memory at 224 px.
_BATCH = 128


class KerasClassifierPlugin(ClassifierPlugin):
    """A plugin whose network is a Keras model (which is also what Grad-CAM needs)."""

    # (low, high) range the model expects its pixels in.
    pixel_range: ClassVar[tuple[float, float]] = (0.0, 1.0)

    def __init__(self, models_dir: str | Path):
        super().__init__(models_dir)
        self.model = None
        self._infer = None

    @property
    def input_shape(self) -> tuple[int, int, int]:
        if self.model is not None:
            return tuple(int(d) for d in self.model.input_shape[1:])
        return self.default_input_shape

    @abstractmethod
    def model_path(self) -> Path | None:
        """The `.keras`/`.h5` file to load."""

    def _load(self) -> None:
        import keras
        import tensorflow as tf

        self.model = keras.saving.load_model(self.model_path(), compile=False)
        model = self.model

        # One compiled graph per input shape; `predict()` would add ~50 ms per call.
        @tf.function(reduce_retracing=True)
        def infer(batch):
            return model(self.preprocess_tensor(batch), training=False)

        self._infer = infer

    def preprocess_tensor(self, batch):
        """uint8 (n, h, w, c) → the model's input; traced inside TF graphs (also in training)."""
        import tensorflow as tf

        height, width, channels = self.input_shape
        images = tf.cast(batch, tf.float32)
        if images.shape[-1] == 3 and channels == 1:
            images = tf.image.rgb_to_grayscale(images)
        elif images.shape[-1] == 1 and channels == 3:
            images = tf.image.grayscale_to_rgb(images)
        if tuple(images.shape[1:3]) != (height, width):
            images = tf.image.resize(images, (height, width), method="bilinear", antialias=True)
        low, high = self.pixel_range
        return images / 255.0 * (high - low) + low

    def stack_faces(self, faces: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """Same-sized uint8 (n, h, w, c) from crops that may differ in size or be grey."""
        arrays = [np.asarray(face) for face in faces]
        arrays = [a[..., None] if a.ndim == 2 else a for a in arrays]
        size = arrays[0].shape[:2] if arrays else self.input_shape[:2]
        if any(a.shape[:2] != size for a in arrays):
            size = self.input_shape[:2]
            arrays = [
                np.asarray(
                    Image.fromarray(a.squeeze(-1) if a.shape[-1] == 1 else a).resize(
                        size[::-1], Image.BILINEAR
                    )
                )
                for a in arrays
            ]
            arrays = [a[..., None] if a.ndim == 2 else a for a in arrays]
        channels = {a.shape[-1] for a in arrays}
        if len(channels) > 1:
            arrays = [np.repeat(a, 3, axis=-1) if a.shape[-1] == 1 else a for a in arrays]
        return np.stack(arrays).astype(np.uint8) if arrays else np.zeros((0, *size, 3), np.uint8)

    def predict_batch(self, faces: list[np.ndarray] | np.ndarray) -> np.ndarray:
        self.load()
        batch = self.stack_faces(faces)
        if not len(batch):
            return np.zeros((0, len(self.labels)), np.float32)
        parts = [self._infer(batch[i : i + _BATCH]).numpy() for i in range(0, len(batch), _BATCH)]
        probabilities = np.concatenate(parts).astype(np.float64)
        # Renormalise: float32 softmax sums drift by ~1e-7 and callers rely on exact sums.
        return probabilities / probabilities.sum(axis=1, keepdims=True)


class TrainableKerasPlugin(KerasClassifierPlugin):
    """A Keras plugin whose weights come from `flask ml train` into models_dir/<name>/<version>/."""

    @abstractmethod
    def build_model(self, input_shape: tuple[int, int, int] | None = None, **options):
        """A fresh, compiled, untrained Keras model (the trainer fits it)."""

    def __init__(self, models_dir: str | Path):
        super().__init__(models_dir)
        self._pinned_dir: Path | None = None

    def _load(self) -> None:
        # Pin the version: a newer training run must not change a loaded plugin's card.
        self._pinned_dir = self.weights_dir()
        super()._load()

    def _versions(self) -> list[Path]:
        folder = self.models_dir / self.name
        if not folder.is_dir():
            return []
        # Versions are UTC timestamps, so the lexicographically last one is the newest.
        return sorted(p for p in folder.iterdir() if (p / MODEL_FILE).is_file())

    def weights_dir(self) -> Path | None:
        if self._pinned_dir is not None:
            return self._pinned_dir
        versions = self._versions()
        return versions[-1] if versions else None

    @property
    def version(self) -> str | None:
        folder = self.weights_dir()
        return folder.name if folder else None

    def model_path(self) -> Path | None:
        folder = self.weights_dir()
        return folder / MODEL_FILE if folder else None

    def unavailable_reason(self) -> str | None:
        if self.weights_dir() is None:
            return (
                f"No trained model in {self.models_dir / self.name}. "
                f"Train one with: flask ml train {self.name} --data PATH/TO/FER2013"
            )
        return None
