"""The local validation study: does the facial indicator agree with PHQ-9 and with doctors here?

A refresh reads the completed photo and clip screenings of patients with an open research
consent, groups them by plugin version × indicator version × media kind, and stores one
aggregate row per group and reference standard. Groups with fewer than EVIDENCE_MIN_N screenings
in either class keep only their counts, so nothing is computed from a handful of patients.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from app.clinical import evidence as stats
from app.extensions import db
from app.models._time import utcnow
from app.models.care import Consultation, Diagnosis, DiagnosisOutcome
from app.models.evidence import EvidenceSnapshot, IndicatorThreshold
from app.models.screening import Screening, ScreeningKind, ScreeningStatus
from app.models.user import ConsentRecord
from app.security import audit
from app.services.errors import ServiceError
from app.services.research_consent import RESEARCH_CONSENT

PHQ9_POSITIVE_TOTAL = 10  # the published cut-off for moderate depression
REFERENCE_PHQ9 = "phq9"
REFERENCE_DIAGNOSIS = "diagnosis"
BOOTSTRAP_ROUNDS = 1000


def _consenting_patient_ids() -> select:
    return select(ConsentRecord.patient_id).where(ConsentRecord.kind == RESEARCH_CONSENT,
                                                  ConsentRecord.withdrawn_at.is_(None))


def study_screenings() -> list[Screening]:
    """Completed photo and clip screenings with an indicator, of patients consenting to research."""
    return list(db.session.scalars(select(Screening).where(
        Screening.status == ScreeningStatus.DONE,
        Screening.kind.in_([ScreeningKind.PHOTO, ScreeningKind.CLIP]),
        Screening.affect_indicator.is_not(None),
        Screening.patient_id.in_(_consenting_patient_ids()),
    ).order_by(Screening.id)))


def doctors_conclusions(screenings: list[Screening]) -> dict[int, bool]:
    """For each screening, by id, the conclusion it led to: the latest diagnosis (confirmed True,
    rejected False) a doctor of that patient recorded within EVIDENCE_DIAGNOSIS_WINDOW_DAYS after
    it. A screening taken months into treatment is not labelled by a conclusion about another
    time, and one with no conclusion in its window is left out of this reference."""
    window = timedelta(days=int(current_app.config["EVIDENCE_DIAGNOSIS_WINDOW_DAYS"]))
    by_patient: dict[int, list[tuple[datetime, bool]]] = defaultdict(list)
    for patient_id, outcome, created_at in db.session.execute(
            select(Consultation.patient_id, Diagnosis.outcome, Diagnosis.created_at)
            .join(Diagnosis, Diagnosis.consultation_id == Consultation.id)
            .where(Consultation.patient_id.in_({s.patient_id for s in screenings}))
            .order_by(Diagnosis.created_at, Diagnosis.id)):
        by_patient[patient_id].append((created_at, outcome == DiagnosisOutcome.CONFIRMED))
    conclusions = {}
    for screening in screenings:
        within = [confirmed for when, confirmed in by_patient.get(screening.patient_id, ())
                  if screening.created_at <= when <= screening.created_at + window]
        if within:
            conclusions[screening.id] = within[-1]
    return conclusions


def _indicator_version(screening: Screening) -> str:
    summary = (screening.facial_result or {}).get("summary") or {}
    return str(summary.get("version") or "unknown")


def group_key(screening: Screening) -> tuple[str, str, str, str]:
    return (screening.plugin_name, screening.plugin_version or "unknown", _indicator_version(screening),
            screening.kind.value)


def figures(scores: list[float], labels: list[int], threshold: float,
            phq9_totals: list[int] | None) -> dict:
    """Every aggregate shown for one group; JSON-ready."""
    auc = stats.roc_auc_ci(scores, labels, rounds=BOOTSTRAP_ROUNDS)
    youden = stats.youden_threshold_ci(scores, labels, rounds=BOOTSTRAP_ROUNDS)
    return {
        "auc": asdict(auc),
        "at_threshold": asdict(stats.at_threshold(scores, labels, threshold)),
        "youden": asdict(youden),
        "calibration": [asdict(b) for b in stats.calibration_by_decile(scores, labels)],
        "spearman_phq9": None if phq9_totals is None else stats.spearman(scores, phq9_totals),
        "roc": [[round(fpr, 4), round(tpr, 4)] for fpr, tpr in stats.roc_curve(scores, labels)],
    }


def refresh() -> list[EvidenceSnapshot]:
    """Replace the stored snapshots with one per group and reference standard, computed now;
    the caller commits. Replacing (not appending) is what makes a withdrawal take effect: no row
    computed with a withdrawn patient's screenings outlives the next refresh."""
    min_n = int(current_app.config["EVIDENCE_MIN_N"])
    threshold = threshold_at(None)
    screenings = study_screenings()
    diagnosed = doctors_conclusions(screenings)
    groups: dict[tuple[str, str, str, str], list[Screening]] = defaultdict(list)
    for screening in screenings:
        groups[group_key(screening)].append(screening)
    db.session.execute(delete(EvidenceSnapshot))
    now = utcnow()
    snapshots = []
    for (plugin_name, plugin_version, indicator_version, kind), members in sorted(groups.items()):
        references = {REFERENCE_PHQ9: [(s, int(s.phq9_total >= PHQ9_POSITIVE_TOTAL)) for s in members]}
        with_diagnosis = [(s, int(diagnosed[s.id])) for s in members if s.id in diagnosed]
        if with_diagnosis:
            references[REFERENCE_DIAGNOSIS] = with_diagnosis
        for reference, labelled in references.items():
            labels = [label for _, label in labelled]
            n_positive = sum(labels)
            n_negative = len(labels) - n_positive
            computed = None
            if min(n_positive, n_negative) >= min_n:
                totals = [s.phq9_total for s, _ in labelled] if reference == REFERENCE_PHQ9 else None
                computed = figures([s.affect_indicator for s, _ in labelled], labels, threshold, totals)
            snapshot = EvidenceSnapshot(
                computed_at=now, plugin_name=plugin_name, plugin_version=plugin_version,
                indicator_version=indicator_version, media_kind=kind, reference=reference,
                n_positive=n_positive, n_negative=n_negative, min_n=min_n, threshold=threshold,
                figures=computed)
            db.session.add(snapshot)
            snapshots.append(snapshot)
    db.session.flush()
    return snapshots


