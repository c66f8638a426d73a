"""The PNG figures of a model folder (matplotlib's Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend must be chosen first)
import numpy as np  # noqa: E402


def _save(figure, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_class_counts(counts: dict[str, int], path: Path, title: str = "Training images per class") -> None:
    figure, axes = plt.subplots(figsize=(7, 3.5))
    axes.bar(list(counts), list(counts.values()), color="#4a7bb7")
    axes.set_title(title)
    axes.set_ylabel("images")
    _save(figure, path)


def plot_training_curves(history: dict[str, list[float]], path: Path) -> None:
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 3.5))
    for key in ("loss", "val_loss"):
        if key in history:
            loss_axes.plot(history[key], label=key)
    for key in ("accuracy", "val_accuracy"):
        if key in history:
            accuracy_axes.plot(history[key], label=key)
    loss_axes.set_title("loss")
    accuracy_axes.set_title("accuracy")
    for axes in (loss_axes, accuracy_axes):
        axes.set_xlabel("epoch")
        axes.legend()
    _save(figure, path)


def plot_confusion_matrix(matrix: np.ndarray, labels: tuple[str, ...], path: Path) -> None:
    figure, axes = plt.subplots(figsize=(6, 5.5))
    rows = matrix.sum(axis=1, keepdims=True)
    normalised = np.divide(matrix, rows, out=np.zeros(matrix.shape, float), where=rows > 0)
    image = axes.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    for (i, j), count in np.ndenumerate(matrix):
        axes.text(
            j,
            i,
            str(count),
            ha="center",
            va="center",
            fontsize=8,
            color="white" if normalised[i, j] > 0.5 else "black",
        )
    figure.colorbar(image, ax=axes, fraction=0.046)
    _save(figure, path)


def plot_sample_predictions(
    images: np.ndarray,
    truth: np.ndarray,
    probabilities: np.ndarray,
    labels: tuple[str, ...],
    path: Path,
    count: int = 16,
) -> None:
    # Evenly spaced picks: deterministic, and they cover every class in a sorted split.
    picks = np.linspace(0, len(images) - 1, num=min(count, len(images))).astype(int)
    columns = 4
    rows = int(np.ceil(len(picks) / columns))
    figure, grid = plt.subplots(rows, columns, figsize=(columns * 2.2, rows * 2.4), squeeze=False)
    for axes in grid.flat:
        axes.axis("off")
    for axes, index in zip(grid.flat, picks, strict=False):
        predicted = int(probabilities[index].argmax())
        axes.imshow(images[index], cmap="gray")
        ok = predicted == truth[index]
        axes.set_title(
            f"{labels[predicted]} {probabilities[index, predicted]:.2f}\n(true: {labels[truth[index]]})",
            fontsize=8,
            color="green" if ok else "red",
        )
    _save(figure, path)


def plot_augmented_samples(images: np.ndarray, augment, path: Path, seed: int, count: int = 4) -> None:
    """Each of `count` training faces beside three augmented variants, as the model sees them."""
    import tensorflow as tf

    picks = np.random.default_rng(seed).choice(len(images), size=min(count, len(images)), replace=False)
    variants = 4
    size = (variants * 1.8, len(picks) * 1.9)
    figure, grid = plt.subplots(len(picks), variants, figsize=size, squeeze=False)
    for row, index in enumerate(picks):
        batch = tf.repeat(tf.cast(images[index][None, ..., None], tf.float32), variants - 1, axis=0)
        augmented = np.clip(augment(batch, training=True).numpy()[..., 0], 0, 255)
        for column, image in enumerate([images[index], *augmented]):
            axes = grid[row, column]
            axes.imshow(image, cmap="gray", vmin=0, vmax=255)
            axes.set_title("original" if column == 0 else f"augmented {column}", fontsize=8)
            axes.axis("off")
    _save(figure, path)
