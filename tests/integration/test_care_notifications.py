"""Notifications: in-app rows, e-mails sent by RQ jobs to a real SMTP server (aiosmtpd) or
written as .eml files, and follow-up reminders scheduled in RQ."""

from __future__ import annotations

import email
import re
import socket
from datetime import UTC, timedelta

import pytest
import redis as redis_lib
from aiosmtpd.controller import Controller
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from app.extensions import db
from app.jobs.queue import get_queue, get_redis
from app.jobs.worker import MoodLensWorker
from app.models.care import Notification
from app.services import chat, consultations, diagnoses, followups
from tests import factories

CLINICAL = re.compile(r"phq|severe|moderate|depress|diagnos|item 9|self-harm|\b\d{1,2}\s*/\s*27\b", re.I)


class Inbox:
    def __init__(self):
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def mail_app(app_factory, redis_url, smtp_server):
    _, port = smtp_server
    app = app_factory(SMTP_HOST="127.0.0.1", SMTP_PORT=port, MAIL_LINK_BASE_URL="https://moodlens.example")
    redis_lib.Redis.from_url(redis_url).flushdb()
    with app.app_context():
        yield app


def run_worker(app) -> None:
    MoodLensWorker([get_queue()], connection=get_redis(), app=app).work(burst=True, with_scheduler=False)


def body_of(message) -> str:
    return message.get_payload(decode=True).decode()


def test_urgent_request_mails_the_doctor_at_once(mail_app, smtp_server):
    inbox, _ = smtp_server
    patient, doctor = factories.patient(), factories.doctor()
    screening = factories.screening(patient, total=21, item9=2)
    consultation = consultations.request_consultation(patient, doctor.id, [screening.id], "please help")
    assert consultation.urgent
    notice = db.session.scalars(select(Notification).where(Notification.user_id == doctor.id)).one()
    assert notice.kind == "request.urgent" and notice.emailed_at is None
    assert inbox.messages == []  # nothing is sent inside the request
    run_worker(mail_app)
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    body = body_of(message)
    assert message["To"] == doctor.email and "urgent" in message["Subject"].lower()
    assert f"https://moodlens.example/consultations/{consultation.id}" in body
    assert not CLINICAL.search(body + message["Subject"]), body
    assert "please help" not in body
    db.session.expire_all()
    assert db.session.get(Notification, notice.id).emailed_at is not None


def test_followup_due_is_scheduled_and_mailed(mail_app, smtp_server):
    inbox, _ = smtp_server
    patient, doctor = factories.patient(), factories.doctor()
    screening = factories.screening(patient, total=12, days_ago=20)
    consultation = consultations.request_consultation(patient, doctor.id, [screening.id], "")
    consultations.accept(doctor, consultation)
    run_worker(mail_app)  # the request and acceptance mails
    inbox.messages.clear()
    diagnosis = diagnoses.record(doctor, consultation, diagnoses.DiagnosisInput(
        outcome="confirmed", severity="moderate", plan="psychotherapy", followup_interval_days=14))
    registry = ScheduledJobRegistry(queue=get_queue())
    scheduled = sorted(registry.get_scheduled_time(job.id) for job in
                       (get_queue().fetch_job(job_id) for job_id in registry.get_job_ids())
                       if job.func_name == "app.jobs.notifications.followup_reminder")
    due = followups.next_followup(consultation).due_at
    assert len(scheduled) == 2 and scheduled[0] == due.replace(tzinfo=UTC, microsecond=0)
    assert scheduled[1] - scheduled[0] > timedelta(days=3)

    run_worker(mail_app)  # "your doctor updated your care plan"
    assert "updated your care plan" in body_of(inbox.messages[-1])
    inbox.messages.clear()

    # Time passes: the follow-up falls due; the job scheduled for that moment runs.
    diagnosis.created_at -= timedelta(days=15)
    db.session.commit()
    due = followups.next_followup(consultation).due_at
    for stage in ("due", "overdue"):
        get_queue().enqueue("app.jobs.notifications.followup_reminder", consultation.id, stage,
                            due.isoformat())
    run_worker(mail_app)
    assert len(inbox.messages) == 1  # "overdue" is not yet true (within the grace period)
    message = inbox.messages[0]
    body = body_of(message)
    assert message["To"] == patient.email and "follow-up screening is due" in body
    assert "https://moodlens.example/patient" in body and not CLINICAL.search(body), body

    # A stale reminder (the patient took the screening since) sends nothing.
    factories.screening(patient, total=8)
    followups.link_new_screenings(patient.id)
    get_queue().enqueue("app.jobs.notifications.followup_reminder", consultation.id, "due", due.isoformat())
    run_worker(mail_app)
    to_patient = [m for m in inbox.messages if m["To"] == patient.email]
    assert len(to_patient) == 1
    # ...while the doctor hears that a follow-up screening arrived (no content, a link).
    to_doctor = [m for m in inbox.messages if m["To"] == doctor.email]
    assert len(to_doctor) == 1 and "new screening was shared" in body_of(to_doctor[0])
    assert not CLINICAL.search(body_of(to_doctor[0]))


