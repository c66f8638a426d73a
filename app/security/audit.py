"""Writing and verifying the keyed, anchored audit trail (see app/models/audit.py).

Each event's `hash` is an HMAC-SHA256, under AUDIT_HMAC_KEY, of its content and the previous
event's hash. Without the key (kept outside the database, like the media key) nobody can
rewrite an event and recompute the hashes after it. The newest event's id and hash (the head)
are also written outside the database after every commit that appended events
(AUDIT_ANCHOR_FILE, by default instance/audit.head), so deleting the newest rows is detected
too; `flask audit anchor` prints the head for notarising elsewhere.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import redis
from flask import Flask, current_app, has_request_context, request
from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.extensions import db
from app.models._time import utcnow
from app.models.audit import AuditEvent
from app.security import keys

GENESIS_HASH = "0" * 64
_PENDING_HEAD = "moodlens_audit_head"


class AuditKeyError(keys.DeploymentKeyError):
    pass


def audit_key(app: Flask | None = None) -> bytes:
    return keys.deployment_key(app or current_app._get_current_object(), "AUDIT_HMAC_KEY", "audit.key",
                               AuditKeyError)


def subject_of(user_id: int, created_at: datetime) -> str:
    """A stable, never-reused name for one account: its id and creation instant together.
    Selecting a person's events by subject cannot pick up another account's events, even where
    a database once handed a deleted account's id to a new one."""
    seed = f"moodlens-account:{user_id}:{created_at.isoformat(timespec='microseconds')}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def user_subject(user) -> str | None:
    return subject_of(user.id, user.created_at) if user is not None and user.created_at else None


def seal(fields: dict, key: bytes) -> str:
    """The HMAC of an event's content and its predecessor's hash (`fields` as in `_fields`)."""
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def _fields(event: AuditEvent) -> dict:
    return {
        "created_at": event.created_at.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_subject": event.actor_subject,
        "action": event.action,
        "patient_id": event.patient_id,
        "patient_subject": event.patient_subject,
        "target": event.target,
        "ip": event.ip,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }


def _subject_for(user_id: int | None) -> str | None:
    from app.models.user import User

    return user_subject(db.session.get(User, user_id)) if user_id else None


def record(action: str, *, actor_id: int | None = None, patient_id: int | None = None,
           target: str | None = None, details: dict | None = None) -> AuditEvent:
    """Append an event to the current transaction; the caller commits with its own work."""
    if db.engine.dialect.name == "postgresql":
        # Serialise appends so two transactions never chain onto the same predecessor.
        db.session.execute(text("SELECT pg_advisory_xact_lock(727274)"))
    last_hash = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        created_at=utcnow(),
        actor_id=actor_id,
        actor_subject=_subject_for(actor_id),
        action=action,
        patient_id=patient_id,
        patient_subject=_subject_for(patient_id),
        target=target,
        ip=request.remote_addr if has_request_context() else None,
        details=details or {},
        prev_hash=last_hash or GENESIS_HASH,
    )
    event.hash = seal(_fields(event), audit_key())
    db.session.add(event)
    db.session.flush()
    db.session.info[_PENDING_HEAD] = (str(anchor_path()), event.id, event.hash)
    return event


def record_read(actor_id: int, patient_id: int, target: str) -> AuditEvent | None:
    """A clinician's read of patient data. The same read repeated within
    AUDIT_READ_COALESCE_SECONDS (a chat poll, a reloaded list) adds no row: one row per
    reader, record and window instead of a flood; the caller commits."""
    if not _first_read_in_window(actor_id, target):
        return None
    return record("patient_data.view", actor_id=actor_id, patient_id=patient_id, target=target)


def _first_read_in_window(actor_id: int, target: str) -> bool:
    seconds = int(current_app.config["AUDIT_READ_COALESCE_SECONDS"])
    if seconds <= 0:
        return True
    key = f"moodlens:audit-read:{actor_id}:{target}"
    try:
        return bool(current_app.extensions["moodlens_redis"].set(key, 1, nx=True, ex=seconds))
    except redis.RedisError:
        return True  # no Redis: audit every read rather than lose one


# --- The head anchor, outside the database --------------------------------------------------

@dataclass(frozen=True)
class Head:
    event_id: int
    hash: str


def anchor_path(app: Flask | None = None) -> Path:
    app = app or current_app._get_current_object()
    return Path(app.config.get("AUDIT_ANCHOR_FILE") or Path(app.instance_path) / "audit.head")


def write_anchor(path: str | Path, event_id: int, event_hash: str) -> None:
    """Move the anchor forward (never back: commits of several processes may finish out of order)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        current = _parse_head(handle.read())
        if current is None or event_id > current.event_id:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"event_id": event_id, "hash": event_hash}) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def reset_anchor(path: str | Path, event_id: int, event_hash: str) -> None:
    """Set the anchor to a given head, also backwards (only for re-sealing a chain)."""
    Path(path).unlink(missing_ok=True)
    write_anchor(path, event_id, event_hash)


def _parse_head(content: str) -> Head | None:
    try:
        data = json.loads(content)
        return Head(int(data["event_id"]), str(data["hash"]))
    except (ValueError, KeyError, TypeError):
        return None


def read_anchor(app: Flask | None = None) -> Head | None:
    try:
        return _parse_head(anchor_path(app).read_text())
    except FileNotFoundError:
        return None


def current_head() -> Head | None:
    newest = select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    row = db.session.execute(newest).first()
    return Head(row.id, row.hash) if row else None


@sa_event.listens_for(Session, "after_commit")
def _anchor_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_HEAD, None)
    if pending is not None:
        write_anchor(*pending)


@sa_event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_HEAD, None)


# --- Verifying ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def verify_chain() -> ChainBreak | None:
    """Walk the trail in order, checking each HMAC link, then that the anchored head is still
    there unchanged; return the first problem found."""
    key = audit_key()
    expected_prev = GENESIS_HASH
    hashes: dict[int, str] = {}
    last_id = None
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(500):
        if event.prev_hash != expected_prev:
            return ChainBreak(event.id, "previous event missing or altered (prev_hash mismatch)")
        if not hmac.compare_digest(seal(_fields(event), key), event.hash):
            return ChainBreak(event.id, "event content altered, or sealed without the audit key "
                                        "(hash mismatch)")
        expected_prev = event.hash
        last_id = event.id
        hashes[event.id] = event.hash
    anchor = read_anchor()
    if anchor is None:
        if last_id is not None:
            return ChainBreak(last_id, f"the head anchor ({anchor_path()}) is missing; removal of the "
                                       "newest events cannot be ruled out")
        return None
    if anchor.event_id not in hashes:
        return ChainBreak(anchor.event_id, "the newest events were removed (the anchored head is gone)")
    if not hmac.compare_digest(hashes[anchor.event_id], anchor.hash):
        return ChainBreak(anchor.event_id, "the anchored head was rewritten (hash differs from the anchor)")
    return None
