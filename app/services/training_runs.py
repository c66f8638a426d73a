"""Training runs from the admin console: start, follow, stop, and sweep the lost ones.

The console and `flask ml train` share one code path: both end in
app.ml.training.trainer.train_plugin; the console's job only adds progress reporting and Stop
through the training_runs row. Runs go on their own RQ queue (TRAINING_QUEUE), served by
`flask worker --queue training`, so a day-long training never delays a screening.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from rq.job import JobStatus
from sqlalchemy import select

from app.extensions import db
from app.i18n.marker import N_
from app.jobs import training_queue
from app.ml.severity import AVEC2014_VIDEO
from app.ml.training.uploads import UploadError, receive_upload, save_stream, server_datasets
from app.models._time import utcnow
from app.models.training_run import TrainingRun, TrainingStatus
from app.plugins.base import CARD_FILE, EVALUATION_FILE, FER_LABELS, MODEL_FILE
from app.security import audit
from app.services import severity
from app.services.errors import ServiceError

TRAINABLE = ("baseline-cnn", "resnet50v2")
LABELS = FER_LABELS  # the classes every trainable plugin learns, in the model's output order
# A running job writes its heartbeat every few seconds while it fits; evaluating and converting
# the finished model write none, and take minutes for ResNet50V2 on CPU: hence the margin.
HEARTBEAT_STALE = timedelta(minutes=30)
SEVERITY_FOLDS = 5


class TrainingRequestError(ServiceError):
    """A training request that cannot start or stop; `message` says why, `status` is the HTTP code."""


def server_dataset_names() -> list[str]:
    """Data sets an admin may pick, already under TRAINING_DATA_DIR."""
    return server_datasets(data_root())


def receive_dataset(upload, chosen: str) -> Path:
    """The data set a run trains on: a streamed upload (checked), or one already on the server."""
    root = data_root()
    try:
        if upload is not None and upload.filename:
            return receive_upload(upload.stream, upload.filename, root,
                                  current_app.config["TRAINING_UPLOAD_MAX_BYTES"])
        if chosen not in server_datasets(root):
            raise UploadError(_("Upload a data set or choose one already on the server."))
    except UploadError as error:
        raise TrainingRequestError(str(error), error.status) from error
    return root / chosen


def receive_imagenet_weights(upload) -> Path | None:
    """An uploaded ImageNet weights file, kept only when it loads as ResNet50V2 weights."""
    if upload is None or not upload.filename:
        return None
    root = data_root()
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="weights-", dir=root))
    weights = folder / "imagenet_weights.h5"
    try:
        save_stream(upload.stream, weights, current_app.config["TRAINING_UPLOAD_MAX_BYTES"])
        check_imagenet_weights(weights)
    except (UploadError, TrainingRequestError) as error:
        weights.unlink(missing_ok=True)
        folder.rmdir()
        raise TrainingRequestError(str(error), error.status) from error
    return weights


@dataclass(frozen=True)
class ModelVersion:
    plugin: str
    version: str
    folder: Path
    card: dict
    evaluation: dict

    @property
    def metrics(self) -> dict:
        return self.evaluation or self.card.get("test_metrics") or {}

    @property
    def stopped(self) -> bool:
        return bool(self.card.get("training", {}).get("stopped_early_by_admin"))

    @property
    def size_mb(self) -> float:
        return round((self.folder / MODEL_FILE).stat().st_size / 1e6, 1)


def models_dir() -> Path:
    return Path(current_app.config["ML_MODELS_DIR"])


def data_root() -> Path:
    return Path(current_app.config["TRAINING_DATA_DIR"])


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def versions(plugin: str | None = None) -> list[ModelVersion]:
    """Every trained version on disk (newest first), of one plugin or of all trainable ones."""
    found = []
    for name in (plugin,) if plugin else TRAINABLE:
        folder = models_dir() / name
        if not folder.is_dir():
            continue
        for version_dir in sorted(folder.iterdir(), reverse=True):
            if (version_dir / MODEL_FILE).is_file():
                found.append(ModelVersion(name, version_dir.name, version_dir,
                                          _read_json(version_dir / CARD_FILE),
                                          _read_json(version_dir / EVALUATION_FILE)))
    return found


def get_version(plugin: str, version: str) -> ModelVersion | None:
    return next((v for v in versions(plugin) if v.version == version), None) if plugin in TRAINABLE else None


def check_imagenet_weights(path: Path) -> None:
    """Refuse a file that is not a Keras HDF5 weights file; the job then loads it into the model."""
    import h5py

    try:
        with h5py.File(path, "r") as weights:
            if "layer_names" not in weights.attrs and not len(weights.keys()):
                raise TrainingRequestError(_("The weights file holds no layers."))
    except OSError as exc:
        raise TrainingRequestError(_("The weights file is not a Keras .h5 weights file.")) from exc


OPTION_LABELS = {"epochs": N_("Epochs"), "batch_size": N_("Batch size")}


def parse_options(form: dict) -> dict:
    plugin = form.get("plugin", "")
    if plugin not in TRAINABLE:
        raise TrainingRequestError(_("Choose a plugin: %(plugins)s.", plugins=", ".join(TRAINABLE)))
    bounds = {"epochs": (1, 500), "batch_size": (1, 1024)}
    options = {"plugin": plugin, "augment": bool(form.get("augment"))}
    for key, (low, high) in bounds.items():
        raw = str(form.get(key, "")).strip()
        if not (raw.isascii() and raw.isdigit() and low <= int(raw) <= high):
            raise TrainingRequestError(_("%(field)s must be a whole number %(low)d–%(high)d.",
                                         field=_(OPTION_LABELS[key]), low=low, high=high))
        options[key] = int(raw)
    return options


def start_run(options: dict, data_path: Path, actor_id: int | None,
              imagenet_weights: Path | None = None) -> TrainingRun:
    if imagenet_weights is not None and options["plugin"] != "resnet50v2":
        raise TrainingRequestError(_("ImageNet weights apply to resnet50v2 only."))
    if imagenet_weights is not None:
        check_imagenet_weights(imagenet_weights)
        options = {**options, "imagenet_weights": str(imagenet_weights)}
    run = TrainingRun(plugin=options["plugin"], data_path=str(data_path), options=options,
                      progress={}, started_by_id=actor_id)
    db.session.add(run)
    db.session.flush()
    audit.record("training.start", actor_id=actor_id, target=f"training_run:{run.id}",
                 details={"plugin": run.plugin, "epochs": options["epochs"]})
    db.session.commit()
    training_queue.training_run(run.id)
    return run


def request_stop(run: TrainingRun, actor_id: int | None) -> None:
    if not run.active:
        raise TrainingRequestError(_("This run has already ended."), 409)
    run.stop_requested = True
    audit.record("training.stop", actor_id=actor_id, target=f"training_run:{run.id}")
    db.session.commit()


def sweep_lost_runs(now=None) -> int:
    """Mark runs whose worker stopped beating as failed, with the reason; returns how many."""
    now = now or utcnow()
    lost = db.session.scalars(select(TrainingRun).where(
        TrainingRun.status == TrainingStatus.RUNNING,
        TrainingRun.heartbeat_at < now - HEARTBEAT_STALE,
    )).all()
    for run in lost:
        run.status = TrainingStatus.FAILED
        run.error = (f"The worker stopped responding (no heartbeat since {run.heartbeat_at:%Y-%m-%d %H:%M} "
                     "UTC); nothing was saved as a model version.")
        run.finished_at = now
    db.session.commit()
    return len(lost)


def recent_runs(limit: int = 20) -> list[TrainingRun]:
    return list(db.session.scalars(select(TrainingRun).order_by(TrainingRun.id.desc()).limit(limit)))


@dataclass(frozen=True)
class SeverityState:
    """The severity estimate on the models page: the stored model and the latest console job."""

    model: dict | None
    job_status: str | None  # queued, started, finished, failed; None when no job is remembered
    error: str | None

    # For orientation beside the clinic's errors: published video results on another instrument.
    avec = AVEC2014_VIDEO

    @property
    def running(self) -> bool:
        return self.job_status in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED)


def severity_state() -> SeverityState:
    job_status = error = None
    job = training_queue.severity_training_job()
    if job is not None:
        job_status = job.get_status()
        result = job.return_value() if job_status == JobStatus.FINISHED else None
        if isinstance(result, dict) and "error" in result:
            error = result["error"]
        elif job_status == JobStatus.FAILED:
            error = "The severity training failed on the worker; its log has the details."
    return SeverityState(model=severity.trained_model(), job_status=job_status, error=error)


def start_severity_training(actor_id: int | None) -> None:
    """Queue the severity training (the code path of `flask ml train-severity`) on the training queue."""
    if severity_state().running:
        raise TrainingRequestError("The severity estimate is already being trained.", 409)
    audit.record("severity.train", actor_id=actor_id, details={"folds": SEVERITY_FOLDS})
    db.session.commit()
    training_queue.severity_training(SEVERITY_FOLDS, 1.0)
