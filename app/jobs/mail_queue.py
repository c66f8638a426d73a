"""Handing e-mails and reminders to the worker: the mail jobs named by reference, with their
timeouts and retries in one place.

Services queue mail through here (the queue layer). The jobs (app/jobs/account_mail.py,
app/jobs/notifications.py) are entry points that call services back when they run in the
worker, so services → this module → a job → services is a loop at import time. It is closed by
importing modules, never names, on each of its edges (a job is looked up when it is queued):
whichever side a process imports first, the other finds the module it needs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rq import Retry

from app.jobs import account_mail, notifications, periodic
from app.jobs.queue import get_queue

MAIL_TIMEOUT = 60
# An SMTP server that refuses for a while: three more tries over about six minutes.
MAIL_RETRY = dict(max=3, interval=[10, 60, 300])


def confirmation(user_id: int) -> None:
    _send(account_mail.send_confirmation, user_id)


def registration_notice(user_id: int) -> None:
    _send(account_mail.send_registration_notice, user_id)


def password_reset(email: str) -> None:
    _send(account_mail.send_password_reset, email)


def security_notice(user_id: int, event: str, when_iso: str) -> None:
    """`event`: "password_changed", "second_factor_removed" or "second_factor_replaced"."""
    _send(account_mail.send_security_notice, user_id, event, when_iso)


def notification_email(notification_id: int) -> None:
    """Queued, and the care sweep scheduled if it is not: it sends what Redis lost meanwhile."""
    _send(notifications.send_notification_email, notification_id)
    periodic.ensure_scheduled(notifications.CARE_SWEEP)


def unread_reminder(message_id: int, delay: timedelta) -> None:
    get_queue().enqueue_in(delay, notifications.notify_unread_message, message_id, job_timeout=MAIL_TIMEOUT)


def followup_reminder(when: datetime, consultation_id: int, stage: str, due_iso: str) -> None:
    """`when` is aware UTC; the job checks when it runs that the follow-up is still due."""
    get_queue().enqueue_at(when, notifications.followup_reminder, consultation_id, stage, due_iso,
                           job_timeout=MAIL_TIMEOUT)


def _send(job, *args) -> None:
    get_queue().enqueue(job, *args, job_timeout=MAIL_TIMEOUT, retry=Retry(**MAIL_RETRY))
