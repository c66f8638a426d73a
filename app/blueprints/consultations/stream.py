"""The chat's live stream (server-sent events): a nudge whenever a message arrives, so the
page fetches it at once instead of waiting for its fallback poll. The stream ends as soon as
the reader may no longer read the chat."""

from __future__ import annotations

from flask import Response, abort, current_app
from flask_login import current_user

from app.blueprints.consultations import bp
from app.extensions import db
from app.jobs.queue import get_redis
from app.models.care import Consultation, ConsultationStatus
from app.models.user import Role, User
from app.security.policy import chat_visible_to, role_required
from app.services import consultations, live
from app.web.session_rules import background
from app.web.streams import reader_access


@bp.get("/consultations/<int:consultation_id>/stream")
@background  # a stream is no activity: it must not keep its session alive
@role_required(Role.PATIENT, Role.DOCTOR)
def chat_stream(consultation_id: int):
    consultation: Consultation | None = consultations.get_for_user(current_user, consultation_id)
    if consultation is None or not chat_visible_to(current_user, consultation):
        abort(404)
    if consultation.status is not ConsultationStatus.ACCEPTED:
        # Nothing more can be said here. 204 tells EventSource not to reconnect.
        return "", 204

    def may_read(user: User) -> bool:
        chat = db.session.get(Consultation, consultation_id)
        return chat is not None and chat.status is ConsultationStatus.ACCEPTED and chat_visible_to(user, chat)

    events = live.nudges(get_redis(), live.chat_channel(consultation.id), "chat",
                         lifetime=current_app.config["LIVE_STREAM_SECONDS"],
                         heartbeat=current_app.config["LIVE_HEARTBEAT_SECONDS"],
                         reader_id=current_user.id, still_allowed=reader_access(may_read),
                         recheck=current_app.config["LIVE_ACCESS_CHECK_SECONDS"])
    # The stream waits for minutes: end the transaction, which gives the database connection
    # back to the pool before the first wait (the access checks take one only while they run).
    db.session.commit()
    return Response(events, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
