"""The facial-affect indicator: emotion probabilities → a 0–100 screening signal.

The formula, its rationale and its limits are in docs/clinical.md. Any change to the
weights or terms must bump INDICATOR_VERSION, because stored results carry the version
they were computed with and are only comparable within one version.
It is a screening signal, never a diagnosis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.plugins.base import NEGATIVE_LABELS

INDICATOR_VERSION = "affect-v1"

# Signed weight of each FER2013 class in the affect balance (positive = towards depression).
# Sadness is the expression most consistently linked to depressed mood; fear and anger
# less so; reduced happiness (anhedonia) counts against; neutral carries no weight.
AFFECT_WEIGHTS: dict[str, float] = {
    "angry": 0.5,
    "disgust": 0.5,
    "fear": 0.75,
    "sad": 1.0,
    "neutral": 0.0,
    "surprise": -0.25,
    "happy": -1.0,
}
# Clip blend: the averaged balance dominates; the share of negative-dominated frames and
# flattened affect (little change of expression over time) add bounded evidence.
CLIP_WEIGHTS = {"balance": 0.7, "negative_share": 0.2, "flatness": 0.1}
# Mean per-class standard deviation over frames at which affect no longer counts as flat;
# chosen so that a clip with a clearly changing expression scores flatness ≈ 0.
EXPRESSIVITY_REFERENCE = 0.15


def _weights(labels: Sequence[str]) -> np.ndarray:
    return np.array([AFFECT_WEIGHTS.get(label, 0.0) for label in labels])


def indicator(probabilities: np.ndarray, labels: Sequence[str]) -> np.ndarray | float:
    """Per-distribution indicator: 50 × (1 + affect balance), in [0, 100].

    A fully neutral face scores 50, a fully sad one 100, a fully happy one 0.
    Works on one distribution (7,) or many (n, 7).
    """
    balance = np.asarray(probabilities, dtype=np.float64) @ _weights(labels)
    value = np.clip(50.0 * (1.0 + balance), 0.0, 100.0)
    return float(value) if np.ndim(value) == 0 else value


@dataclass(frozen=True)
class AffectSummary:
    """Aggregate of one face (over jittered crops) or one clip (over frames)."""

    distribution: dict[str, float]
    indicator: float
    spread: float  # std of the per-crop / per-frame indicator: how stable the signal is
    samples: int
    negative_share: float
    expressivity: float | None  # clips only
    version: str = INDICATOR_VERSION

    def to_dict(self) -> dict:
        return {
            "distribution": {k: round(v, 4) for k, v in self.distribution.items()},
            "indicator": round(self.indicator, 1),
            "spread": round(self.spread, 1),
            "samples": self.samples,
            "negative_share": round(self.negative_share, 3),
            "expressivity": None if self.expressivity is None else round(self.expressivity, 4),
            "dominant": max(self.distribution, key=self.distribution.get),
            "version": self.version,
        }


def _negative_share(probabilities: np.ndarray, labels: Sequence[str]) -> float:
    negative = [labels.index(name) for name in NEGATIVE_LABELS if name in labels]
    return float(np.isin(probabilities.argmax(axis=1), negative).mean())


def summarise_photo(probabilities: np.ndarray, labels: Sequence[str]) -> AffectSummary:
    """One face seen through several jittered crops: the indicator of the mean distribution."""
    probabilities = np.atleast_2d(probabilities)
    mean = probabilities.mean(axis=0)
    return AffectSummary(
        distribution=dict(zip(labels, map(float, mean), strict=True)),
        indicator=indicator(mean, labels),
        spread=float(np.std(indicator(probabilities, labels))),
        samples=len(probabilities),
        negative_share=_negative_share(probabilities, labels),
        expressivity=None,
    )


def summarise_clip(probabilities: np.ndarray, labels: Sequence[str]) -> AffectSummary:
    """A clip: blend of the mean-distribution balance, negative share and flatness."""
    probabilities = np.atleast_2d(probabilities)
    mean = probabilities.mean(axis=0)
    expressivity = float(probabilities.std(axis=0).mean())
    flatness = 1.0 - min(1.0, expressivity / EXPRESSIVITY_REFERENCE)
    negative_share = _negative_share(probabilities, labels)
    value = (
        CLIP_WEIGHTS["balance"] * indicator(mean, labels)
        + CLIP_WEIGHTS["negative_share"] * 100.0 * negative_share
        + CLIP_WEIGHTS["flatness"] * 100.0 * flatness
    )
    return AffectSummary(
        distribution=dict(zip(labels, map(float, mean), strict=True)),
        indicator=float(np.clip(value, 0.0, 100.0)),
        spread=float(np.std(indicator(probabilities, labels))),
        samples=len(probabilities),
        negative_share=negative_share,
        expressivity=expressivity,
    )
