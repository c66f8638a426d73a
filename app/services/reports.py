"""Reports over an episode or a period: drafted, then finalised (the content is then fixed at
the moment of finalising), rendered as HTML and, from the same templates, as PDF."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from app.clinical import outcomes
from app.clinical.phq9 import BANDS_BY_KEY, band_for
from app.extensions import db
from app.i18n.marker import N_
from app.models._time import utcnow
from app.models.care import Consultation, ConsultationStatus, Diagnosis, Report, ReportStatus
from app.models.screening import Screening
from app.models.user import User
from app.security import audit
from app.security.policy import report_visible_to
from app.services import episodes, links, notifications
from app.services.consultations import CareError, shared_screenings
from app.services.diagnoses import PLAN_LABELS, PLAN_PLAIN, severity_label
from app.storage import media_store
from app.storage.media_store import patient_media_folder

COMMENTS_MAX = 5000
DOUBLE_SUBMIT_WINDOW = timedelta(seconds=10)


# --- Server-rendered SVG charts -----------------------------------------------------------

@dataclass
class Chart:
    title: str
    y_max: float
    width: int = 560
    height: int = 200
    pad_left: int = 40
    pad_right: int = 40
    pad_top: int = 16
    pad_bottom: int = 32
    points: list[dict] = field(default_factory=list)
    y_ticks: list[dict] = field(default_factory=list)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p['x']:.1f},{p['y']:.1f}" for p in self.points)

    @property
    def plot_bottom(self) -> int:
        return self.height - self.pad_bottom

    @property
    def plot_right(self) -> int:
        return self.width - self.pad_right


def build_chart(title: str, series: list[tuple[datetime, float | None]], y_max: float,
                ticks: list[float]) -> Chart:
    chart = Chart(title=title, y_max=y_max)
    inner_w = chart.width - chart.pad_left - chart.pad_right
    inner_h = chart.height - chart.pad_top - chart.pad_bottom
    values = [(when, value) for when, value in series if value is not None]

    def y_of(value: float) -> float:
        return chart.pad_top + inner_h * (1 - min(max(value, 0), y_max) / y_max)

    chart.y_ticks = [{"y": round(y_of(t), 1), "label": f"{t:g}"} for t in ticks]
    if values:
        first, last = values[0][0], values[-1][0]
        span = (last - first).total_seconds() or 1.0
        for index, (when, value) in enumerate(values):
            x = (chart.pad_left + inner_w / 2 if len(values) == 1
                 else chart.pad_left + inner_w * (when - first).total_seconds() / span)
            chart.points.append({"x": round(x, 1), "y": round(y_of(value), 1), "value": f"{value:g}",
                                 "date": when.date().isoformat(), "label_below": index % 2 == 0})
    return chart


# --- Life cycle ---------------------------------------------------------------------------

def _parse_day(value: str | None, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise CareError(_("Dates must look like 2026-01-31.")) from None
    return day.replace(hour=23, minute=59, second=59) if end else day


def create(doctor: User, consultation: Consultation, period_start: str | None = None,
           period_end: str | None = None, comments: str = "") -> Report:
    if consultation.accepted_at is None or consultation.status is ConsultationStatus.DECLINED:
        raise CareError(_("Reports can be written only for an accepted consultation."), 409)
    start, end = _parse_day(period_start), _parse_day(period_end, end=True)
    if start and end and start > end:
        raise CareError(_("The period must start before it ends."))
    if len(comments or "") > COMMENTS_MAX:
        raise CareError(_("Comments may be at most %(count)d characters.", count=COMMENTS_MAX))
    recent = db.session.scalars(select(Report).where(
        Report.consultation_id == consultation.id, Report.author_id == doctor.id,
        Report.status == ReportStatus.DRAFT).order_by(Report.id.desc()).limit(1)).first()
    if (recent is not None and (recent.period_start, recent.period_end) == (start, end)
            and utcnow() - recent.created_at < DOUBLE_SUBMIT_WINDOW):
        return recent  # the same form submitted twice
    report = Report(consultation_id=consultation.id, author_id=doctor.id, period_start=start,
                    period_end=end, comments=(comments or "").strip())
    db.session.add(report)
    db.session.flush()
    audit.record("report.create", actor_id=doctor.id, patient_id=consultation.patient_id,
                 target=f"report:{report.id}")
    db.session.commit()
    return report


def update_comments(doctor: User, report: Report, comments: str) -> Report:
    if report.status is not ReportStatus.DRAFT:
        raise CareError(_("A finalised report cannot be changed; write a new one."), 409)
    if len(comments or "") > COMMENTS_MAX:
        raise CareError(_("Comments may be at most %(count)d characters.", count=COMMENTS_MAX))
    report.comments = (comments or "").strip()
    db.session.commit()
    return report


def finalise(doctor: User, report: Report, render: Callable[[Report], tuple[str, bytes]]) -> Report:
    """Freeze a draft: `render(report)` (the caller's templates) makes its page and PDF as the
    report stands at this moment; both are kept, encrypted, and shown from then on, whatever
    is shared later."""
    if report.status is ReportStatus.FINAL:
        return report  # finalising twice changes nothing
    consultation = report.consultation
    report.status = ReportStatus.FINAL
    report.finalised_at = utcnow()
    page_html, pdf = render(report)
    folder = f"{patient_media_folder(consultation.patient_id)}/reports"
    saved = [media_store.save(page_html.encode(), folder, ".html"), media_store.save(pdf, folder, ".pdf")]
    report.snapshot_path, report.pdf_path = saved
    audit.record("report.finalise", actor_id=doctor.id, patient_id=consultation.patient_id,
                 target=f"report:{report.id}")
    notifications.notify(consultation.patient_id, "report.final",
                         N_("A new report from your doctor is ready"),
                         links.path_for("reports.show", report_id=report.id))
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for path in saved:
            media_store.delete(path)
        raise
    return report


def frozen_page(report: Report) -> str | None:
    """The page of a final report as it was finalised (None for drafts and older reports)."""
    return media_store.load(report.snapshot_path).decode() if report.snapshot_path else None


def frozen_pdf(report: Report) -> bytes | None:
    return media_store.load(report.pdf_path) if report.pdf_path else None


def amend(doctor: User, report: Report) -> Report:
    """A new draft version of a final report; the final one stays as it was, linked to it."""
    if report.status is not ReportStatus.FINAL:
        raise CareError(_("Only a finalised report can be amended; edit the draft instead."), 409)
    existing = amended_by(report)
    if existing is not None:
        if existing.status is ReportStatus.DRAFT:
            return existing  # one amendment in progress at a time
        raise CareError(_("This report was already amended by version %(version)d; amend that one.",
                          version=existing.version), 409)
    amendment = Report(consultation_id=report.consultation_id, author_id=doctor.id,
                       period_start=report.period_start, period_end=report.period_end,
                       comments=report.comments, version=report.version + 1, amends_id=report.id)
    db.session.add(amendment)
    db.session.flush()
    audit.record("report.amend", actor_id=doctor.id, patient_id=report.consultation.patient_id,
                 target=f"report:{amendment.id}", details={"amends": report.id})
    db.session.commit()
    return amendment


def amended_by(report: Report) -> Report | None:
    return db.session.scalars(select(Report).where(Report.amends_id == report.id)
                              .order_by(Report.id.desc()).limit(1)).first()


def reports_for(consultation: Consultation, include_drafts: bool) -> list[Report]:
    query = select(Report).where(Report.consultation_id == consultation.id)
    if not include_drafts:
        query = query.where(Report.status == ReportStatus.FINAL)
    return list(db.session.scalars(query.order_by(Report.created_at.desc(), Report.id.desc())))


# --- Content ------------------------------------------------------------------------------

def content(report: Report) -> dict:
    """Everything the report shows, as it stood when finalised (or now, for a draft)."""
    consultation = report.consultation
    cutoff = report.finalised_at or utcnow()
    end = min(report.period_end, cutoff) if report.period_end else cutoff
    screenings = [s for s in shared_screenings(consultation)
                  if s.created_at <= end
                  and (report.period_start is None or s.created_at >= report.period_start)]
    diagnoses = [d for d in db.session.scalars(select(Diagnosis).where(
        Diagnosis.consultation_id == consultation.id, Diagnosis.created_at <= cutoff)
        .order_by(Diagnosis.version))]
    current = diagnoses[-1] if diagnoses else None
    if current is not None and current.confirmed:
        severity = current.severity
    elif screenings:
        severity = band_for(screenings[-1].phq9_total).key
    else:
        severity = None
    band = BANDS_BY_KEY.get(severity or "")
    return {
        "report": report,
        "consultation": consultation,
        "patient": consultation.patient,
        "doctor": consultation.doctor,
        "screenings": screenings,
        "diagnoses": diagnoses,
        "current": current,
        "severity_key": severity,
        "severity": severity_label(severity),
        "recommended_action": _(band.proposed_action) if band else None,
        "plan_label": PLAN_LABELS.get(current.plan) if current is not None and current.plan else None,
        "plan_plain": PLAN_PLAIN.get(current.plan) if current is not None and current.plan else None,
        "phq9_chart": build_chart(_("PHQ-9 total (0–27)"),
                                  [(s.created_at, s.phq9_total) for s in screenings], 27,
                                  [0, 5, 10, 15, 20, 27]),
        "affect_chart": build_chart(_("Facial-affect indicator (0–100)"),
                                    [(s.created_at, s.affect_indicator) for s in screenings], 100,
                                    [0, 25, 50, 75, 100]),
        "outcome": episodes.episode_outcome(consultation, until=end),
        "format_points": outcomes.format_points,
        "format_percent": outcomes.format_percent,
        "generated_at": cutoff,
        "severity_label": severity_label,
        "plan_labels": PLAN_LABELS,
    }


def render_pdf(html: str, base_url: str) -> bytes:
    from PIL import ImageFile
    from weasyprint import HTML

    # Importing WeasyPrint turns on Pillow's LOAD_TRUNCATED_IMAGES for the whole process, which
    # would let truncated uploads through; reports embed only our own complete images.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    # PDF/UA: tagged structure, the <title> shown as the document's title, the <html lang> as
    # its language, so screen readers read the report as they read the page.
    return HTML(string=html, base_url=base_url).write_pdf(pdf_variant="pdf/ua-1")


# --- Patient history ----------------------------------------------------------------------

def patient_history(patient: User) -> dict:
    """Every screening, consultation, diagnosis and (final) report, newest first, and the chart."""
    screenings = list(db.session.scalars(select(Screening).where(Screening.patient_id == patient.id)
                                         .order_by(Screening.created_at)))
    consultations = list(db.session.scalars(
        select(Consultation).where(Consultation.patient_id == patient.id)))
    events: list[dict] = []
    for s in screenings:
        events.append({"when": s.created_at, "kind": "screening", "item": s})
    for c in consultations:
        events.append({"when": c.created_at, "kind": "consultation", "item": c})
        for d in c.diagnoses:
            events.append({"when": d.created_at, "kind": "diagnosis", "item": d})
        for r in reports_for(c, include_drafts=False):
            events.append({"when": r.finalised_at, "kind": "report", "item": r})
    events.sort(key=lambda e: e["when"], reverse=True)
    # In plain words, per episode of care the patient was treated in (same definitions as the doctor's).
    progress = [{"doctor": c.doctor.display_name, "words": words} for c in consultations
                if c.accepted_at is not None and any(d.confirmed for d in c.diagnoses)
                and (words := outcomes.plain_words(episodes.episode_outcome(c), _))]
    scored = [s for s in screenings if s.phq9_total is not None]
    return {
        "events": events,
        "progress": progress,
        "phq9_chart": build_chart(_("PHQ-9 total (0–27)"), [(s.created_at, s.phq9_total) for s in scored],
                                  27, [0, 5, 10, 15, 20, 27]),
        "severity_label": severity_label,
        "plan_labels": PLAN_LABELS,
        "plan_plain": PLAN_PLAIN,
    }


def get_for_user(user: User, report_id: int) -> Report | None:
    """The report if `user` may see it (drafts: only the treating doctor), else None."""
    report = db.session.get(Report, report_id)
    return report if report and report_visible_to(user, report) else None

