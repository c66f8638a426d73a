"""The doctor's caseload: one row per patient in their care, with where they stand on PHQ-9
(app.clinical.outcomes), what is due, and who needs attention first.

Built from a fixed number of bulk queries (consultations, shared screenings, diagnoses, unread
messages, open screening requests), whatever the number of patients: no query per row.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from app.clinical import outcomes
from app.clinical.outcomes import Attention, Measurement, Outcome, Status
from app.extensions import db
from app.ml.phq9 import band_for
from app.models._time import utcnow
from app.models.care import (
    ChatMessage,
    Consultation,
    ConsultationStatus,
    Diagnosis,
    DiagnosisOutcome,
    Report,
    ReportStatus,
    ScreeningRequest,
    ScreeningShare,
)
from app.models.care_prompts import PromptDismissal
from app.models.screening import Screening
from app.models.user import PatientProfile, User
from app.security import audit
from app.services import followups
from app.services.consultations import CareError, shared_screenings
from app.services.diagnoses import PLAN_LABELS, severity_label

SEARCH_MAX = 100
REASON_MAX = 1000
SORTS = {"attention": "Needs attention first", "name": "Name", "latest": "Latest PHQ-9, highest first",
         "change": "Change from baseline, least improved first"}


@dataclass(frozen=True)
class Filters:
    status: str = ""       # an outcomes.Status value, or "" for any
    overdue: bool = False  # follow-up overdue only
    flagged: bool = False  # item 9 > 0 on the latest screening only
    past: bool = False     # closed consultations instead of the active caseload
    q: str = ""            # part of the patient's name
    sort: str = "attention"

    def query(self, **changes) -> dict:
        """The URL query of these filters (defaults left out), with `changes` applied."""
        values = replace(self, **changes)
        return {key: value for key, value in (
            ("status", values.status), ("overdue", "1" if values.overdue else ""),
            ("flagged", "1" if values.flagged else ""), ("past", "1" if values.past else ""),
            ("q", values.q), ("sort", "" if values.sort == "attention" else values.sort)) if value}


# --- Sparkline ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    phq9: str       # SVG polyline points
    affect: str     # the facial-affect indicator, drawn as the secondary line
    last_x: float
    last_y: float
    text: str       # the text alternative


SPARK_W, SPARK_H, SPARK_PAD = 120, 32, 3


def sparkline(measurements: list[Measurement]) -> Sparkline | None:
    if not measurements:
        return None
    first, last = measurements[0].when, measurements[-1].when
    span = (last - first).total_seconds() or 1.0
    inner_w, inner_h = SPARK_W - 2 * SPARK_PAD, SPARK_H - 2 * SPARK_PAD

    def x_of(when: datetime) -> float:
        if len(measurements) == 1:
            return SPARK_W / 2
        return SPARK_PAD + inner_w * (when - first).total_seconds() / span

    def y_of(value: float, top: float) -> float:
        return SPARK_PAD + inner_h * (1 - min(max(value, 0), top) / top)

    phq9 = [(x_of(m.when), y_of(m.total, 27)) for m in measurements]
    affect = [(x_of(m.when), y_of(m.affect, 100)) for m in measurements if m.affect is not None]
    weeks = outcomes.weeks_between(first, last)
    totals = [m.total for m in measurements]
    text = (f"PHQ-9 {totals[0]} to {totals[-1]} over {weeks} week{'s' if weeks != 1 else ''}, "
            f"{len(totals)} screening{'s' if len(totals) != 1 else ''}")
    if len(totals) > 2:
        text += f" (lowest {min(totals)}, highest {max(totals)})"
    affects = [m.affect for m in measurements if m.affect is not None]
    if affects:
        text += f"; facial-affect indicator {affects[0]:.0f} to {affects[-1]:.0f}"
    return Sparkline(SPARK_W, SPARK_H, " ".join(f"{x:.1f},{y:.1f}" for x, y in phq9),
                     " ".join(f"{x:.1f},{y:.1f}" for x, y in affect) if len(affect) > 1 else "",
                     round(phq9[-1][0], 1), round(phq9[-1][1], 1), text)


# --- Rows -----------------------------------------------------------------------------------

@dataclass
class Row:
    consultation_id: int
    patient_id: int
    patient_name: str
    outcome: Outcome
    attention: Attention
    followup_due: datetime | None
    followup_state: str | None  # scheduled | due | overdue
    followup_interval: int | None
    diagnosed: bool
    unread: int
    screening_requested: bool
    sparkline: Sparkline | None
    latest_screening_id: int | None

    @property
    def band_label(self) -> str:
        return band_for(self.outcome.latest.total).label if self.outcome.latest else "—"

    @property
    def change_points(self) -> str:
        return outcomes.format_points(self.outcome.change_points)

    @property
    def change_percent(self) -> str:
        return outcomes.format_percent(self.outcome.change_percent)

    @property
    def attention_label(self) -> str:
        return outcomes.ATTENTION_LABELS[self.attention]


@dataclass
class PastRow:
    consultation_id: int
    patient_name: str
    accepted_at: datetime | None
    closed_at: datetime | None
    severity: str | None   # what the doctor concluded, in their latest diagnosis
    plan: str | None
    final_reports: int


@dataclass
class Caseload:
    filters: Filters
    rows: list[Row] = field(default_factory=list)
    past_rows: list[PastRow] = field(default_factory=list)
    total: int = 0   # patients in the active caseload before the filters
    counts: dict[str, int] = field(default_factory=dict)  # per attention group, for the summary


def _name(full_name: str | None, email: str) -> str:
    return full_name or email


def _consultations(doctor_id: int, statuses: tuple[ConsultationStatus, ...], search: str):
    query = (select(Consultation.id, Consultation.patient_id, PatientProfile.full_name, User.email)
             .join(User, User.id == Consultation.patient_id)
             .outerjoin(PatientProfile, PatientProfile.user_id == Consultation.patient_id)
             .where(Consultation.doctor_id == doctor_id, Consultation.status.in_(statuses),
                    Consultation.accepted_at.is_not(None)))
    if search:
        query = query.where(PatientProfile.full_name.icontains(search, autoescape=True))
    return query


def _measurements(ids) -> dict[int, list[tuple[int, Measurement]]]:
    """Unrevoked shared screenings per consultation, oldest first, with their ids."""
    found: dict[int, list[tuple[int, Measurement]]] = defaultdict(list)
    rows = db.session.execute(
        select(ScreeningShare.consultation_id, Screening.id, Screening.created_at, Screening.phq9_total,
               Screening.phq9_item9, Screening.affect_indicator)
        .join(Screening, Screening.id == ScreeningShare.screening_id)
        .where(ScreeningShare.consultation_id.in_(ids), ScreeningShare.revoked_at.is_(None))
        .order_by(ScreeningShare.consultation_id, Screening.created_at, Screening.id))
    for consultation_id, screening_id, when, total, item9, affect in rows:
        found[consultation_id].append((screening_id, Measurement(when, total, item9, affect)))
    return found


@dataclass(frozen=True)
class _Plan:
    treatment_start: datetime | None  # first confirmation of the current, unbroken run
    current_at: datetime | None
    interval_days: int | None


NO_PLAN = _Plan(None, None, None)


def _plan(versions: list[tuple[datetime, bool, int | None]]) -> _Plan:
    """From one consultation's diagnosis versions, oldest first: (created_at, confirmed, interval)."""
    if not versions or not versions[-1][1]:
        return NO_PLAN
    start = versions[-1][0]
    for created_at, confirmed, _interval in reversed(versions):
        if not confirmed:
            break
        start = created_at
    return _Plan(start, versions[-1][0], versions[-1][2])


