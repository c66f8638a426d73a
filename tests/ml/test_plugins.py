"""Plugin registry: built-ins, third-party discovery through a real entry point, registration once
at start-up, serving versions, availability."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from flask import Flask

from app.plugins import (
    DEFAULT_PLUGIN,
    ENTRY_POINT_GROUP,
    PluginUnavailable,
    UnknownPlugin,
    deployment_plugins,
    describe_plugins,
    discover_plugins,
    get_plugin,
)
from app.plugins.base import MODEL_FILE
from app.plugins.registry import register_plugins


def registered_app(**config) -> Flask:
    """A bare Flask app that went through the start-up registration, with `config`."""
    app = Flask(__name__)
    app.config.update(config)
    register_plugins(app)
    return app


def test_builtins_are_registered_once_and_narrowed_by_allowed_plugins():
    assert list(discover_plugins())[:3] == ["fer2013-mini-xception", "baseline-cnn", "resnet50v2"]
    assert DEFAULT_PLUGIN == "fer2013-mini-xception"
    with registered_app(ALLOWED_PLUGINS=["baseline-cnn"]).app_context():
        assert list(deployment_plugins()) == ["baseline-cnn"]
        with pytest.raises(UnknownPlugin):
            get_plugin(DEFAULT_PLUGIN, "/nowhere")


def test_untrained_plugin_is_unavailable_and_says_how_to_train(tmp_path):
    with registered_app().app_context():
        rows = {row["name"]: row for row in describe_plugins(tmp_path)}
    assert rows["fer2013-mini-xception"]["available"]
    assert not rows["baseline-cnn"]["available"]
    assert "flask ml train baseline-cnn" in rows["baseline-cnn"]["unavailable_reason"]
    with pytest.raises(PluginUnavailable, match="flask ml train resnet50v2"):
        get_plugin("resnet50v2", tmp_path)
    with pytest.raises(UnknownPlugin):
        get_plugin("no-such-plugin", tmp_path)


def fake_version(models_dir, name: str, version: str) -> None:
    folder = models_dir / name / version
    folder.mkdir(parents=True)
    (folder / MODEL_FILE).write_bytes(b"not loaded here")


def test_a_versioned_plugin_describes_the_version_asked_for_not_the_newest(tmp_path):
    fake_version(tmp_path, "baseline-cnn", "20260101-000000")
    fake_version(tmp_path, "baseline-cnn", "20260202-000000")
    with registered_app().app_context():
        rows = {row["name"]: row for row in describe_plugins(tmp_path, {"baseline-cnn": "20260101-000000"})}
        assert rows["baseline-cnn"]["version"] == "20260101-000000"
        newest = {row["name"]: row for row in describe_plugins(tmp_path)}
        assert newest["baseline-cnn"]["version"] == "20260202-000000"
        [missing] = [row for row in describe_plugins(tmp_path, {"baseline-cnn": "20990101-000000"})
                     if row["name"] == "baseline-cnn"]
        assert "Version 20990101-000000 of baseline-cnn is not in" in missing["unavailable_reason"]
        with pytest.raises(PluginUnavailable, match="not a model version"):
            get_plugin("baseline-cnn", tmp_path, version="../../etc")
        with pytest.raises(PluginUnavailable, match="no versions to choose among"):
            get_plugin(DEFAULT_PLUGIN, tmp_path, version="20260101-000000")


def test_pretrained_plugin_card_and_batch(pretrained, tmp_path):
    card = pretrained.model_card()
    assert card["source"]["license"] == "MIT"
    assert card["published_accuracy"]["value"] == 0.66
    assert pretrained.input_shape == (64, 64, 1)
    crops = [np.random.default_rng(i).integers(0, 255, (80 + i, 80 + i, 3), dtype=np.uint8) for i in range(3)]
    probabilities = pretrained.predict_batch(crops)
    assert probabilities.shape == (3, 7)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert get_plugin(DEFAULT_PLUGIN, pretrained.models_dir) is pretrained  # loaded once per process


def test_third_party_plugin_is_discovered_through_entry_point(tmp_path, monkeypatch):
    package = tmp_path / "moodlens_constant_plugin"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent("""
        import numpy as np
        from app.plugins.base import ClassifierPlugin

        class ConstantPlugin(ClassifierPlugin):
            name = "constant-test"
            default_input_shape = (8, 8, 1)

            def unavailable_reason(self):
                return None

            def _load(self):
                pass

            def predict_batch(self, faces):
                return np.full((len(faces), 7), 1 / 7)
    """)
    )
    dist_info = tmp_path / "moodlens_constant_plugin-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: moodlens-constant-plugin\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nconstant-test = moodlens_constant_plugin:ConstantPlugin\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    app = registered_app()
    assert "constant-test" in discover_plugins()
    with registered_app(ALLOWED_PLUGINS=[DEFAULT_PLUGIN]).app_context():
        assert "constant-test" not in deployment_plugins()
    with app.app_context():
        plugin = get_plugin("constant-test", tmp_path)
        assert plugin.predict_batch([np.zeros((8, 8))]).shape == (1, 7)
        assert plugin.model_card()["name"] == "constant-test"
