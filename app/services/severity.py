"""The clinic's own severity estimate: trained on consenting patients, shown only once validated.

`train()` fits the ridge model of app.ml.severity on one completed screening per consenting patient
(their latest) and cross-validates it; the result, with its errors, is kept as JSON in the
instance folder. A doctor sees an estimate only while that model is validated: at least
SEVERITY_MIN_N patients and a cross-validated MAE under SEVERITY_MAX_MAE.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from flask import current_app

from app.ml import severity
from app.models._time import utcnow
from app.models.screening import Screening
from app.services import evidence

MODEL_FILE = "severity_model.json"

# Every doctor's view of a shared screening asks for the model: the file is parsed once per
# version of it, not once per view. A version is its mtime, size and inode (a retraining replaces
# the file, so all three change), which lets every web process pick up a new model at its next
# view without a restart.
_loaded: dict[Path, tuple[tuple[int, int, int], dict | None]] = {}


class SeverityError(ValueError):
    pass


@dataclass(frozen=True)
class Estimate:
    value: float
    mae: float  # the cross-validated mean absolute error: the error bar shown beside the value


def _model_path() -> Path:
    return Path(current_app.instance_path) / MODEL_FILE


def _features_of(screening: Screening) -> np.ndarray:
    frames = [f.probabilities for f in screening.frames if f.probabilities]
    return severity.features(screening.facial_result.get("summary") or {}, frames)


def _usable(screening: Screening) -> bool:
    return bool((screening.facial_result or {}).get("summary"))


def train(folds: int = 5, alpha: float = 1.0) -> dict:
    """Fit, cross-validate and store the model; returns what was stored."""
    latest: dict[int, Screening] = {}
    for screening in evidence.study_screenings():  # ordered by id: the last one per patient wins
        if _usable(screening):
            latest[screening.patient_id] = screening
    screenings = list(latest.values())
    if len(screenings) < folds:
        raise SeverityError(f"Too few screenings to train on: {len(screenings)} patients with research "
                            f"consent and a completed face screening; at least {folds} are needed.")
    x = np.array([_features_of(s) for s in screenings])
    y = np.array([s.phq9_total for s in screenings], dtype=float)
    cv = severity.cross_validate(x, y, folds=folds, alpha=alpha)
    config = current_app.config
    stored = {
        "trained_at": utcnow().isoformat(timespec="seconds"),
        "n": cv.n, "folds": folds, "alpha": alpha, "cv_mae": cv.mae, "cv_rmse": cv.rmse,
        "features": list(severity.FEATURES),
        "validated": cv.n >= config["SEVERITY_MIN_N"] and cv.mae < config["SEVERITY_MAX_MAE"],
        "model": severity.fit_ridge(x, y, alpha).to_dict(),
    }
    path = _model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(stored))
    temporary.replace(path)  # never a half-written model
    return stored


def _stored() -> dict | None:
    path = _model_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    version = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    cached = _loaded.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    try:
        stored = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):  # replaced or removed since the stat; the next view reads it
        stored = None
    _loaded[path] = (version, stored)
    return stored


def trained_model() -> dict | None:
    """What the last training stored (when, n, folds, CV MAE and RMSE, validated); None before any."""
    return _stored()


def estimate_for(screening: Screening) -> Estimate | None:
    """The estimate a doctor may see; None unless a validated model exists and the screening has a face."""
    stored = _stored()
    if stored is None or not stored["validated"] or not _usable(screening):
        return None
    model = severity.RidgeModel.from_dict(stored["model"])
    return Estimate(value=float(model.predict(_features_of(screening))[0]), mae=float(stored["cv_mae"]))
