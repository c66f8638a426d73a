"""Fixtures of the model-training tests (console, serving versions, comparisons)."""

from __future__ import annotations

import pytest
import redis as redis_lib


@pytest.fixture
def training_app(app_factory, tmp_path, redis_url):
    """An app whose models and training data live in this test's folder, its context pushed."""
    app = app_factory(ML_MODELS_DIR=tmp_path / "ml_models", TRAINING_DATA_DIR=tmp_path / "training-data",
                      RATELIMIT_ENABLED=False)
    redis_lib.Redis.from_url(redis_url).flushdb()
    with app.app_context():
        yield app
