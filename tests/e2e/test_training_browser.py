"""Training a model from the admin console in real Chromium: upload, live progress, Stop.

The server is the real stack (gunicorn, screening worker) plus a worker on the training queue,
as `flask worker --queue training` runs it; the data set is a small generated FER2013 CSV.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.e2e.browser import BIN, ROOT, log_in, running_server, screenshot
from tests.ml.fer_fixtures import fer_csv_text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def training_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("training-live")
    with running_server(tmp, worker_name="training-e2e-worker", ML_MODELS_DIR=str(tmp / "ml_models"),
                        TRAINING_DATA_DIR=str(tmp / "training-data")) as server:
        logs = open(server.logs / "training-worker.log", "w")
        trainer = subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "worker", "--no-preload",
                                    "--queue", "training", "--name", "training-e2e"],
                                   env=server.env, cwd=ROOT, stdout=logs, stderr=subprocess.STDOUT)
        server.processes.insert(0, trainer)
        yield server


def test_training_page_shows_live_progress_and_stop_keeps_a_stopped_version(
        browser, training_server, tmp_path):
    server = training_server
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        log_in(page, server.create_user("admin"))
        page.goto("/admin/models")
        assert "No trained version yet" in page.inner_text("main")
        screenshot(page, "admin-models-empty")

        data = tmp_path / "fer2013.csv"
        data.write_text(fer_csv_text(per_class_train=6, per_class_test=2))
        page.set_input_files("#dataset_file", str(data))
        page.fill("#epochs", "300")
        page.fill("#batch_size", "8")
        page.click("#train-form button[type=submit]")
        page.wait_for_url(re.compile(r"/admin/models/runs/\d+$"))

        # The worker loads TensorFlow, then reports every epoch; htmx redraws the fragment in place.
        page.wait_for_selector("#run-epoch", timeout=180_000)
        page.wait_for_function(
            "() => /Epoch ([3-9]|\\d\\d+) of 300/.test(document.querySelector('#run-epoch').textContent)",
            timeout=180_000)
        assert page.locator("#run-progress svg polyline").count() >= 2  # loss and accuracy curves
        assert "remaining" in page.inner_text("#run-progress")
        screenshot(page, "admin-training-live")

        page.click("#stop-training")
        page.wait_for_function("() => document.querySelector('#run-status').textContent === 'stopped'",
                               timeout=180_000)
        assert "stopped early" in page.inner_text("#run-progress")
        screenshot(page, "admin-training-stopped")

        page.click("#run-progress a")
        assert "Stopped early by an admin" in page.inner_text("main")
        assert page.locator("img[alt^='Confusion matrix']").count() == 1
        screenshot(page, "admin-model-version")

        page.goto("/admin/models/compare")
        screenshot(page, "admin-models-compare")

        # A complete version serves only once the admin chooses it, knowing its test numbers.
        page.goto("/admin/models")
        page.set_input_files("#dataset_file", str(data))
        page.fill("#epochs", "1")
        page.fill("#batch_size", "8")
        page.click("#train-form button[type=submit]")
        page.wait_for_function("() => document.querySelector('#run-status')?.textContent === 'done'",
                               timeout=180_000)
        page.click("#run-progress a")
        assert "No version of baseline-cnn serves yet" in page.inner_text("#serving-state")
        page.click("#serve-button")
        assert "accuracy and a macro-F1 of" in page.inner_text("#confirm-serve")
        screenshot(page, "admin-model-serve-confirm")
        page.click("#confirm-serve-button")
        assert "Every new screening with baseline-cnn uses this version" in page.inner_text("#serving-state")
        page.goto("/admin/models")
        assert page.locator("#model-versions .pill-brand").count() == 1
    finally:
        context.close()