def test_unread_message_reminder_only_when_still_unread(mail_app, smtp_server):
    from app.jobs.notifications import notify_unread_message

    inbox, _ = smtp_server
    patient, doctor = factories.patient(), factories.doctor()
    consultation = consultations.request_consultation(patient, doctor.id, [], "")
    consultations.accept(doctor, consultation)
    registry = ScheduledJobRegistry(queue=get_queue())
    before = len(registry.get_job_ids())
    first = chat.post_message(doctor, consultation, "Are you there?")
    assert len(registry.get_job_ids()) == before + 1  # scheduled a few minutes ahead
    notify_unread_message(first.id)
    notify_unread_message(first.id)  # the same streak is notified once
    notices = db.session.scalars(select(Notification).where(Notification.kind == "message.unread")).all()
    assert len(notices) == 1 and notices[0].user_id == patient.id
    assert "Are you there?" not in body_of(inbox.messages[-1])
    second = chat.post_message(doctor, consultation, "Hello?")
    chat.mark_read(patient, consultation, up_to_id=second.id)
    assert notify_unread_message(second.id) is None


def test_embedded_default_writes_eml_files(app, tmp_path):
    from app.jobs.notifications import send_notification_email
    from app.services import notifications

    patient = factories.patient()
    notice = notifications.notify(patient.id, "report.final", "A new report from your doctor is ready",
                                  "/reports/1")
    db.session.commit()
    path = send_notification_email(notice.id)
    assert path.endswith(".eml") and "/instance/mail/" in path
    content = open(path, encoding="utf-8").read()
    assert patient.email in content and "http://localhost:5000/reports/1" in content
    assert send_notification_email(notice.id) is None  # never twice


def test_care_sweep_catches_lost_reminders_and_unsent_mails(app):
    from app.jobs.notifications import care_sweep
    from app.jobs.periodic import lease_key

    patient, doctor = factories.patient(), factories.doctor()
    screening = factories.screening(patient, total=12, days_ago=30)
    consultation = consultations.request_consultation(patient, doctor.id, [screening.id], "")
    consultations.accept(doctor, consultation)
    diagnosis = diagnoses.record(doctor, consultation, diagnoses.DiagnosisInput(
        outcome="confirmed", severity="moderate", plan="psychotherapy", followup_interval_days=7))
    diagnosis.created_at -= timedelta(days=20)  # overdue, and Redis "lost" its reminders
    for notice in db.session.scalars(select(Notification)):
        notice.created_at -= timedelta(minutes=10)  # e-mails that were never queued
    db.session.commit()
    get_redis().flushdb()

    first = care_sweep()
    assert first["reminders"] == 1 and first["mails"] >= 2
    kinds = [n.kind for n in db.session.scalars(
        select(Notification).where(Notification.user_id == patient.id))]
    assert kinds.count("followup.overdue") == 1 and "followup.due" not in kinds
    assert db.session.scalar(select(Notification.id).where(Notification.emailed_at.is_(None))) is None
    assert get_redis().exists(lease_key("care-sweep"))  # it scheduled the next sweep
    assert care_sweep() == {"reminders": 0, "mails": 0}  # idempotent
