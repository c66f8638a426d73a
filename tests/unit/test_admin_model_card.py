"""The model card fragment: every part of a card renders, with a confusion matrix drawn from data."""

from __future__ import annotations

from flask import render_template_string

from app.services.plugin_settings import PluginStatus

LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
TEMPLATE = '{% from "admin/partials/model_card.html" import model_card %}{{ model_card(plugin) }}'


def _render(app, plugin) -> str:
    with app.test_request_context():
        return render_template_string(TEMPLATE, plugin=plugin)


def _plugin(**card) -> PluginStatus:
    return PluginStatus(name="demo-net", description="A demo network.", version="v1", available=True,
                        unavailable_reason=None, enabled=True, is_default=False, labels=LABELS,
                        input_shape=[48, 48, 1], card=card)


def test_card_without_image_draws_the_confusion_matrix_from_the_evaluation(app):
    matrix = [[5 if i == j else 1 for j in range(7)] for i in range(7)]
    html = _render(app, _plugin(
        training_data="FER2013", limits=["Posed faces only."], custom_note="Kept for audit",
        evaluation={"accuracy": 0.61234, "samples": 77, "confusion_matrix": matrix,
                    "per_class": {label: {"precision": 0.5, "recall": 0.4, "f1": 0.44, "support": 11}
                                  for label in LABELS}}))
    assert html.count("<rect ") == 49 and "<svg" in html and 'role="img"' in html
    assert "true angry, predicted angry: 5" in html
    assert "0.612" in html and "48×48×1" in html and "Posed faces only." in html
    assert "Custom note" in html and "Kept for audit" in html
    assert html.count('<th scope="row">') == 7  # the per-emotion table
    assert "style=" not in html  # the CSP allows no inline styles


def test_card_without_evaluation_says_how_to_get_one(app):
    html = _render(app, _plugin())
    assert "No evaluation yet" in html and "flask ml evaluate demo-net" in html
    assert "None documented." in html and "Not documented" in html