def current_snapshots() -> list[EvidenceSnapshot]:
    """The rows of the last refresh (empty before the first)."""
    return list(db.session.scalars(select(EvidenceSnapshot).order_by(EvidenceSnapshot.id)))


def snapshots_for_plugin(plugin_name: str) -> list[EvidenceSnapshot]:
    """The last refresh's groups of one plugin, newest plugin and indicator versions first."""
    return list(db.session.scalars(select(EvidenceSnapshot).where(EvidenceSnapshot.plugin_name == plugin_name)
                                   .order_by(EvidenceSnapshot.plugin_version.desc(),
                                             EvidenceSnapshot.indicator_version.desc(),
                                             EvidenceSnapshot.media_kind, EvidenceSnapshot.reference)))


def worth_here(screening: Screening) -> EvidenceSnapshot | None:
    """The PHQ-9 snapshot of this screening's own plugin version, indicator version and media kind,
    validated or not; None before any refresh counted such a screening."""
    plugin_name, plugin_version, indicator_version, kind = group_key(screening)
    return db.session.scalar(select(EvidenceSnapshot).where(
        EvidenceSnapshot.plugin_name == plugin_name, EvidenceSnapshot.plugin_version == plugin_version,
        EvidenceSnapshot.indicator_version == indicator_version, EvidenceSnapshot.media_kind == kind,
        EvidenceSnapshot.reference == REFERENCE_PHQ9))


class EvidenceError(ServiceError):
    """A threshold that cannot be adopted; `status` is the HTTP code."""


def threshold_at(when: datetime | None) -> float:
    """The indicator threshold in force at `when` (now if None): the latest version adopted by
    then, else the configured default."""
    query = select(IndicatorThreshold.value).order_by(IndicatorThreshold.version.desc()).limit(1)
    if when is not None:
        query = query.where(IndicatorThreshold.adopted_at <= when)
    value = db.session.scalar(query)
    return float(current_app.config["DOCTOR_CTA_INDICATOR_THRESHOLD"]) if value is None else value


def adopt_recommended_threshold(snapshot_id: int, actor_id: int) -> IndicatorThreshold:
    """Adopt the Youden-optimal threshold of a validated PHQ-9 snapshot as a new version; audited."""
    snapshot = db.session.get(EvidenceSnapshot, snapshot_id)
    if snapshot is None:
        raise EvidenceError(_("That study group no longer exists: the figures were refreshed. "
                            "Reload the page."), 404)
    if not snapshot.validated or snapshot.reference != REFERENCE_PHQ9:
        raise EvidenceError(_("Only a validated group measured against PHQ-9 has a threshold to adopt."), 400)
    youden = snapshot.figures["youden"]
    latest = db.session.scalar(select(func.max(IndicatorThreshold.version))) or 0
    threshold = IndicatorThreshold(
        version=latest + 1, value=round(youden["estimate"], 1), adopted_at=utcnow(), adopted_by_id=actor_id,
        basis={"plugin": snapshot.plugin_name, "plugin_version": snapshot.plugin_version,
               "indicator_version": snapshot.indicator_version, "media_kind": snapshot.media_kind,
               "n": snapshot.n_positive + snapshot.n_negative, "auc": snapshot.figures["auc"],
               "youden": youden, "computed_at": snapshot.computed_at.isoformat(timespec="seconds")})
    db.session.add(threshold)
    db.session.flush()
    audit.record("evidence.threshold_adopt", actor_id=actor_id, target=f"indicator_threshold:{threshold.id}",
                 details={"version": threshold.version, "value": threshold.value})
    db.session.commit()
    return threshold
