"""Metrics and figures for a classifier on a held-out FER2013 split."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from app.ml.training.datasets import FaceDataset
from app.plugins.base import EVALUATION_FILE


def classification_metrics(truth: np.ndarray, predicted: np.ndarray, labels: tuple[str, ...]) -> dict:
    """Accuracy, per-class precision/recall/F1, macro-F1 and the confusion matrix (rows = truth)."""
    k = len(labels)
    matrix = np.zeros((k, k), np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    per_class = {}
    for i, label in enumerate(labels):
        tp = matrix[i, i]
        precision = tp / matrix[:, i].sum() if matrix[:, i].sum() else 0.0
        recall = tp / matrix[i].sum() if matrix[i].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": round(float(precision), 4),
            "recall": round(float(recall), 4),
            "f1": round(float(f1), 4),
            "support": int(matrix[i].sum()),
        }
    present = [label for label in labels if per_class[label]["support"]]
    return {
        "samples": int(len(truth)),
        "accuracy": round(float(np.trace(matrix) / max(1, matrix.sum())), 4),
        "macro_f1": round(
            float(np.mean([per_class[label]["f1"] for label in present])) if present else 0.0, 4
        ),
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
    }


def _latency_ms(plugin, test: FaceDataset, repeats: int = 10) -> float:
    """Median time to classify one face alone, as a screening does (after one warm-up call)."""
    face = test.images[:1]
    plugin.predict_batch(face)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        plugin.predict_batch(face)
        times.append(time.perf_counter() - started)
    return round(float(np.median(times)) * 1000, 2)


def evaluate_plugin(plugin, test: FaceDataset, out_dir: Path, extra: dict | None = None) -> dict:
    """Run the plugin over the test split; write evaluation.json and the two PNGs into out_dir."""
    from app.ml.training.figures import plot_confusion_matrix, plot_sample_predictions  # deferred: matplotlib

    probabilities = plugin.predict_batch(test.images)
    predicted = probabilities.argmax(axis=1)
    metrics = classification_metrics(test.labels, predicted, plugin.labels)
    metrics.update({"data": test.source, "class_counts": test.class_counts(),
                    "latency_ms_per_face": _latency_ms(plugin, test), **(extra or {})})
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_confusion_matrix(
        np.array(metrics["confusion_matrix"]), plugin.labels, out_dir / "confusion_matrix.png"
    )
    plot_sample_predictions(
        test.images, test.labels, probabilities, plugin.labels, out_dir / "sample_predictions.png"
    )
    (out_dir / EVALUATION_FILE).write_text(json.dumps(metrics, indent=2))
    return metrics
