"""/admin/models: trained model versions, training runs with live progress, comparison.

Training data (FER2013 or a clinic's own expression set) is not patient data; nothing here
shows a screening or any clinical value.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.admin import bp, charts
from app.blueprints.admin.forms import ActionForm
from app.blueprints.admin.routes import admin_only
from app.extensions import csrf, db
from app.models._ids import parse_id
from app.models.training_run import TrainingRun
from app.services import model_comparisons, plugin_settings, training_runs
from app.web.errors import refusals_shown_on
from app.web.htmx import is_htmx, render_page_or_fragment

# Figures a version folder may hold; nothing else in it is served.
FIGURES = {"confusion_matrix", "sample_predictions", "augmented_samples", "class_counts", "training_curves"}


def _models_page(error: str | None = None, status: int = 200):
    training_runs.sweep_lost_runs()
    page = render_template("admin/models/index.html", versions=training_runs.versions(),
                           serving=plugin_settings.serving_versions(),
                           severity=training_runs.severity_state(),
                           severity_folds=training_runs.SEVERITY_FOLDS,
                           runs=training_runs.recent_runs(),
                           datasets=training_runs.server_dataset_names(),
                           plugins=training_runs.TRAINABLE, form=ActionForm(), error=error,
                           upload_limit_mb=current_app.config["TRAINING_UPLOAD_MAX_BYTES"] // (1024 * 1024))
    return page, status


@bp.get("/models")
@admin_only
def models():
    return _models_page()


@bp.post("/models/severity")
@admin_only
@refusals_shown_on(lambda: _models_page()[0])
def train_severity():
    training_runs.start_severity_training(current_user.id)
    flash("The severity estimate is being trained on the training queue; this page shows the result.",
          "success")
    return redirect(url_for("admin.models", _anchor="severity"), code=303)


@bp.post("/models/train")
@admin_only
@csrf.exempt  # checked below, once the larger upload limit of this form is in force
def train_model():
    limit = current_app.config["TRAINING_UPLOAD_MAX_BYTES"]
    # Room for the weights file and the form fields on top of the data set itself.
    request.max_content_length = 2 * limit + 1024 * 1024
    csrf.protect()
    try:
        options = training_runs.parse_options(request.form)
        weights = training_runs.receive_imagenet_weights(request.files.get("imagenet_weights"))
        data_path = training_runs.receive_dataset(request.files.get("dataset_file"),
                                                  request.form.get("dataset", ""))
        run = training_runs.start_run(options, data_path, current_user.id, weights)
    except training_runs.TrainingRequestError as error:
        return _models_page(error=str(error), status=error.status)
    return redirect(url_for("admin.training_run", run_id=run.id), code=303)


def _run_or_404(run_id: str) -> TrainingRun:
    run = db.session.get(TrainingRun, parse_id(run_id) or 0)
    if run is None:
        abort(404, description=_("There is no such training run."))
    return run


def _run_context(run: TrainingRun) -> dict:
    history = (run.progress or {}).get("history", {})
    return {"run": run, "form": ActionForm(),
            "loss_chart": charts.curve(history.get("loss"), history.get("val_loss")),
            "accuracy_chart": charts.curve(history.get("accuracy"), history.get("val_accuracy"))}


@bp.get("/models/runs/<run_id>")
@admin_only
def training_run(run_id: str):
    run = _run_or_404(run_id)
    training_runs.sweep_lost_runs()
    template = "admin/models/run_progress.html" if is_htmx() else "admin/models/run.html"
    return render_template(template, **_run_context(run))


@bp.post("/models/runs/<run_id>/stop")
@admin_only
def stop_training_run(run_id: str):
    run = _run_or_404(run_id)
    training_runs.request_stop(run, current_user.id)
    if is_htmx():
        return render_template("admin/models/run_progress.html", **_run_context(run))
    return redirect(url_for("admin.training_run", run_id=run.id), code=303)


def _version_or_404(plugin: str, version: str):
    found = training_runs.get_version(plugin, version)
    if found is None:
        abort(404, description=_("There is no such model version."))
    return found


def _version_page(plugin: str, version: str, confirm: str | None = None):
    found = _version_or_404(plugin, version)
    training = found.card.get("training", {})
    history = training.get("history", {})
    counts = found.card.get("training_data", {}).get("class_counts", {})
    return render_template(
        "admin/models/version.html", version=found, form=ActionForm(), labels=training_runs.LABELS,
        serving=plugin_settings.serving_versions().get(plugin), confirm=confirm,
        figures={name for name in FIGURES if (found.folder / f"{name}.png").is_file()},
        counts_chart=charts.bars(counts) if counts else None,
        loss_chart=charts.curve(history.get("loss"), history.get("val_loss")),
        accuracy_chart=charts.curve(history.get("accuracy"), history.get("val_accuracy")))


@bp.get("/models/<plugin>/<version>")
@admin_only
def model_version(plugin: str, version: str):
    return _version_page(plugin, version)


def _serve_refused():
    """A refused choice shows the version page again, or the list when there is no such version."""
    plugin, version = request.view_args["plugin"], request.view_args["version"]
    if training_runs.get_version(plugin, version) is None:
        return _models_page()[0]
    return _version_page(plugin, version)


@bp.post("/models/<plugin>/<version>/serve")
@admin_only
@refusals_shown_on(_serve_refused)
def serve_model_version(plugin: str, version: str):
    confirmed = request.form.get("confirm") == "yes"
    try:
        plugin_settings.set_serving_version(plugin, version, actor_id=current_user.id, confirmed=confirmed)
    except plugin_settings.ConfirmationRequired as question:
        # Not a refusal: the version page asks, with its test numbers, and offers the confirmed form.
        return _version_page(plugin, version, confirm=str(question))
    flash(f"{plugin} {version} now serves every new screening with {plugin}.", "success")
    return redirect(url_for("admin.model_version", plugin=plugin, version=version), code=303)


@bp.get("/models/<plugin>/<version>/<figure>.png")
@admin_only
def model_figure(plugin: str, version: str, figure: str):
    found = _version_or_404(plugin, version)
    path = found.folder / f"{figure}.png"
    if figure not in FIGURES or not path.is_file():
        abort(404, description=_("This version has no such figure."))
    return send_file(path, mimetype="image/png", max_age=0)


def _compare_page(error: str | None = None):
    return render_template("admin/models/compare.html", versions=training_runs.versions(),
                           datasets=training_runs.server_dataset_names(),
                           comparisons=model_comparisons.recent(), form=ActionForm(), error=error)


@bp.get("/models/compare")
@admin_only
def compare_models():
    return _compare_page()


@bp.post("/models/compare")
@admin_only
def start_comparison():
    try:
        dataset, versions = model_comparisons.parse_request(request.form)
    except model_comparisons.ComparisonError as error:
        return _compare_page(error=str(error)), error.status
    comparison_id = model_comparisons.start(dataset, versions, current_user.id)
    return redirect(url_for("admin.model_comparison", comparison_id=comparison_id), code=303)


@bp.get("/models/compare/<comparison_id>")
@admin_only
def model_comparison(comparison_id: str):
    record = model_comparisons.load(comparison_id)
    if record is None:
        abort(404, description=_("There is no such comparison."))
    return render_page_or_fragment("admin/models/comparison.html",
                                   "admin/models/partials/comparison_result.html",
                                   comparison=record, labels=training_runs.LABELS)
