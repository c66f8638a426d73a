"""E-mails telling an account's owner that its password or second factor changed, so that a
change they did not make (a stolen session, a hijacked admin account) does not go unnoticed.

Queued after the change is committed, sent by the worker in the owner's language; they name
the change and when it happened, never anything clinical. A Redis outage loses the notice, not
the change: the person already saw it happen, or an admin did it for them.
"""

from __future__ import annotations

import logging

from app.jobs import mail_queue
from app.models._time import utcnow
from app.models.user import User

log = logging.getLogger(__name__)

PASSWORD_CHANGED = "password_changed"  # noqa: S105  (an event's name, not a password)
SECOND_FACTOR_REMOVED = "second_factor_removed"
SECOND_FACTOR_REPLACED = "second_factor_replaced"


def notify(user: User, event: str) -> None:
    try:
        mail_queue.security_notice(user.id, event, utcnow().isoformat())
    except Exception:  # Redis down: the change stands; only the notice is lost
        log.warning("could not queue the %s notice for user %s", event, user.id, exc_info=True)
