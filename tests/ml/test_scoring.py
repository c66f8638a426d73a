"""The facial-affect indicator formula and its clip aggregation."""

from __future__ import annotations

import numpy as np
import pytest

from app.ml.scoring import INDICATOR_VERSION, indicator, summarise_clip, summarise_photo
from app.plugins.base import FER_LABELS


def one_hot(label: str) -> np.ndarray:
    return np.eye(len(FER_LABELS))[FER_LABELS.index(label)]


@pytest.mark.parametrize(
    ("label", "expected"), [("sad", 100.0), ("neutral", 50.0), ("happy", 0.0), ("fear", 87.5)]
)
def test_indicator_anchor_points(label, expected):
    assert indicator(one_hot(label), FER_LABELS) == pytest.approx(expected)


def test_indicator_is_monotonic_in_sadness():
    values = [
        indicator((1 - s) * one_hot("neutral") + s * one_hot("sad"), FER_LABELS) for s in np.linspace(0, 1, 6)
    ]
    assert values == sorted(values) and values[0] < values[-1]


def test_photo_summary_reports_mean_and_spread():
    views = np.stack([one_hot("sad"), one_hot("neutral")])
    summary = summarise_photo(views, FER_LABELS)
    assert summary.indicator == pytest.approx(75.0)
    assert summary.spread == pytest.approx(25.0)
    assert summary.to_dict()["version"] == INDICATOR_VERSION
    assert sum(summary.distribution.values()) == pytest.approx(1.0)


def test_clip_rewards_negative_share_and_flat_affect():
    flat_sad = np.tile(one_hot("sad"), (30, 1))
    varied = np.stack([one_hot("sad") if i % 2 else one_hot("happy") for i in range(30)])
    flat = summarise_clip(flat_sad, FER_LABELS)
    assert flat.negative_share == 1.0 and flat.expressivity == pytest.approx(0.0)
    assert flat.indicator == pytest.approx(100.0)
    lively = summarise_clip(varied, FER_LABELS)
    assert lively.negative_share == pytest.approx(0.5)
    assert lively.expressivity > 0.1
    assert lively.indicator < flat.indicator
    assert 0.0 <= lively.indicator <= 100.0
