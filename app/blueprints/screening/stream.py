"""A screening's live progress (server-sent events): a nudge whenever the worker moves the
analysis on, so the result page fetches the progress fragment at once instead of polling. The
stream ends as soon as the reader may no longer see the screening."""

from __future__ import annotations

from flask import Response, current_app
from flask_login import current_user, login_required

from app.blueprints.screening import bp
from app.blueprints.screening.routes import _screening_or_404
from app.extensions import db
from app.jobs.analysis_queue import ensure_enqueued
from app.jobs.queue import get_redis
from app.models.screening import Screening
from app.models.user import User
from app.security.policy import screening_visible_to
from app.services import live
from app.web.session_rules import background
from app.web.streams import reader_access


@bp.get("/screenings/<int:screening_id>/stream")
@background  # a stream is no activity: it must not keep its session alive
@login_required
def progress_stream(screening_id: int):
    screening = _screening_or_404(screening_id)  # exactly who may see the progress fragment
    ensure_enqueued(screening)  # as the fragment does: Redis back after an outage
    if screening.status.finished:
        return "", 204  # nothing more will happen; EventSource does not reconnect after a 204

    def may_read(user: User) -> bool:
        current = db.session.get(Screening, screening_id)
        return current is not None and screening_visible_to(user, current)

    events = live.nudges(get_redis(), live.screening_channel(screening.id), "progress",
                         lifetime=current_app.config["LIVE_STREAM_SECONDS"],
                         heartbeat=current_app.config["LIVE_HEARTBEAT_SECONDS"],
                         reader_id=current_user.id, still_allowed=reader_access(may_read),
                         recheck=current_app.config["LIVE_ACCESS_CHECK_SECONDS"])
    db.session.commit()  # give the database connection back before the first wait
    return Response(events, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
