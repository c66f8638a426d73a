"""The doctor's caseload: one row per patient in their care, with where they stand on PHQ-9
(app.clinical.outcomes), what is due, and who needs attention first.

Built from a fixed number of bulk queries (consultations, shared screenings, diagnoses, unread
messages, open screening requests), whatever the number of patients: no query per row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property

from flask import current_app
from sqlalchemy import func, select

from app.clinical import outcomes
from app.clinical.outcomes import Attention, Measurement, Outcome, Status
from app.clinical.phq9 import band_for
from app.extensions import db
from app.i18n.marker import N_
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
from app.models.screening import Screening
from app.models.user import PatientProfile, User
from app.services import followups
from app.services.diagnoses import PLAN_LABELS, severity_label
from app.services.episodes import NO_PLAN, Plan, plan_from
from app.services.sparkline import Sparkline, sparkline

SEARCH_MAX = 100
PAGE_SIZE = 50  # rows per page; a doctor works down the list by attention, and the CSV has them all
SORTS = {"attention": N_("Needs attention first"), "name": N_("Name"),
         "latest": N_("Latest PHQ-9, highest first"),
         "change": N_("Change from baseline, least improved first")}


@dataclass(frozen=True)
class Filters:
    status: str = ""       # an outcomes.Status value, or "" for any
    overdue: bool = False  # follow-up overdue only
    flagged: bool = False  # item 9 > 0 on the latest screening only
    past: bool = False     # closed consultations instead of the active caseload
    q: str = ""            # part of the patient's name
    sort: str = "attention"
    page: int = 1

    def query(self, **changes) -> dict:
        """The URL query of these filters (defaults left out), with `changes` applied."""
        values = replace(self, **changes)
        return {key: value for key, value in (
            ("status", values.status), ("overdue", "1" if values.overdue else ""),
            ("flagged", "1" if values.flagged else ""), ("past", "1" if values.past else ""),
            ("q", values.q), ("sort", "" if values.sort == "attention" else values.sort),
            ("page", "" if values.page == 1 else str(values.page))) if value}


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
    points: list[Measurement] = field(default_factory=list)  # every screening: filled for the page shown

    @cached_property
    def sparkline(self) -> Sparkline | None:
        return sparkline(self.points)

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
    rows: list[Row] = field(default_factory=list)   # every row the filters keep, in order
    past_rows: list[PastRow] = field(default_factory=list)
    total: int = 0   # patients in the active caseload before the filters
    counts: dict[str, int] = field(default_factory=dict)  # per attention group, for the summary

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.rows) // PAGE_SIZE))

    @property
    def page(self) -> int:
        return min(self.filters.page, self.pages)

    @property
    def page_rows(self) -> list[Row]:
        """The rows shown: sorting and filtering span the whole caseload, the table one page."""
        start = (self.page - 1) * PAGE_SIZE
        return self.rows[start:start + PAGE_SIZE]

    @property
    def first_shown(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.rows else 0


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


def _shared(ids):
    return (select(ScreeningShare.consultation_id, Screening.created_at, Screening.phq9_total,
                   Screening.phq9_item9, Screening.affect_indicator, Screening.id)
            .join(Screening, Screening.id == ScreeningShare.screening_id)
            .where(ScreeningShare.consultation_id.in_(ids), ScreeningShare.revoked_at.is_(None)))


def _treatment_starts(ids):
    """The first confirmed diagnosis per consultation (see episodes.plan_from)."""
    return (select(Diagnosis.consultation_id, func.min(Diagnosis.created_at).label("started_at"))
            .where(Diagnosis.consultation_id.in_(ids), Diagnosis.outcome == DiagnosisOutcome.CONFIRMED)
            .group_by(Diagnosis.consultation_id).subquery())


def _key_measurements(ids) -> dict[int, list[Measurement]]:
    """Per consultation, oldest first, only the screenings the definitions read: the first, the
    last one on or before the start of treatment (the baseline), the previous and the latest.
    outcomes.evaluate gives on them exactly what it gives on every screening, and a caseload of
    500 patients × 20 screenings sends 2,000 rows to Python instead of 10,000."""
    starts = _treatment_starts(ids)
    newest_first = (Screening.created_at.desc(), Screening.id.desc())
    before_start = starts.c.started_at.is_not(None) & (Screening.created_at <= starts.c.started_at)
    ranked = (_shared(ids).add_columns(
        func.row_number().over(partition_by=ScreeningShare.consultation_id,
                               order_by=newest_first).label("from_last"),
        func.row_number().over(partition_by=ScreeningShare.consultation_id,
                               order_by=(Screening.created_at, Screening.id)).label("from_first"),
        func.row_number().over(partition_by=(ScreeningShare.consultation_id, before_start),
                               order_by=newest_first).label("from_start"),
        before_start.label("before_start"))
        .outerjoin(starts, starts.c.consultation_id == ScreeningShare.consultation_id)).subquery()
    found: dict[int, list[Measurement]] = defaultdict(list)
    for consultation_id, when, total, item9, affect in db.session.execute(
            select(ranked.c.consultation_id, ranked.c.created_at, ranked.c.phq9_total, ranked.c.phq9_item9,
                   ranked.c.affect_indicator)
            .where((ranked.c.from_last <= 2) | (ranked.c.from_first == 1)
                   | (ranked.c.before_start & (ranked.c.from_start == 1)))
            .order_by(ranked.c.consultation_id, ranked.c.created_at, ranked.c.id)):
        found[consultation_id].append(Measurement(when, total, item9, affect))
    return found


def _all_points(consultation_ids: list[int]) -> dict[int, list[Measurement]]:
    """Every shared screening of these consultations (the sparklines of one page), oldest first."""
    found: dict[int, list[Measurement]] = defaultdict(list)
    if not consultation_ids:
        return found
    for consultation_id, when, total, item9, affect, _id in db.session.execute(
            _shared(consultation_ids).order_by(ScreeningShare.consultation_id, Screening.created_at,
                                               Screening.id)):
        found[consultation_id].append(Measurement(when, total, item9, affect))
    return found


def _plans(ids) -> dict[int, Plan]:
    versions: dict[int, list] = defaultdict(list)
    for consultation_id, created_at, outcome, interval in db.session.execute(
            select(Diagnosis.consultation_id, Diagnosis.created_at, Diagnosis.outcome,
                   Diagnosis.followup_interval_days)
            .where(Diagnosis.consultation_id.in_(ids))
            .order_by(Diagnosis.consultation_id, Diagnosis.version)):
        versions[consultation_id].append((created_at, outcome is DiagnosisOutcome.CONFIRMED, interval))
    return {consultation_id: plan_from(rows) for consultation_id, rows in versions.items()}


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
    measured, plans = _key_measurements(ids), _plans(ids)
    unread, requested = _unread(doctor_id, ids), _open_requests(ids)
    grace = current_app.config["FOLLOWUP_GRACE_DAYS"]
    rows = []
    for consultation_id, patient_id, full_name, email in consultations:
        points = measured.get(consultation_id, [])
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
            screening_requested=consultation_id in requested))
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
    points = _all_points([row.consultation_id for row in result.page_rows])
    for row in result.page_rows:
        row.points = points.get(row.consultation_id, [])
    return result


def status_choices() -> list[tuple[str, str]]:
    return [("", N_("Any status"))] + [(status.value, outcomes.STATUS_LABELS[status]) for status in Status]
