"""In-app notifications, and handing their e-mails to the worker.

A notification's text is written to be safe in an e-mail: no score, no band, no diagnosis,
only what happened and a link. E-mails are sent from RQ jobs (app/jobs/notifications.py),
queued by a session hook once the transaction that added the notification has committed: no
call site has to remember it, and a rolled-back notice never mails anyone.
"""

from __future__ import annotations

import logging

from flask_babel import gettext
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.jobs import mail_queue
from app.models._time import utcnow
from app.models.care import Notification
from app.models.user import User
from app.security.policy import care_records_visible_to
from app.services import language, links

log = logging.getLogger(__name__)


def notify(user_id: int, kind: str, text: str, link: str, *, email: bool = True,
           dedupe_key: str | None = None) -> Notification | None:
    """Add a notification to the current transaction; its e-mail is queued once that commits.
    With a `dedupe_key` a second identical notice is skipped. `text` is an English message
    marked with N_: it is stored in the recipient's language, which its e-mail speaks too."""
    if dedupe_key and db.session.scalar(select(Notification.id).where(
            Notification.dedupe_key == dedupe_key)) is not None:
        return None
    text = language.translate(language.language_of(db.session.get(User, user_id)), text)
    notification = Notification(user_id=user_id, kind=kind, text=text[:200], link=link,
                                dedupe_key=dedupe_key)
    db.session.add(notification)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # the same dedupe_key raced in from another process
        return None
    if email:
        db.session.info.setdefault(PENDING_EMAILS, []).append(notification.id)
    return notification


PENDING_EMAILS = "moodlens_pending_emails"


@event.listens_for(db.session, "after_commit")
def _queue_committed_emails(session) -> None:
    for notification_id in session.info.pop(PENDING_EMAILS, []):
        enqueue_email(notification_id)


@event.listens_for(db.session, "after_soft_rollback")
def _forget_rolled_back_emails(session, previous_transaction) -> None:
    if not previous_transaction.nested:  # a savepoint's rollback keeps the outer transaction's notices
        session.info.pop(PENDING_EMAILS, None)


def enqueue_email(notification_id: int) -> None:
    try:
        mail_queue.notification_email(notification_id)
    except Exception:  # Redis down: the notice is in the app; the sweep job sends the mail later
        log.warning("could not queue e-mail for notification %s", notification_id, exc_info=True)


def unread_count(user) -> int:
    if not care_records_visible_to(user):
        return 0
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def recent(user, limit: int = 20) -> list[Notification]:
    """The user's latest notices; none for a doctor who may not see patients (they name requests)."""
    if not care_records_visible_to(user):
        return []
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id.desc()).limit(limit)))


def mark_all_read(user) -> None:
    db.session.execute(update(Notification).where(Notification.user_id == user.id,
                                                  Notification.read_at.is_(None))
                       .values(read_at=utcnow()))
    db.session.commit()


def email_body(notification: Notification) -> tuple[str, str]:
    """Subject and body in the recipient's language (call it within language.speaking_to)."""
    subject = gettext("MoodLens: %(text)s", text=notification.text)
    body = gettext("Hello,\n\n%(text)s on MoodLens.\n\n"
                   "Log in to read it: %(link)s\n\n"
                   "For your privacy this e-mail contains no medical details.\n"
                   "If you are in danger, contact your local emergency services now.\n",
                   text=notification.text, link=links.external_url(notification.link))
    return subject, body