def _plans(ids) -> dict[int, _Plan]:
    versions: dict[int, list] = defaultdict(list)
    for consultation_id, created_at, outcome, interval in db.session.execute(
            select(Diagnosis.consultation_id, Diagnosis.created_at, Diagnosis.outcome,
                   Diagnosis.followup_interval_days)
            .where(Diagnosis.consultation_id.in_(ids))
            .order_by(Diagnosis.consultation_id, Diagnosis.version)):
        versions[consultation_id].append((created_at, outcome is DiagnosisOutcome.CONFIRMED, interval))
    return {consultation_id: _plan(rows) for consultation_id, rows in versions.items()}


def _unread(doctor_id: int, ids) -> dict[int, int]:
    return dict(db.session.execute(
        select(ChatMessage.consultation_id, func.count(ChatMessage.id))
        .where(ChatMessage.consultation_id.in_(ids), ChatMessage.sender_id != doctor_id,
               ChatMessage.read_at.is_(None))
        .group_by(ChatMessage.consultation_id)).all())


def _open_requests(ids) -> set[int]:
    return set(db.session.scalars(select(ScreeningRequest.consultation_id).where(
        ScreeningRequest.consultation_id.in_(ids), ScreeningRequest.fulfilled_at.is_(None))))


def active_rows(doctor_id: int, search: str = "", now: datetime | None = None) -> list[Row]:
    """Every patient whose consultation with this doctor is accepted and open, unsorted."""
    now = now or utcnow()
    base = _consultations(doctor_id, (ConsultationStatus.ACCEPTED,), search)
    consultations = db.session.execute(base).all()
    if not consultations:
        return []
    ids = base.with_only_columns(Consultation.id).scalar_subquery()
    measured, plans = _measurements(ids), _plans(ids)
    unread, requested = _unread(doctor_id, ids), _open_requests(ids)
    grace = current_app.config.get("FOLLOWUP_GRACE_DAYS", 3)
    rows = []
    for consultation_id, patient_id, full_name, email in consultations:
        shared = measured.get(consultation_id, [])
        points = [m for _, m in shared]
        plan = plans.get(consultation_id, NO_PLAN)
        outcome = outcomes.evaluate(points, plan.treatment_start, now)
        due = state = None
        if plan.current_at is not None and plan.interval_days:
            due = followups.due_after(plan.current_at, plan.interval_days, (m.when for m in points))
            state = followups.state_at(due, now, grace)
        rows.append(Row(
            consultation_id=consultation_id, patient_id=patient_id, patient_name=_name(full_name, email),
            outcome=outcome, attention=outcomes.attention(outcome, state == "overdue"),
            followup_due=due, followup_state=state, followup_interval=plan.interval_days,
            diagnosed=plan.treatment_start is not None, unread=unread.get(consultation_id, 0),
            screening_requested=consultation_id in requested, sparkline=sparkline(points),
            latest_screening_id=shared[-1][0] if shared else None))
    return rows


