"""Training on small synthetic FER2013 sets in both forms; ResNet50V2 at a tiny input size."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.ml.gradcam import gradcam_heatmap
from app.ml.training.datasets import DatasetError, load_fer2013
from app.ml.training.trainer import TrainingOptions, class_weights, train_plugin
from app.plugins import get_plugin
from app.plugins.builtin import BaselineCnn, ResNet50V2Transfer
from app.plugins.registry import forget_loaded_plugins
from tests.ml.fer_synthetic import synthetic_split, write_csv, write_image_folders

pytestmark = pytest.mark.slow
EXPECTED_FILES = {
    "model.keras",
    "model_card.json",
    "evaluation.json",
    "training_curves.png",
    "confusion_matrix.png",
    "class_counts.png",
    "sample_predictions.png",
}


def test_both_fer2013_forms_load_the_same_shape(tmp_path):
    folder_train, folder_test = load_fer2013(write_image_folders(tmp_path / "folders", (3, 2)))
    csv_train, csv_test = load_fer2013(write_csv(tmp_path / "csv", (3, 2)))
    for data in (folder_train, csv_train):
        assert data.images.shape == (21, 48, 48) and data.images.dtype == np.uint8
        assert data.class_counts() == dict.fromkeys(data.class_counts(), 3)
    assert len(folder_test) == len(csv_test) == 14
    with pytest.raises(DatasetError):
        load_fer2013(tmp_path)


def test_class_weights_favour_rare_classes():
    weights = class_weights(np.array([0, 0, 0, 1]), 3)
    assert weights[1] > weights[0] and weights[2] == 0.0


@pytest.mark.parametrize("form", ["folders", "csv"])
def test_baseline_cnn_learns_synthetic_faces(tmp_path, form):
    writer = write_image_folders if form == "folders" else write_csv
    data = writer(tmp_path / form)
    models = tmp_path / "models"
    out = train_plugin(BaselineCnn, data, models, TrainingOptions(epochs=8, batch_size=32, verbose=0))
    assert EXPECTED_FILES <= {p.name for p in out.iterdir()}
    card = json.loads((out / "model_card.json").read_text())
    assert card["test_metrics"]["accuracy"] > 0.6  # chance is 1/7
    assert set(card["test_metrics"]["per_class"]["sad"]) >= {"precision", "recall", "f1"}
    assert card["training"]["seed"] == 1234 and card["training"]["hardware"]["cores"]

    forget_loaded_plugins()
    plugin = get_plugin("baseline-cnn", models)
    assert plugin.version == out.name
    images, labels = synthetic_split(5, seed=99)
    assert (plugin.predict_batch(images).argmax(axis=1) == labels).mean() > 0.6

    # Grad-CAM works on the trained Sequential model too, aligned to the crop.
    heatmap = gradcam_heatmap(plugin, np.repeat(images[0][..., None], 3, axis=-1))
    assert heatmap.shape == (48, 48) and 0.0 <= heatmap.min() and heatmap.max() <= 1.0


def test_resnet50v2_trains_one_step_saves_and_loads(tmp_path):
    data = write_csv(tmp_path / "csv", (7, 2))
    models = tmp_path / "models"
    options = TrainingOptions(epochs=1, batch_size=64, input_size=32, verbose=0)
    out = train_plugin(ResNet50V2Transfer, data, models, options)
    card = json.loads((out / "model_card.json").read_text())
    assert card["training"]["epochs_run"] == 1
    assert any("from scratch" in limit for limit in card["limits"])
    forget_loaded_plugins()
    plugin = get_plugin("resnet50v2", models)
    assert plugin.available() and plugin.input_shape == (32, 32, 3)
    face = np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)
    assert plugin.predict_batch([face]).shape == (1, 7)
    heatmap = gradcam_heatmap(plugin, face)
    assert heatmap.shape == (40, 40)


class _DiesAfterFirstEpoch:
    """A progress reporter whose run is cut off mid-training, as a killed worker's would be."""

    def batch(self, epoch, batch, batches, logs):
        if epoch == 1:
            raise RuntimeError("worker killed")

    def epoch(self, epoch, history):
        pass

    def should_stop(self):
        return False


def test_a_run_cut_off_midway_leaves_no_usable_version_and_keeps_the_old_one(tmp_path):
    data = write_csv(tmp_path / "csv", (3, 2))
    models = tmp_path / "models"
    old = train_plugin(BaselineCnn, data, models, TrainingOptions(epochs=1, batch_size=16, verbose=0,
                                                                  augment=False))
    before = sorted(p.name for p in old.iterdir())
    assert json.loads((old / "model_card.json").read_text())["training"]["augmentation"] == "off"
    with pytest.raises(RuntimeError, match="worker killed"):
        train_plugin(BaselineCnn, data, models, TrainingOptions(epochs=3, batch_size=16, verbose=0),
                     reporter=_DiesAfterFirstEpoch())
    assert [p.name for p in (models / "baseline-cnn").iterdir()] == [old.name]
    assert sorted(p.name for p in old.iterdir()) == before
    assert list((models / ".staging").iterdir()) == []
