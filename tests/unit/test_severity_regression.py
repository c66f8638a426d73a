"""The severity regression: closed-form ridge, honest cross-validation, features from results."""

import numpy as np
import pytest

from app.ml import severity


def test_ridge_recovers_a_linear_relation():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    y = 10 + 3 * x[:, 0] - 2 * x[:, 1] + rng.normal(0, 0.5, 300)
    model = severity.fit_ridge(x, y, alpha=0.01)
    assert model.intercept == pytest.approx(y.mean())
    assert model.coef / model.scale == pytest.approx([3, -2, 0], abs=0.15)


def test_predictions_stay_on_the_phq9_scale():
    model = severity.fit_ridge(np.array([[0.0], [1.0]]), np.array([0.0, 27.0]), alpha=0.0)
    assert model.predict(np.array([[5.0], [-5.0]])).tolist() == [27.0, 0.0]


def test_constant_features_do_not_break_the_fit():
    x = np.c_[np.ones(20), np.arange(20)]
    model = severity.fit_ridge(x, np.arange(20.0))
    assert np.isfinite(model.coef).all()


def test_cross_validation_of_noise_is_no_better_than_the_mean():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(200, 5)), rng.integers(0, 28, 200).astype(float)
    cv = severity.cross_validate(x, y, folds=5)
    assert cv.n == 200 and cv.mae >= 0.9 * np.abs(y - y.mean()).mean()
    assert cv.rmse >= cv.mae


def test_cross_validation_needs_enough_screenings():
    with pytest.raises(ValueError):
        severity.cross_validate(np.zeros((3, 2)), np.zeros(3), folds=5)


def test_features_of_a_photo_and_a_clip():
    summary = {"distribution": {"sad": 0.6, "neutral": 0.4}, "indicator": 70.0, "spread": 4.0,
               "negative_share": 0.5, "expressivity": None}
    photo = severity.features(summary)
    assert len(photo) == len(severity.FEATURES)
    assert photo[severity.FEATURES.index("mean_sad")] == 0.6
    assert photo[-3:].tolist() == [70.0, 70.0, 70.0]
    frames = [{e: (1.0 if e == "happy" else 0.0) for e in severity.EMOTIONS},
              {e: (1.0 if e == "sad" else 0.0) for e in severity.EMOTIONS}]
    clip = severity.features(summary, frames)
    assert clip[-3] < clip[-1]  # the happy frame is low, the sad one high
