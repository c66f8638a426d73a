"""Statistics of a local validation study: how well a score separates two groups.

Pure numpy: scores and 0/1 labels in, plain numbers and dataclasses out, so the same code runs
in a worker, a CLI or a notebook. A higher score means "more likely positive" throughout.
Bootstrap intervals take a seeded generator so a refresh of the same data gives the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class ThresholdMetrics:
    threshold: float
    sensitivity: float | None
    specificity: float | None
    ppv: float | None  # None where no screening reached the threshold
    npv: float | None


@dataclass(frozen=True)
class CalibrationBin:
    mean_score: float
    observed_rate: float
    n: int


def _as_arrays(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=int)
    if s.shape != y.shape or s.ndim != 1:
        raise ValueError("scores and labels must be 1-D and of the same length")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    return s, y


def _rank_with_ties(values: np.ndarray) -> np.ndarray:
    """1-based ranks where tied values share the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(len(values), dtype=float)
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start:end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def roc_auc(scores, labels) -> float | None:
    """Area under the ROC curve (Mann–Whitney, ties count one half); None with a single class."""
    s, y = _as_arrays(scores, labels)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = _rank_with_ties(s)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_curve(scores, labels) -> list[tuple[float, float]]:
    """(false-positive rate, true-positive rate) points from (0, 0) to (1, 1), one per distinct score."""
    s, y = _as_arrays(scores, labels)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    if n_pos == 0 or n_neg == 0:
        return []
    points = [(0.0, 0.0)]
    for threshold in np.unique(s)[::-1]:
        flagged = s >= threshold
        points.append((float((flagged & (y == 0)).sum() / n_neg), float((flagged & (y == 1)).sum() / n_pos)))
    return points


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def at_threshold(scores, labels, threshold: float) -> ThresholdMetrics:
    """Screenings with a score at or above `threshold` count as flagged."""
    s, y = _as_arrays(scores, labels)
    flagged = s >= threshold
    tp = int((flagged & (y == 1)).sum())
    fp = int((flagged & (y == 0)).sum())
    fn = int((~flagged & (y == 1)).sum())
    tn = int((~flagged & (y == 0)).sum())
    return ThresholdMetrics(threshold=float(threshold), sensitivity=_ratio(tp, tp + fn),
                            specificity=_ratio(tn, tn + fp), ppv=_ratio(tp, tp + fp), npv=_ratio(tn, tn + fn))


def youden_threshold(scores, labels) -> float | None:
    """The score threshold maximising sensitivity + specificity − 1 (the lowest one on a tie)."""
    s, y = _as_arrays(scores, labels)
    if y.sum() == 0 or y.sum() == len(y):
        return None
    best_threshold, best_j = None, -np.inf
    for threshold in np.unique(s):
        metrics = at_threshold(s, y, threshold)
        j = metrics.sensitivity + metrics.specificity - 1
        if j > best_j + 1e-12:
            best_threshold, best_j = float(threshold), j
    return best_threshold


def _bootstrap(statistic, s: np.ndarray, y: np.ndarray, rounds: int, seed: int) -> np.ndarray:
    """The statistic over stratified resamples (each class resampled within itself, so every
    resample keeps both classes)."""
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    values = []
    for _ in range(rounds):
        index = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        value = statistic(s[index], y[index])
        if value is not None:
            values.append(value)
    return np.asarray(values, dtype=float)


def _interval(estimate: float | None, samples: np.ndarray) -> Interval | None:
    if estimate is None or samples.size == 0:
        return None
    low, high = np.percentile(samples, [2.5, 97.5])
    return Interval(estimate=float(estimate), low=float(low), high=float(high))


def roc_auc_ci(scores, labels, rounds: int = 1000, seed: int = 0) -> Interval | None:
    """ROC AUC with a 95 % percentile-bootstrap interval; None with a single class."""
    s, y = _as_arrays(scores, labels)
    return _interval(roc_auc(s, y), _bootstrap(roc_auc, s, y, rounds, seed))


def youden_threshold_ci(scores, labels, rounds: int = 1000, seed: int = 0) -> Interval | None:
    s, y = _as_arrays(scores, labels)
    return _interval(youden_threshold(s, y), _bootstrap(youden_threshold, s, y, rounds, seed))


def calibration_by_decile(scores, labels, score_max: float = 100.0) -> list[CalibrationBin]:
    """Observed positive rate per decile of the score (ties kept in one bin), beside the mean
    score scaled to 0–1 by `score_max`; empty bins are left out."""
    s, y = _as_arrays(scores, labels)
    if len(s) == 0:
        return []
    edges = np.unique(np.percentile(s, np.linspace(0, 100, 11)))
    bins = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, max(len(edges) - 2, 0))
    result = []
    for b in np.unique(bins):
        members = bins == b
        result.append(CalibrationBin(mean_score=float(s[members].mean() / score_max),
                                     observed_rate=float(y[members].mean()), n=int(members.sum())))
    return result


def spearman(x, y) -> float | None:
    """Spearman's rank correlation (Pearson on tie-averaged ranks); None if either side is constant."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("x and y must be 1-D and of the same length")
    if len(a) < 2:
        return None
    ra, rb = _rank_with_ties(a), _rank_with_ties(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = np.sqrt((ra ** 2).sum() * (rb ** 2).sum())
    return float((ra * rb).sum() / denominator) if denominator else None
