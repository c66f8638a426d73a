"""/admin/models/compare and `flask ml compare`: every chosen version evaluated on one shared test split."""

from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs.training import compare_versions
from app.ml.training.trainer import TrainingOptions, train_plugin
from app.models.audit import AuditEvent
from app.plugins.builtin import BaselineCnn
from tests import factories
from tests.helpers import client_for, csrf_token
from tests.ml.fer_synthetic import write_csv

pytestmark = pytest.mark.slow
PLUGIN = "baseline-cnn"


def compare(client, **fields):
    data = {"csrf_token": csrf_token(client, "/admin/models/compare"), **fields}
    return client.post("/admin/models/compare", data=data)


def test_versions_are_evaluated_on_one_split_by_the_console_and_the_cli(training_app, tmp_path):
    models = tmp_path / "ml_models"
    trained_on = write_csv(tmp_path / "first", (6, 2))
    first = train_plugin(BaselineCnn, trained_on, models, TrainingOptions(epochs=1, batch_size=32, verbose=0))
    # A second version: the same weights under another name, so both must score alike on one split.
    second = models / PLUGIN / "20000101-000000"
    shutil.copytree(first, second)
    stopped = models / PLUGIN / "20000102-000000"
    shutil.copytree(first, stopped)
    card = json.loads((stopped / "model_card.json").read_text())
    card["training"]["stopped_early_by_admin"] = True
    (stopped / "model_card.json").write_text(json.dumps(card))
    own_evaluation = (first / "evaluation.json").read_text()
    write_csv(tmp_path / "training-data" / "shared", (1, 3))  # 21 test images
    client = client_for(training_app, factories.admin())

    pair = [f"{PLUGIN}/{first.name}", f"{PLUGIN}/{second.name}"]
    for fields, message in (({"dataset": "shared", "versions": pair[:1]}, "at least two"),
                            ({"versions": pair}, "Choose a data set"),
                            ({"dataset": "shared", "versions": [pair[0], f"{PLUGIN}/{stopped.name}"]},
                             "stopped before it finished"),
                            ({"dataset": "shared", "versions": [pair[0], f"{PLUGIN}/nope"]},
                             "There is no model version")):
        refused = compare(client, **fields)
        assert refused.status_code == 400 and message in refused.get_data(as_text=True)

    started = compare(client, dataset="shared", versions=pair)
    assert started.status_code == 303
    url = started.headers["Location"]
    comparison_id = url.rsplit("/", 1)[1]
    waiting = client.get(url).get_data(as_text=True)
    assert "Waiting for the training worker" in waiting and 'hx-trigger="every 3s"' in waiting
    assert compare_versions(comparison_id) == "done"  # what the training worker runs
    # The waiting page's next poll brings the result alone, which polls no more.
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="comparison-result"')
    assert 'id="compare-table"' in fragment and "hx-trigger" not in fragment and "<html" not in fragment

    page = client.get(url).get_data(as_text=True)
    assert "the same 21 test images" in page
    table = page.split('id="compare-table"')[1].split("</table>")[0]
    for measure in ("Accuracy", "Macro-F1", "Recall: sad", "Per-face latency", "Size"):
        assert measure in table
    accuracy_cells = table.split("Accuracy</th>")[1].split("</tr>")[0]
    assert accuracy_cells.count("<td>") == 2 and len(set(accuracy_cells.split("<td>")[1:])) == 1
    assert page.count("confusion-matrix") == 2
    assert (first / "evaluation.json").read_text() == own_evaluation  # its own evaluation is kept
    assert comparison_id in client.get("/admin/models/compare").get_data(as_text=True)
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "model.compare")).all()
    assert event.details["dataset"] == "shared"
    assert client.get("/admin/models/compare/20990101-000000-abcdef").status_code == 404
    assert client.get("/admin/models/compare/..").status_code == 404

    result = training_app.test_cli_runner().invoke(args=[
        "ml", "compare", "--data", str(tmp_path / "training-data" / "shared"),
        f"{PLUGIN}/{first.name}", f"{PLUGIN}/{second.name}"])
    assert result.exit_code == 0, result.output
    assert "On the same 21 test images" in result.output and result.output.count("accuracy") == 2
    refused = training_app.test_cli_runner().invoke(args=[
        "ml", "compare", "--data", str(tmp_path / "training-data" / "shared"), f"{PLUGIN}/{first.name}"])
    assert refused.exit_code != 0 and "at least two" in refused.output
