"""RQ jobs of the care loop: e-mails for notifications, unread-message and follow-up reminders.

Every e-mail leaves from here, never from a request. Jobs re-check the state when they run,
so a reminder whose reason has gone (message read, screening taken) does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.i18n.marker import N_
from app.jobs import periodic
from app.models._time import utcnow
from app.models.care import ChatMessage, Consultation, Notification
from app.services import followups, language, links, notifications
from app.storage import mailer

log = logging.getLogger(__name__)
UNSENT_AFTER = timedelta(minutes=5)   # the e-mail job should have run by then
UNSENT_UNTIL = timedelta(days=2)      # older notices are not worth a late e-mail


def send_notification_email(notification_id: int) -> str | None:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.emailed_at is not None:
        return None
    with language.speaking_to(notification.user) as spoken:
        subject, body = notifications.email_body(notification)
    where = mailer.send_mail(notification.user.email, subject, body, language=spoken)
    notification.emailed_at = utcnow()
    db.session.commit()
    return where


def _notify_and_mail(user_id: int, kind: str, text: str, link: str, dedupe_key: str) -> str | None:
    notification = notifications.notify(user_id, kind, text, link, email=False, dedupe_key=dedupe_key)
    db.session.commit()
    return send_notification_email(notification.id) if notification is not None else None


def notify_unread_message(message_id: int) -> str | None:
    message = db.session.get(ChatMessage, message_id)
    if message is None or message.read_at is not None:
        return None
    consultation = db.session.get(Consultation, message.consultation_id)
    recipient = consultation.patient_id if message.sender_id == consultation.doctor_id \
        else consultation.doctor_id
    # One notice per consultation per unread streak: keyed on the first unread message.
    return _notify_and_mail(recipient, "message.unread", N_("You have a new message"),
                            links.consultation_path(consultation.id),
                            dedupe_key=f"unread:{consultation.id}:{_first_unread_id(message)}")


def _first_unread_id(message: ChatMessage) -> int:
    return db.session.scalar(select(func.min(ChatMessage.id)).where(
        ChatMessage.consultation_id == message.consultation_id,
        ChatMessage.sender_id == message.sender_id, ChatMessage.read_at.is_(None))) or message.id


def followup_reminder(consultation_id: int, stage: str, due_iso: str) -> str | None:
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        return None
    followup = followups.next_followup(consultation)
    if followup is None or followup.due_at != datetime.fromisoformat(due_iso):
        return None  # a screening arrived, the plan changed or the episode closed
    if followup.state == "scheduled" or (stage == "overdue" and followup.state != "overdue"):
        return None
    text = N_("Your follow-up screening is overdue") if stage == "overdue" \
        else N_("Your follow-up screening is due")
    return _notify_and_mail(consultation.patient_id, f"followup.{stage}", text, links.patient_home_path(),
                            dedupe_key=f"followup:{consultation_id}:{due_iso}:{stage}")


def care_sweep() -> dict:
    """Periodic safety net, run by the worker's RQ scheduler: follow-ups that fell due or overdue
    while their scheduled reminder was lost (Redis wiped), and e-mails never queued (Redis down).
    Idempotent: reminders share their dedupe keys with `followup_reminder`."""
    reminders = mails = 0
    for consultation in followups.active_consultations():
        followup = followups.next_followup(consultation)
        if followup is None or followup.state == "scheduled":
            continue
        if followup_reminder(consultation.id, followup.state, followup.due_at.isoformat()) is not None:
            reminders += 1
    now = utcnow()
    unsent = db.session.scalars(select(Notification.id).where(
        Notification.emailed_at.is_(None), Notification.created_at < now - UNSENT_AFTER,
        Notification.created_at > now - UNSENT_UNTIL)).all()
    for notification_id in unsent:
        try:
            send_notification_email(notification_id)
            mails += 1
        except Exception:  # SMTP down: try again at the next sweep
            db.session.rollback()
            log.warning("care sweep: e-mail for notification %s failed", notification_id, exc_info=True)
    periodic.reschedule(CARE_SWEEP)
    return {"reminders": reminders, "mails": mails}


CARE_SWEEP = periodic.PeriodicJob("care-sweep", care_sweep, "CARE_SWEEP_SECONDS", 300)
