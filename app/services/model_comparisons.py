"""Model versions evaluated on one shared test split, side by side.

The console (/admin/models/compare) and `flask ml compare` share `evaluate_versions`, which runs
`flask ml evaluate`'s code (app.ml.training.evaluation.evaluate_plugin) for each version on the
test split of one data set. The console runs it as a job on the training queue; each comparison
is kept as JSON under ML_MODELS_DIR/.comparisons/<id>/ (the folder the web nodes and the training
worker share), beside the figures the evaluator draws. A version's own evaluation files are not
touched.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import gettext

from app.extensions import db
from app.jobs import training_queue
from app.models._time import utcnow
from app.plugins.registry import deployment_plugins, instantiate
from app.security import audit
from app.services import training_runs
from app.services.errors import ServiceError

FOLDER = ".comparisons"
RECORD = "comparison.json"
ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}")
QUEUED, DONE, FAILED = "queued", "done", "failed"


class ComparisonError(ServiceError):
    """A comparison that cannot start; `message` says why."""


def _root() -> Path:
    return Path(current_app.config["ML_MODELS_DIR"]) / FOLDER


def checked_versions(values) -> list[tuple[str, str]]:
    """(plugin, version) for each "plugin/version" value: complete versions only, at least two."""
    chosen = []
    for value in dict.fromkeys(values):
        plugin, _, version = value.partition("/")
        found = training_runs.get_version(plugin, version)
        if found is None:
            raise ComparisonError(gettext("There is no model version “%(version)s”.", version=value))
        if found.stopped:
            raise ComparisonError(gettext("%(plugin)s %(version)s was stopped before it finished training; "
                                          "compare complete versions.", plugin=plugin, version=version))
        chosen.append((plugin, version))
    if len(chosen) < 2:
        raise ComparisonError(gettext("Choose at least two versions to compare."))
    return chosen


def parse_request(form) -> tuple[str, list[tuple[str, str]]]:
    """The data set and the complete versions an admin chose, or ComparisonError saying what is wrong."""
    dataset = form.get("dataset", "")
    if dataset not in training_runs.server_dataset_names():
        raise ComparisonError(gettext("Choose a data set on the server; its test split is the one every "
                                      "version is evaluated on."))
    return dataset, checked_versions(form.getlist("versions"))


def evaluate_versions(data_path: Path, versions: list[tuple[str, str]], out_root: Path) -> dict:
    """Evaluate every version on the test split of `data_path`; one row of figures per version."""
    from app.ml.training.datasets import load_fer2013
    from app.ml.training.evaluation import evaluate_plugin

    _, test = load_fer2013(data_path)
    classes = deployment_plugins()
    rows = []
    for name, version in versions:
        plugin = instantiate(classes[name], current_app.config["ML_MODELS_DIR"], version)
        plugin.prefer_runtime(current_app.config["ML_BACKEND"])
        plugin.load()
        metrics = evaluate_plugin(plugin, test, out_root / f"{name}-{version}")
        rows.append({
            "plugin": name, "version": version, "runtime": plugin.runtime,
            "accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
            "recall": {label: row["recall"] for label, row in metrics["per_class"].items()},
            "latency_ms_per_face": metrics["latency_ms_per_face"],
            "size_mb": round(plugin.model_path().stat().st_size / 1e6, 1),
            "confusion_matrix": metrics["confusion_matrix"],
        })
    return {"test_images": len(test), "class_counts": test.class_counts(), "results": rows}


def _write(record: dict) -> None:
    folder = _root() / record["id"]
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / (RECORD + ".tmp")
    temporary.write_text(json.dumps(record, indent=2))
    temporary.replace(folder / RECORD)


def create(dataset: str, versions: list[tuple[str, str]], actor_id: int | None) -> str:
    """Record a queued comparison and audit it; returns its id. `dataset` is a name under
    TRAINING_DATA_DIR, or (from the CLI) a path."""
    comparison_id = f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    _write({"id": comparison_id, "status": QUEUED, "dataset": dataset, "created_at": utcnow().isoformat(),
            "versions": [list(v) for v in versions]})
    audit.record("model.compare", actor_id=actor_id, target=f"comparison:{comparison_id}",
                 details={"dataset": dataset, "versions": [f"{p}/{v}" for p, v in versions]})
    db.session.commit()
    return comparison_id


def start(dataset: str, versions: list[tuple[str, str]], actor_id: int | None) -> str:
    """Record the comparison and queue its evaluation on the training queue; returns its id."""
    comparison_id = create(dataset, versions, actor_id)
    training_queue.comparison(comparison_id)
    return comparison_id


def run(comparison_id: str) -> str:
    """The job's work: evaluate and store the figures, or the reason it could not."""
    from app.ml.training.datasets import DatasetError
    from app.plugins.base import PluginUnavailable

    record = load(comparison_id)
    if record is None or record["status"] != QUEUED:
        return "gone"
    try:
        record.update(evaluate_versions(training_runs.data_root() / record["dataset"],
                                        [tuple(v) for v in record["versions"]], _root() / comparison_id))
        record["status"] = DONE
    except (DatasetError, PluginUnavailable, KeyError, OSError) as error:
        record.update(status=FAILED, error=f"The comparison could not run: {error}")
    except Exception as error:
        record.update(status=FAILED, error=f"The comparison failed ({type(error).__name__}): {error}")
        _write(record)
        raise
    record["finished_at"] = utcnow().isoformat()
    _write(record)
    return record["status"]


def load(comparison_id: str) -> dict | None:
    if not ID.fullmatch(comparison_id):
        return None
    try:
        return json.loads((_root() / comparison_id / RECORD).read_text())
    except (OSError, ValueError):
        return None


def recent(limit: int = 10) -> list[dict]:
    root = _root()
    if not root.is_dir():
        return []
    ids = sorted((p.name for p in root.iterdir() if ID.fullmatch(p.name)), reverse=True)[:limit]
    return [record for record in map(load, ids) if record is not None]
