"""The validation-study statistics at their edges and against textbook values."""

import math

import numpy as np
import pytest

from app.clinical import evidence


def test_auc_matches_the_textbook_example():
    # scikit-learn's roc_auc_score documentation example: 0.75.
    assert evidence.roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)


def test_auc_counts_ties_as_one_half():
    assert evidence.roc_auc([0.5, 0.5], [0, 1]) == pytest.approx(0.5)
    assert evidence.roc_auc([1, 2, 2, 3], [0, 0, 1, 1]) == pytest.approx(0.875)


def test_auc_of_perfect_and_reversed_separation():
    assert evidence.roc_auc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0
    assert evidence.roc_auc([4, 3, 2, 1], [0, 0, 1, 1]) == 0.0


def test_one_class_only_gives_no_auc_no_threshold_no_interval():
    assert evidence.roc_auc([1, 2, 3], [1, 1, 1]) is None
    assert evidence.roc_curve([1, 2, 3], [0, 0, 0]) == []
    assert evidence.youden_threshold([1, 2, 3], [0, 0, 0]) is None
    assert evidence.roc_auc_ci([1, 2, 3], [1, 1, 1], rounds=20) is None


def test_bad_labels_are_refused():
    with pytest.raises(ValueError):
        evidence.roc_auc([1, 2], [0, 2])
    with pytest.raises(ValueError):
        evidence.roc_auc([1, 2, 3], [0, 1])


def test_threshold_metrics_from_a_two_by_two_table():
    # flagged at >= 50: tp=2 (60, 70), fn=1 (40), fp=1 (55), tn=3 (10, 20, 30)
    scores = [60, 70, 40, 55, 10, 20, 30]
    labels = [1, 1, 1, 0, 0, 0, 0]
    m = evidence.at_threshold(scores, labels, 50)
    assert m.sensitivity == pytest.approx(2 / 3)
    assert m.specificity == pytest.approx(3 / 4)
    assert m.ppv == pytest.approx(2 / 3)
    assert m.npv == pytest.approx(3 / 4)


def test_threshold_nobody_reaches_has_no_ppv():
    m = evidence.at_threshold([1, 2, 3], [0, 1, 1], 10)
    assert m.sensitivity == 0.0 and m.specificity == 1.0
    assert m.ppv is None and m.npv == pytest.approx(1 / 3)


def test_youden_threshold_of_a_perfect_separation_is_the_lowest_positive():
    assert evidence.youden_threshold([10, 20, 30, 70, 80], [0, 0, 0, 1, 1]) == 70


def test_roc_curve_runs_from_origin_to_corner():
    points = evidence.roc_curve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    assert points[0] == (0.0, 0.0) and points[-1] == (1.0, 1.0)
    assert [p[0] for p in points] == sorted(p[0] for p in points)


def test_bootstrap_interval_contains_the_estimate_and_is_reproducible():
    rng = np.random.default_rng(1)
    labels = np.r_[np.ones(60, int), np.zeros(60, int)]
    scores = rng.normal(labels * 1.0, 1.0)
    first = evidence.roc_auc_ci(scores, labels, rounds=300, seed=7)
    again = evidence.roc_auc_ci(scores, labels, rounds=300, seed=7)
    assert first == again
    assert first.low < first.estimate < first.high
    # A shift of one SD between two normals has AUC = Phi(1/sqrt 2) ≈ 0.760.
    assert first.low < 0.760 < first.high


def test_perfect_separation_has_a_degenerate_interval():
    ci = evidence.roc_auc_ci([1, 2, 3, 4, 5, 6], [0, 0, 0, 1, 1, 1], rounds=50)
    assert (ci.estimate, ci.low, ci.high) == (1.0, 1.0, 1.0)
    threshold = evidence.youden_threshold_ci([1, 2, 3, 4, 5, 6], [0, 0, 0, 1, 1, 1], rounds=50)
    assert threshold.estimate == 4 and threshold.low >= 4


def test_calibration_bins_cover_every_screening():
    scores = np.arange(100)
    labels = (scores >= 50).astype(int)
    bins = evidence.calibration_by_decile(scores, labels)
    assert len(bins) == 10
    assert sum(b.n for b in bins) == 100
    assert bins[0].observed_rate == 0.0 and bins[-1].observed_rate == 1.0


def test_calibration_keeps_ties_together():
    bins = evidence.calibration_by_decile([5] * 20, [0, 1] * 10)
    assert len(bins) == 1 and bins[0].n == 20 and bins[0].observed_rate == 0.5


def test_spearman_matches_the_tied_textbook_value():
    # scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) = 0.8207826816681233
    assert evidence.spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(8 / math.sqrt(95))


def test_spearman_of_a_constant_is_undefined():
    assert evidence.spearman([1, 1, 1], [1, 2, 3]) is None
    assert evidence.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
