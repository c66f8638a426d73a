"""Consultation chat: persisted, plain-text messages and read marks for unread counts."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.extensions import db
from app.i18n.marker import N_
from app.jobs import mail_queue
from app.models._time import utcnow
from app.models.care import ChatMessage, Consultation, ConsultationStatus, ScreeningRequest
from app.models.user import User
from app.security.policy import care_records_visible_to
from app.services import links, live, notifications
from app.services.consultations import CareError

MESSAGE_MAX = 4000
DOUBLE_SUBMIT_WINDOW = timedelta(seconds=5)


def post_message(sender: User, consultation: Consultation, body: str) -> ChatMessage:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise CareError(_("Please write a message before sending."))
    if len(body) > MESSAGE_MAX:
        raise CareError(_("Your message is too long (%(length)d characters; at most %(count)d).",
                          length=len(body), count=MESSAGE_MAX))
    if consultation.status is not ConsultationStatus.ACCEPTED:
        raise CareError(_("Messages can be sent only while the consultation is open and accepted."), 409)
    last = db.session.scalars(select(ChatMessage).where(
        ChatMessage.consultation_id == consultation.id).order_by(ChatMessage.id.desc()).limit(1)).first()
    if (last is not None and last.sender_id == sender.id and last.body == body
            and utcnow() - last.created_at < DOUBLE_SUBMIT_WINDOW):
        return last  # the same message sent twice in a row (double click, resubmit)
    message = ChatMessage(consultation_id=consultation.id, sender_id=sender.id, body=body)
    db.session.add(message)
    db.session.commit()
    live.publish(live.chat_channel(consultation.id), str(message.id))
    _schedule_unread_reminder(message.id)
    return message


def _schedule_unread_reminder(message_id: int) -> None:
    delay = current_app.config["MESSAGE_EMAIL_DELAY_SECONDS"]
    try:
        mail_queue.unread_reminder(message_id, timedelta(seconds=delay))
    except Exception:  # Redis down: the message is saved; only the reminder is lost
        current_app.logger.warning("could not schedule unread reminder for message %s", message_id)


def messages(consultation: Consultation, after_id: int = 0) -> list[ChatMessage]:
    return list(db.session.scalars(select(ChatMessage).where(
        ChatMessage.consultation_id == consultation.id, ChatMessage.id > after_id)
        .order_by(ChatMessage.id)))


def mark_read(reader: User, consultation: Consultation, up_to_id: int) -> int:
    """Mark the other party's messages read up to the last one the reader was shown (a newer
    message that arrived meanwhile stays unread, so its e-mail reminder still goes out)."""
    result = db.session.execute(update(ChatMessage).where(
        ChatMessage.consultation_id == consultation.id, ChatMessage.sender_id != reader.id,
        ChatMessage.id <= up_to_id, ChatMessage.read_at.is_(None)).values(read_at=utcnow()))
    db.session.commit()
    return result.rowcount or 0


def unread_count(user: User) -> int:
    """Messages from the other party, unread, over all the user's consultations."""
    if not care_records_visible_to(user):
        return 0
    mine = select(Consultation.id).where((Consultation.patient_id == user.id)
                                         | (Consultation.doctor_id == user.id))
    return db.session.scalar(select(func.count(ChatMessage.id)).where(
        ChatMessage.consultation_id.in_(mine), ChatMessage.sender_id != user.id,
        ChatMessage.read_at.is_(None))) or 0


def unread_by_consultation(user: User) -> dict[int, int]:
    if not care_records_visible_to(user):
        return {}
    rows = db.session.execute(select(ChatMessage.consultation_id, func.count(ChatMessage.id)).where(
        ChatMessage.sender_id != user.id, ChatMessage.read_at.is_(None),
        ChatMessage.consultation_id.in_(select(Consultation.id).where(
            (Consultation.patient_id == user.id) | (Consultation.doctor_id == user.id))))
        .group_by(ChatMessage.consultation_id))
    return {consultation_id: count for consultation_id, count in rows}


def request_screening(doctor: User, consultation: Consultation) -> ScreeningRequest:
    """The doctor asks for a new screening: a task on the patient home and a note in the chat."""
    if consultation.status is not ConsultationStatus.ACCEPTED:
        raise CareError(_("You can ask for a screening only in an accepted, open consultation."), 409)
    open_request = db.session.scalars(select(ScreeningRequest).where(
        ScreeningRequest.consultation_id == consultation.id,
        ScreeningRequest.fulfilled_at.is_(None))).first()
    if open_request is not None:
        return open_request  # one open request at a time; asking twice changes nothing
    request = ScreeningRequest(consultation_id=consultation.id, requested_by_id=doctor.id)
    db.session.add(request)
    db.session.add(ChatMessage(consultation_id=consultation.id, sender_id=doctor.id,
                               body="I have asked you to take a new screening. "
                                    "You will find it as a task on your home page."))
    notifications.notify(consultation.patient_id, "screening.requested",
                         N_("Your doctor asked you to take a new screening"), links.patient_home_path())
    db.session.commit()
    live.publish(live.chat_channel(consultation.id))
    return request
