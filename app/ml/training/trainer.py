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
from typing import Protocol

import numpy as np

from app.ml.training.datasets import FaceDataset, load_fer2013
from app.ml.training.evaluation import evaluate_plugin
from app.ml.training.figures import plot_augmented_samples, plot_class_counts, plot_training_curves
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
    augment: bool = True
    verbose: int = 1  # Keras progress bar on the terminal; 0 in tests


class ProgressReporter(Protocol):
    """Where a run reports its progress (the console's job writes it to the training_runs row)."""

    def batch(self, epoch: int, batch: int, batches: int, logs: dict) -> None: ...

    def epoch(self, epoch: int, history: dict[str, list[float]]) -> None: ...

    def should_stop(self) -> bool: ...


def _progress_callback(reporter: ProgressReporter, batches: int):
    import keras

    class Progress(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epoch_index = 0
            self.history: dict[str, list[float]] = {}
            self.stopped = False

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_index = epoch

        def on_train_batch_end(self, batch, logs=None):
            values = {k: float(v) for k, v in (logs or {}).items()}
            reporter.batch(self.epoch_index, batch + 1, batches, values)
            # Checked every batch: Keras ends fit() after the current step, so Stop is prompt.
            if reporter.should_stop():
                self.stopped = True
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            for key, value in (logs or {}).items():
                if key != "learning_rate":
                    self.history.setdefault(key, []).append(float(value))
            reporter.epoch(epoch + 1, self.history)

    return Progress()


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
    plugin_class,
    data_dir: str | Path,
    models_dir: str | Path,
    options: TrainingOptions = TrainingOptions(),
    reporter: ProgressReporter | None = None,
) -> Path:
    """Train, evaluate on the test split and write the versioned folder; returns its path.

    Everything is written into a staging folder first and renamed into place at the end, so a
    run killed midway never leaves a folder that the registry would take for a usable version.
    """
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
    final_dir = Path(models_dir) / plugin.name / version
    staging_root = Path(models_dir) / ".staging"
    staging_root.mkdir(parents=True, exist_ok=True)
    out_dir = Path(tempfile.mkdtemp(prefix=f"{plugin.name}-{version}-", dir=staging_root))
    try:
        return _train_into(plugin_class, plugin, model, shape, data_dir, models_dir, options, reporter,
                           train_all, train, validation, test, version, out_dir, final_dir)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def _train_into(plugin_class, plugin, model, shape, data_dir, models_dir, options, reporter,
                train_all, train, validation, test, version, out_dir: Path, final_dir: Path) -> Path:
    import keras

    augment = augmentation() if options.augment else None
    train_data = _tf_dataset(plugin, train, options.batch_size, augment, options.seed)
    batches = int(np.ceil(len(train) / options.batch_size))
    progress = _progress_callback(reporter, batches) if reporter else None
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
        ] + ([progress] if progress else [])
        started = time.perf_counter()
        history = model.fit(
            train_data,
            validation_data=_tf_dataset(plugin, validation, options.batch_size, None, options.seed),
            epochs=options.epochs,
            class_weight=class_weights(train.labels, len(plugin.labels)),
            callbacks=callbacks,
            verbose=options.verbose,
            shuffle=False,  # the tf.data pipeline shuffles, seeded
        )
        seconds = time.perf_counter() - started
        if checkpoint.exists():
            shutil.copyfile(checkpoint, out_dir / MODEL_FILE)
        else:
            model.save(out_dir / MODEL_FILE)

    curves = {k: [float(v) for v in values] for k, values in history.history.items() if k != "learning_rate"}
    plot_class_counts(train_all.class_counts(), out_dir / "class_counts.png")
    plot_training_curves(curves, out_dir / "training_curves.png")
    if augment is not None:
        plot_augmented_samples(train.images, augment, out_dir / "augmented_samples.png", options.seed)
    trained = plugin_class(models_dir)
    trained._pinned_dir = out_dir  # evaluate the staged model, not the newest one in place
    trained.load()
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
            "augmentation": (
                "flip, rotation ±5%, zoom ±10%, translation ±8% (Keras preprocessing layers)"
                if augment is not None else "off"
            ),
            "class_weights": "inverse class frequency",
            "stopped_early_by_admin": bool(progress and progress.stopped),
            "history": curves,
        },
        "model_bytes": (out_dir / MODEL_FILE).stat().st_size,
        "test_metrics": {
            k: metrics[k] for k in ("accuracy", "macro_f1", "per_class", "confusion_matrix", "samples")
        },
        "limits": LIMITS + _pretraining_note(plugin.name, options.imagenet_weights),
    }
    (out_dir / CARD_FILE).write_text(json.dumps(card, indent=2))
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    out_dir.rename(final_dir)
    return final_dir


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
