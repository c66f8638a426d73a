"""What a live stream needs from its request to check, later, that its reader may still read.

A response body runs after its request's context has gone, and for a minute or more: the
check reloads the reader in a context of its own and asks that the account is still active,
still on the session token it had (deactivation and "log out everywhere" rotate it), that this
very session was not logged out and has not gone idle or too old (a stream is no activity: it
does not keep its session alive), and then the stream's own rule (`may_read`)."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask_login import current_user

from app.extensions import db
from app.models.user import User
from app.security import sessions


def reader_access(may_read: Callable[[User], bool]) -> Callable[[], bool]:
    app = current_app._get_current_object()
    user_id, token, sid = current_user.id, current_user.session_token, sessions.current_sid()

    def still_allowed() -> bool:
        with app.app_context():
            user = db.session.get(User, user_id)
            return (user is not None and user.is_active and user.session_token == token
                    and sessions.is_open(sid, user) and may_read(user))

    return still_allowed