def _sorted(rows: list[Row], sort: str) -> list[Row]:
    if sort == "name":
        return sorted(rows, key=lambda r: (r.patient_name.casefold(), r.consultation_id))
    if sort == "latest":
        return sorted(rows, key=lambda r: (-(r.outcome.latest.total if r.outcome.latest else -1),
                                           r.patient_name.casefold()))
    if sort == "change":
        return sorted(rows, key=lambda r: (r.outcome.change_points is None,
                                           -(r.outcome.change_points or 0), r.patient_name.casefold()))
    return sorted(rows, key=lambda r: (*outcomes.attention_key(r.outcome, r.followup_state == "overdue",
                                                               r.patient_name), r.consultation_id))


def past_rows(doctor_id: int, search: str = "") -> list[PastRow]:
    """Closed consultations this doctor had accepted: only what the doctor wrote (their last
    diagnosis, their final reports), none of the patient's screenings."""
    base = (_consultations(doctor_id, (ConsultationStatus.CLOSED,), search)
            .add_columns(Consultation.accepted_at, Consultation.closed_at))
    consultations = db.session.execute(base.order_by(Consultation.closed_at.desc(), Consultation.id)).all()
    if not consultations:
        return []
    ids = base.with_only_columns(Consultation.id).scalar_subquery()
    latest: dict[int, Diagnosis] = {}
    for diagnosis in db.session.scalars(select(Diagnosis).where(Diagnosis.consultation_id.in_(ids))
                                        .order_by(Diagnosis.consultation_id, Diagnosis.version)):
        latest[diagnosis.consultation_id] = diagnosis
    reports = dict(db.session.execute(
        select(Report.consultation_id, func.count(Report.id))
        .where(Report.consultation_id.in_(ids), Report.status == ReportStatus.FINAL,
               Report.author_id == doctor_id)
        .group_by(Report.consultation_id)).all())
    rows = []
    for consultation_id, _patient_id, full_name, email, accepted_at, closed_at in consultations:
        diagnosis = latest.get(consultation_id)
        mine = diagnosis if diagnosis is not None and diagnosis.author_id == doctor_id else None
        rows.append(PastRow(
            consultation_id, _name(full_name, email), accepted_at, closed_at,
            (severity_label(mine.severity) if mine.confirmed else "not confirmed") if mine else None,
            PLAN_LABELS.get(mine.plan) if mine is not None and mine.plan else None,
            reports.get(consultation_id, 0)))
    return rows


def caseload(doctor: User, filters: Filters, now: datetime | None = None) -> Caseload:
    if filters.past:
        return Caseload(filters, past_rows=past_rows(doctor.id, filters.q))
    rows = active_rows(doctor.id, filters.q, now)
    result = Caseload(filters, total=len(rows))
    for group in Attention:
        result.counts[group.name.lower()] = sum(1 for r in rows if r.attention is group)
    if filters.status:
        rows = [r for r in rows if r.outcome.status.value == filters.status]
    if filters.overdue:
        rows = [r for r in rows if r.followup_state == "overdue"]
    if filters.flagged:
        rows = [r for r in rows if r.outcome.item9]
    result.rows = _sorted(rows, filters.sort)
    return result


