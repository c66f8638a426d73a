"""The RQ job that trains a model for a training_runs row, reporting progress into the row."""

from __future__ import annotations

import time
from pathlib import Path

from flask import current_app

from app.extensions import db
from app.jobs import periodic
from app.models._time import utcnow
from app.models.training_run import TrainingRun, TrainingStatus
from app.services import training_runs

# Writing the row every batch would cost more than a small batch; this keeps the page live.
BATCH_REPORT_SECONDS = 2.0


class RowReporter:
    """trainer.ProgressReporter backed by the run's row: progress, heartbeat, Stop."""

    def __init__(self, run: TrainingRun, epochs: int):
        self.run = run
        self.epochs = epochs
        self.started = time.monotonic()
        self.last_write = 0.0
        self.history: dict[str, list[float]] = {}

    def _write(self, **fields) -> None:
        elapsed = time.monotonic() - self.started
        progress = {**(self.run.progress or {}), **fields, "elapsed_s": round(elapsed),
                    "epochs": self.epochs, "history": self.history}
        done = progress.get("epoch_done", 0) + progress.get("batch", 0) / max(1, progress.get("batches", 1))
        progress["remaining_s"] = round(elapsed / done * (self.epochs - done)) if done else None
        self.run.progress = progress
        self.run.heartbeat_at = utcnow()
        db.session.commit()
        self.last_write = time.monotonic()

    def batch(self, epoch: int, batch: int, batches: int, logs: dict) -> None:
        if time.monotonic() - self.last_write >= BATCH_REPORT_SECONDS or batch == batches:
            self._write(epoch_done=epoch, batch=batch, batches=batches, loss=logs.get("loss"))

    def epoch(self, epoch: int, history: dict[str, list[float]]) -> None:
        self.history = {k: list(v) for k, v in history.items()}
        self._write(epoch_done=epoch, batch=0)

    def should_stop(self) -> bool:
        db.session.refresh(self.run, ["stop_requested"])
        return self.run.stop_requested


def run_training(run_id: int) -> str | None:
    from app.ml.training.datasets import DatasetError
    from app.ml.training.trainer import TrainingOptions, train_plugin
    from app.plugins import deployment_plugins

    run = db.session.get(TrainingRun, run_id)
    if run is None or run.status != TrainingStatus.QUEUED:
        return None
    run.status = TrainingStatus.RUNNING
    run.heartbeat_at = utcnow()
    db.session.commit()
    options = run.options
    weights = options.get("imagenet_weights")
    training_options = TrainingOptions(epochs=options["epochs"], batch_size=options["batch_size"],
                                       augment=options["augment"], verbose=0,
                                       imagenet_weights=Path(weights) if weights else None)
    reporter = RowReporter(run, options["epochs"])
    try:
        plugin_class = deployment_plugins()[run.plugin]
        out_dir = train_plugin(plugin_class, run.data_path, current_app.config["ML_MODELS_DIR"],
                               training_options, reporter)
    except (DatasetError, ValueError, OSError) as exc:
        db.session.rollback()
        run.status = TrainingStatus.FAILED
        run.error = f"Training could not run: {exc}"
    except Exception as exc:
        db.session.rollback()
        run.status = TrainingStatus.FAILED
        run.error = f"Training failed ({type(exc).__name__}): {exc}"
        raise
    else:
        run.version = out_dir.name
        run.status = TrainingStatus.STOPPED if run.stop_requested else TrainingStatus.DONE
    finally:
        run.finished_at = utcnow()
        db.session.commit()
    return run.version


def sweep_lost_training_runs() -> int:
    """Periodic: runs whose worker died are failed with their reason even if no admin opens a page."""
    lost = training_runs.sweep_lost_runs()
    periodic.reschedule(TRAINING_SWEEP)
    return lost


TRAINING_SWEEP = periodic.PeriodicJob("training-sweep", sweep_lost_training_runs,
                                      "TRAINING_SWEEP_SECONDS", 60)


def train_severity(folds: int, alpha: float) -> dict:
    """The console's severity training: `severity.train`, as `flask ml train-severity` runs it.

    A refusal (too few patients) is the job's result, `{"error": ...}`, for the page to show.
    """
    from app.services import severity

    try:
        return severity.train(folds=folds, alpha=alpha)
    except severity.SeverityError as error:
        return {"error": str(error)}


def compare_versions(comparison_id: str) -> str:
    """The console's comparison: every chosen version evaluated on one shared test split."""
    from app.services import model_comparisons

    return model_comparisons.run(comparison_id)
