"""How long this session may stay idle: asked by the idle warning (static/js/idle.js) in the
background, which does not restart the clock, and by its "Stay signed in" button, which does."""

from __future__ import annotations

import time

import redis
from flask import jsonify
from flask_login import current_user, login_required

from app.blueprints.auth import bp
from app.security import sessions


@bp.get("/session")
@login_required
def session_clock():
    try:
        record = sessions.current_record()
    except redis.RedisError:
        return jsonify(error="session store unavailable"), 503, {"Cache-Control": "no-store"}
    # The session rules have refused a missing or ended record before this view runs.
    left = sessions.idle_seconds_left(record, current_user, time.time())
    return jsonify(idle_seconds_left=max(0, round(left))), 200, {"Cache-Control": "no-store"}
