"""Shared machinery of the Keras classifiers: preprocessing, compiled or LiteRT inference.

A Keras plugin is served by LiteRT when asked to (`prefer_runtime(LITERT)`) and a float32
copy converted from this very model file sits beside its version (`model.tflite`, with
the source's checksum); otherwise by a compiled Keras function, with the reason logged.
Grad-CAM and training always use the Keras model (`keras_model()`).
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image

from app.plugins import litert
from app.plugins.base import KERAS, LITERT, MODEL_FILE, ClassifierPlugin

# Large enough to amortise the call overhead, small enough to bound memory at 224 px.
_BATCH = 128
LITERT_FILE = "model.tflite"
# tf.image.rgb_to_grayscale's weights: the LiteRT path must feed the model the same pixels.
_GREY_WEIGHTS = np.array([0.2989, 0.5870, 0.1140], np.float32)

log = logging.getLogger(__name__)


class KerasClassifierPlugin(ClassifierPlugin):
    """A plugin whose network is a Keras model (which is also what Grad-CAM needs)."""

    # (low, high) range the model expects its pixels in.
    pixel_range: ClassVar[tuple[float, float]] = (0.0, 1.0)

    def __init__(self, models_dir: str | Path):
        super().__init__(models_dir)
        self.model = None
        self._infer = None
        self._preferred = KERAS
        self._litert: litert.LiteRTModel | None = None

    @property
    def input_shape(self) -> tuple[int, int, int]:
        if self.model is not None:
            return tuple(int(d) for d in self.model.input_shape[1:])
        if self._litert is not None:
            return tuple(int(d) for d in self._litert.input_shape[1:])
        return self.default_input_shape

    @abstractmethod
    def model_path(self) -> Path | None:
        """The `.keras`/`.h5` file to load."""

    def prefer_runtime(self, backend: str) -> None:
        if backend not in (LITERT, KERAS):
            raise ValueError(f"unknown runtime {backend!r}")
        self._preferred = backend

    # --- the LiteRT copy ------------------------------------------------------------------

    def litert_path(self) -> Path | None:
        """Where this version's LiteRT copy lives: beside its model card, or None without a version."""
        folder = self.weights_dir()
        return folder / LITERT_FILE if folder else None

    def litert_stale_reason(self) -> str | None:
        """Why the LiteRT copy cannot serve this model, or None when it is current."""
        path, source = self.litert_path(), self.model_path()
        if path is None or source is None:
            return "the model has no version folder to keep a converted copy in"
        return litert.stale_reason(path, litert.source_digest([source]))

    def convert_to_litert(self, quantization: str = litert.FLOAT32, path: Path | None = None) -> Path:
        """Write the LiteRT copy of this model (imports TensorFlow); returns its path."""
        model = self.keras_model()
        target = path or self.litert_path()
        if target is None:
            raise ValueError(f"{self.name} has no version folder to keep a converted copy in")
        flatbuffer = litert.convert(
            lambda batch: model(batch, training=False), [None, *self.input_shape], quantization
        )
        return litert.write_converted(
            target,
            flatbuffer,
            litert.source_digest([self.model_path()]),
            quantization,
            source=Path(self.model_path()).name,
            converter=litert.converter_version(),
        )

    # --- loading ------------------------------------------------------------------------

    def _load(self) -> None:
        if self._preferred == LITERT:
            reason = self.litert_stale_reason()
            if reason is None:
                self._litert = litert.LiteRTModel(self.litert_path(), max_batch=16)
                self.runtime = LITERT
                return
            log.warning(
                "classifier %s %s served by Keras instead of LiteRT: %s", self.name, self.version, reason
            )
        self.keras_model()
        self.runtime = KERAS

    def keras_model(self):
        """The Keras model with its compiled inference function, loaded on first use (imports TF)."""
        if self.model is not None:
            return self.model
        import keras
        import tensorflow as tf

        self.model = keras.saving.load_model(self.model_path(), compile=False)
        model = self.model

        # One compiled graph per input shape; `predict()` would add ~50 ms per call.
        @tf.function(reduce_retracing=True)
        def infer(batch):
            return model(self.preprocess_tensor(batch), training=False)

        self._infer = infer
        return model

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

    def preprocess_array(self, batch: np.ndarray) -> np.ndarray:
        """NumPy twin of `preprocess_tensor` for the LiteRT runtime (crops at the model's size).

        Crops of another size are resized with Pillow here (TF's antialiased resize in the
        Keras path); the pipeline always crops at the model's size, so it never gets there.
        """
        height, width, channels = self.input_shape
        if batch.shape[1:3] != (height, width):
            batch = np.stack(
                [
                    np.asarray(Image.fromarray(a.squeeze(-1) if a.shape[-1] == 1 else a).resize(
                        (width, height), Image.BILINEAR
                    )).reshape(height, width, -1)
                    for a in batch
                ]
            )
        images = batch.astype(np.float32)
        if images.shape[-1] == 3 and channels == 1:
            images = (images @ _GREY_WEIGHTS)[..., None]
        elif images.shape[-1] == 1 and channels == 3:
            images = np.repeat(images, 3, axis=-1)
        low, high = self.pixel_range
        return images / np.float32(255.0) * np.float32(high - low) + np.float32(low)

    def predict_batch(self, faces: list[np.ndarray] | np.ndarray) -> np.ndarray:
        self.load()
        batch = self.stack_faces(faces)
        if not len(batch):
            return np.zeros((0, len(self.labels)), np.float32)
        chunks = [batch[i : i + _BATCH] for i in range(0, len(batch), _BATCH)]
        if self._litert is not None:
            parts = [self._litert(self.preprocess_array(chunk))[0] for chunk in chunks]
        else:
            parts = [self._infer(chunk).numpy() for chunk in chunks]
        probabilities = np.concatenate(parts).astype(np.float64)
        # Renormalise: float32 softmax sums drift by ~1e-7 and callers rely on exact sums.
        return probabilities / probabilities.sum(axis=1, keepdims=True)


class TrainableKerasPlugin(KerasClassifierPlugin):
    """A Keras plugin whose weights come from `flask ml train` into models_dir/<name>/<version>/."""

    @abstractmethod
    def build_model(self, input_shape: tuple[int, int, int] | None = None, **options):
        """A fresh, compiled, untrained Keras model (the trainer fits it)."""

    @staticmethod
    def compiled(model, learning_rate: float):
        """`model` compiled the way every trainable plugin learns the FER classes (one-hot labels)."""
        import keras

        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    versioned = True

    def __init__(self, models_dir: str | Path, version: str | None = None):
        super().__init__(models_dir)
        # The version asked for (the serving one); None: the newest on disk, pinned at load.
        self.requested_version = version
        self._pinned_dir: Path | None = self.models_dir / self.name / version if version else None

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
            return self._pinned_dir if (self._pinned_dir / MODEL_FILE).is_file() else None
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
        if self.weights_dir() is None and self.requested_version:
            return (
                f"Version {self.requested_version} of {self.name} is not in {self.models_dir / self.name}; "
                "choose another version to serve on the admin console's Models page."
            )
        if self.weights_dir() is None:
            return (
                f"No trained model in {self.models_dir / self.name}. "
                f"Train one with: flask ml train {self.name} --data PATH/TO/FER2013"
            )
        return None
