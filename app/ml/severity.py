"""A severity estimate: ridge regression from face-derived features to the PHQ-9 total (0-27).

Pure numpy. Features per screening: the mean probability of each emotion, the indicator's spread,
the share of frames with a negative expression, expressivity, and the 10th/50th/90th percentiles of
the per-frame indicator (a photo has one value for all three). Fitted in closed form on
standardised features; judged by k-fold cross-validated MAE and RMSE, never by its training fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.ml.scoring import indicator as frame_indicator

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FEATURES = (*(f"mean_{e}" for e in EMOTIONS), "spread", "negative_share", "expressivity",
            "indicator_p10", "indicator_p50", "indicator_p90")
PHQ9_RANGE = (0, 27)
# Published video baseline for comparison only: AVEC 2014 depression sub-challenge, on BDI-II
# (0-63), a different instrument and population, so not directly comparable with PHQ-9 errors.
AVEC2014_VIDEO = {"rmse": 7.6, "mae": 6.0, "instrument": "BDI-II (0-63)"}


def features(summary: dict, frame_probabilities: Sequence[dict] = ()) -> np.ndarray:
    """The feature vector of one screening from its stored facial summary and per-frame results."""
    distribution = summary.get("distribution") or {}
    if frame_probabilities:
        labels = list(frame_probabilities[0])
        values = np.array([[p[label] for label in labels] for p in frame_probabilities], dtype=float)
        per_frame = np.atleast_1d(frame_indicator(values, labels))
    else:
        per_frame = np.array([float(summary["indicator"])])
    p10, p50, p90 = np.percentile(per_frame, [10, 50, 90])
    return np.array([
        *(float(distribution.get(e, 0.0)) for e in EMOTIONS),
        float(summary.get("spread") or 0.0),
        float(summary.get("negative_share") or 0.0),
        float(summary.get("expressivity") or 0.0),
        p10, p50, p90,
    ])


@dataclass(frozen=True)
class RidgeModel:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(x) - self.mean) / self.scale
        return np.clip(z @ self.coef + self.intercept, *PHQ9_RANGE)

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept}

    @classmethod
    def from_dict(cls, data: dict) -> RidgeModel:
        return cls(np.asarray(data["mean"]), np.asarray(data["scale"]), np.asarray(data["coef"]),
                   float(data["intercept"]))


def fit_ridge(x: np.ndarray, y: np.ndarray, alpha: float = 1.0) -> RidgeModel:
    """(ZᵀZ + αI)⁻¹ Zᵀ(y − ȳ) on standardised features; constant features get scale 1 (weight ~0)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    coef = np.linalg.solve(z.T @ z + alpha * np.eye(z.shape[1]), z.T @ (y - y.mean()))
    return RidgeModel(mean=mean, scale=scale, coef=coef, intercept=float(y.mean()))


@dataclass(frozen=True)
class CrossValidation:
    folds: int
    n: int
    mae: float
    rmse: float


def cross_validate(x: np.ndarray, y: np.ndarray, folds: int = 5, alpha: float = 1.0,
                   seed: int = 0) -> CrossValidation:
    """k-fold CV errors of the ridge model. Pass one screening per patient: repeated screenings of
    one patient in both a training and a test fold would make the errors look better than they are."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(y) < folds:
        raise ValueError(f"need at least {folds} screenings for {folds}-fold cross-validation")
    order = np.random.default_rng(seed).permutation(len(y))
    errors = np.empty(len(y))
    for fold in np.array_split(order, folds):
        train = np.setdiff1d(order, fold)
        errors[fold] = fit_ridge(x[train], y[train], alpha).predict(x[fold]) - y[fold]
    return CrossValidation(folds=folds, n=len(y), mae=float(np.abs(errors).mean()),
                           rmse=float(np.sqrt((errors ** 2).mean())))