def status_choices() -> list[tuple[str, str]]:
    return [("", "Any status")] + [(status.value, outcomes.STATUS_LABELS[status]) for status in Status]


# --- CSV export -----------------------------------------------------------------------------

CSV_COLUMNS = ("patient", "latest_phq9", "band", "latest_date", "baseline_phq9", "baseline_date",
               "change_points", "change_percent", "status", "weeks_in_treatment", "next_followup",
               "followup_state", "item9_latest", "unread_messages", "attention")


def _safe_cell(value: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(doctor: User, filters: Filters, now: datetime | None = None) -> str:
    """The caseload as the doctor filtered it (their own patients only), audited. The audit row
    holds how many patients and which filters, never a clinical value or a name."""
    result = caseload(doctor, replace(filters, past=False), now)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in result.rows:
        o = row.outcome
        percent = o.change_percent
        writer.writerow([
            _safe_cell(row.patient_name),
            o.latest.total if o.latest else "", row.band_label if o.latest else "",
            o.latest.when.date().isoformat() if o.latest else "",
            o.baseline.total if o.baseline else "", o.baseline.when.date().isoformat() if o.baseline else "",
            o.change_points if o.change_points is not None else "",
            round(percent) if percent is not None else "",
            o.status.value, o.weeks_in_treatment if o.weeks_in_treatment is not None else "",
            row.followup_due.date().isoformat() if row.followup_due else "", row.followup_state or "",
            "yes" if o.item9 else "no", row.unread, row.attention.name.lower()])
    audit.record("caseload.export", actor_id=doctor.id, target=f"caseload:{doctor.id}",
                 details={"rows": len(result.rows), "filtered": bool(replace(filters, past=False).query())})
    db.session.commit()
    return out.getvalue()


# --- One episode: the consultation page, the report, the patient's history ----------------------

def episode_outcome(consultation: Consultation, until: datetime | None = None) -> Outcome:
    """The outcome of one consultation's episode from its shared screenings, as of `until`."""
    until = until or utcnow()
    points = [Measurement(s.created_at, s.phq9_total, s.phq9_item9, s.affect_indicator)
              for s in shared_screenings(consultation) if s.created_at <= until]
    plan = _plan([(d.created_at, d.confirmed, d.followup_interval_days)
                  for d in consultation.diagnoses if d.created_at <= until])
    return outcomes.evaluate(points, plan.treatment_start, until)


@dataclass(frozen=True)
class ShownPrompt:
    kind: str
    text: str
    screening_id: int


def open_prompts(consultation: Consultation) -> list[ShownPrompt]:
    """Treat-to-target prompts for the treating doctor, less those dismissed at this screening."""
    if consultation.status is not ConsultationStatus.ACCEPTED:
        return []
    screenings = shared_screenings(consultation)
    if not screenings:
        return []
    latest_id = screenings[-1].id
    dismissed = set(db.session.scalars(select(PromptDismissal.kind).where(
        PromptDismissal.consultation_id == consultation.id, PromptDismissal.screening_id == latest_id)))
    return [ShownPrompt(p.kind, p.text, latest_id) for p in outcomes.prompts(episode_outcome(consultation))
            if p.kind not in dismissed]


def dismiss_prompt(doctor: User, consultation: Consultation, kind: str, screening_id: int,
                   reason: str) -> PromptDismissal:
    reason = (reason or "").strip()
    if not reason:
        raise CareError("Give a reason for dismissing this prompt.")
    if len(reason) > REASON_MAX:
        raise CareError(f"The reason may be at most {REASON_MAX} characters.")
    shown = {(p.kind, p.screening_id) for p in open_prompts(consultation)}
    existing = db.session.scalars(select(PromptDismissal).where(
        PromptDismissal.consultation_id == consultation.id, PromptDismissal.kind == kind,
        PromptDismissal.screening_id == screening_id)).first()
    if existing is not None:
        return existing  # dismissed twice (double click): the first reason stands
    if (kind, screening_id) not in shown:
        raise CareError("This prompt no longer applies; the page has been updated.", 409)
    dismissal = PromptDismissal(consultation_id=consultation.id, screening_id=screening_id,
                                doctor_id=doctor.id, kind=kind, reason=reason)
    db.session.add(dismissal)
    db.session.flush()
    # Ids only: the reason and the prompt stay in the clinical record, out of the admins' trail.
    audit.record("care_prompt.dismiss", actor_id=doctor.id, patient_id=consultation.patient_id,
                 target=f"consultation:{consultation.id}", details={"dismissal_id": dismissal.id})
    db.session.commit()
    return dismissal
