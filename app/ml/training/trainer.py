"""Train a trainable plugin into models_dir/<plugin>/<version>/ with its model card and figures."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from app.ml.training.datasets import FaceDataset, load_fer2013
from app.ml.training.evaluation import evaluate_plugin
from app.ml.training.figures import plot_class_counts, plot_training_curves
from app.plugins.base import CARD_FILE, MODEL_FILE

LIMITS = [
    "A screening aid trained on posed, web-scraped FER2013 faces; not a diagnostic device.",
    "FER2013 under-represents older adults, children and darker skin tones; accuracy there is unknown.",
    "Expression is not mood: a smile can hide depression and a neutral face is not a symptom.",
]


@dataclass(frozen=True)
class TrainingOptions:
    epochs: int = 30
    batch_size: int = 64
    validation_split: float = 0.1
    seed: int = 1234
    learning_rate: float | None = None
    input_size: int | None = None  # square side; None: the plugin's default
    imagenet_weights: Path | None = None  # resnet50v2 only
    patience: int = 6
    verbose: int = 1  # Keras progress bar on the terminal; 0 in tests


def class_weights(labels: np.ndarray, classes: int) -> dict[int, float]:
    """Inverse-frequency weights (n / (k · count)) so rare classes like disgust count."""
    counts = np.bincount(labels, minlength=classes)
    present = counts > 0
    weights = np.where(present, len(labels) / (present.sum() * np.maximum(counts, 1)), 0.0)
    return {i: float(w) for i, w in enumerate(weights)}


def augmentation():
    """Keras preprocessing layers (ImageDataGenerator is deprecated), applied on the fly."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(0.05, fill_mode="nearest"),
            layers.RandomZoom(0.1, fill_mode="nearest"),
            layers.RandomTranslation(0.08, 0.08, fill_mode="nearest"),
        ],
        name="augmentation",
    )


def _split(data: FaceDataset, fraction: float, rng: np.random.Generator) -> tuple[FaceDataset, FaceDataset]:
    order = rng.permutation(len(data))
    cut = max(1, int(round(len(data) * fraction)))
    val, train = order[:cut], order[cut:]
    return (
        FaceDataset(data.images[train], data.labels[train], data.source),
        FaceDataset(data.images[val], data.labels[val], data.source + " (validation)"),
    )


def _tf_dataset(plugin, data: FaceDataset, batch_size: int, augment, seed: int):
    import keras
    import tensorflow as tf

    images = data.images[..., None]  # (n, 48, 48, 1) uint8; plugin preprocessing adapts channels/size
    targets = keras.utils.to_categorical(data.labels, len(plugin.labels))
    dataset = tf.data.Dataset.from_tensor_slices((images, targets))
    if augment is not None:
        dataset = dataset.shuffle(len(data), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if augment is not None:
        dataset = dataset.map(
            lambda x, y: (augment(tf.cast(x, tf.float32), training=True), y),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    dataset = dataset.map(
        lambda x, y: (plugin.preprocess_tensor(tf.clip_by_value(tf.cast(x, tf.float32), 0, 255)), y)
    )
    return dataset.prefetch(tf.data.AUTOTUNE)


def _hardware() -> dict:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    model = next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
        platform.processor(),
    )
    return {"cpu": model, "cores": os.cpu_count(), "platform": platform.platform()}


def train_plugin(
    plugin_class, data_dir: str | Path, models_dir: str | Path, options: TrainingOptions = TrainingOptions()
) -> Path:
    """Train, evaluate on the test split and write the versioned folder; returns its path."""
    import keras

    keras.utils.set_random_seed(options.seed)
    rng = np.random.default_rng(options.seed)
    train_all, test = load_fer2013(data_dir)
    train, validation = _split(train_all, options.validation_split, rng)
    plugin = plugin_class(models_dir)
    channels = plugin.default_input_shape[2]
    shape = (
        (options.input_size, options.input_size, channels)
        if options.input_size
        else plugin.default_input_shape
    )
    build_options = {"input_shape": shape}
    if options.learning_rate is not None:
        build_options["learning_rate"] = options.learning_rate
    if options.imagenet_weights is not None:
        build_options["imagenet_weights"] = options.imagenet_weights
    model = plugin.build_model(**build_options)
    plugin.model = model  # preprocess_tensor reads the input shape from the model

    version = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out_dir = Path(models_dir) / plugin.name / version
    with tempfile.TemporaryDirectory() as scratch:
        checkpoint = Path(scratch) / "best.keras"
        callbacks = [
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=options.patience, restore_best_weights=True
            ),
            keras.callbacks.ReduceLROnPlateau(
                monitor="val_loss", factor=0.5, patience=max(1, options.patience // 2), min_lr=1e-6
            ),
            keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_loss", save_best_only=True),
        ]
        started = time.perf_counter()
        history = model.fit(
            _tf_dataset(plugin, train, options.batch_size, augmentation(), options.seed),
            validation_data=_tf_dataset(plugin, validation, options.batch_size, None, options.seed),
            epochs=options.epochs,
            class_weight=class_weights(train.labels, len(plugin.labels)),
            callbacks=callbacks,
            verbose=options.verbose,
            shuffle=False,  # the tf.data pipeline shuffles, seeded
        )
        seconds = time.perf_counter() - started
        out_dir.mkdir(parents=True)
        if checkpoint.exists():
            shutil.copyfile(checkpoint, out_dir / MODEL_FILE)
        else:
            model.save(out_dir / MODEL_FILE)

    plot_class_counts(train_all.class_counts(), out_dir / "class_counts.png")
    plot_training_curves(
        {k: [float(v) for v in values] for k, values in history.history.items()},
        out_dir / "training_curves.png",
    )
    trained = plugin_class(models_dir).load()
    # The LiteRT copy that serving uses, with the checksum of the model it was made from.
    trained.convert_to_litert()
    metrics = evaluate_plugin(trained, test, out_dir)
    card = {
        "name": plugin.name,
        "version": version,
        "architecture": model.name,
        "input_shape": list(shape),
        "parameters": int(model.count_params()),
        "training_data": {
            "source": str(data_dir),
            "train_images": len(train),
            "validation_images": len(validation),
            "test_images": len(test),
            "class_counts": train_all.class_counts(),
        },
        "training": {
            "epochs_run": len(history.history.get("loss", [])),
            "epochs_max": options.epochs,
            "batch_size": options.batch_size,
            "seed": options.seed,
            "seconds": round(seconds, 1),
            "hardware": _hardware(),
            "augmentation": "flip, rotation ±5%, zoom ±10%, translation ±8% (Keras preprocessing layers)",
            "class_weights": "inverse class frequency",
        },
        "test_metrics": {
            k: metrics[k] for k in ("accuracy", "macro_f1", "per_class", "confusion_matrix", "samples")
        },
        "limits": LIMITS + _pretraining_note(plugin.name, options.imagenet_weights),
    }
    (out_dir / CARD_FILE).write_text(json.dumps(card, indent=2))
    return out_dir


def _pretraining_note(name: str, imagenet_weights: Path | None) -> list[str]:
    if name != "resnet50v2":
        return []
    if imagenet_weights is None:
        return [
            "Trained from scratch: no ImageNet weights file was given (--imagenet-weights), "
            "so no transfer learning took place."
        ]
    return [
        f"Transfer learning from ImageNet weights {Path(imagenet_weights).name}; layers before conv5 frozen."
    ]
