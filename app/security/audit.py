"""Writing and verifying the hash-chained audit trail (see app/models/audit.py)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import redis
from flask import current_app, has_request_context, request
from sqlalchemy import select, text

from app.extensions import db
from app.models._time import utcnow
from app.models.audit import AuditEvent

GENESIS_HASH = "0" * 64


def _digest(event: AuditEvent) -> str:
    payload = json.dumps(
        {
            "created_at": event.created_at.isoformat(timespec="microseconds"),
            "actor_id": event.actor_id,
            "action": event.action,
            "patient_id": event.patient_id,
            "target": event.target,
            "ip": event.ip,
            "details": event.details,
            "prev_hash": event.prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


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
        action=action,
        patient_id=patient_id,
        target=target,
        ip=request.remote_addr if has_request_context() else None,
        details=details or {},
        prev_hash=last_hash or GENESIS_HASH,
    )
    event.hash = _digest(event)
    db.session.add(event)
    db.session.flush()
    return event


def record_read(actor_id: int, patient_id: int, target: str) -> AuditEvent | None:
    """A clinician's read of patient data. The same read repeated within
    AUDIT_READ_COALESCE_SECONDS (a chat poll, a reloaded list) adds no row: one row per
    reader, record and window instead of a flood; the caller commits."""
    if not _first_read_in_window(actor_id, target):
        return None
    return record("patient_data.view", actor_id=actor_id, patient_id=patient_id, target=target)


def _first_read_in_window(actor_id: int, target: str) -> bool:
    seconds = int(current_app.config.get("AUDIT_READ_COALESCE_SECONDS", 300))
    if seconds <= 0:
        return True
    key = f"moodlens:audit-read:{actor_id}:{target}"
    try:
        return bool(current_app.extensions["moodlens_redis"].set(key, 1, nx=True, ex=seconds))
    except redis.RedisError:
        return True  # no Redis: audit every read rather than lose one


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def verify_chain() -> ChainBreak | None:
    """Walk the trail in order; return the first event whose link or content does not match."""
    expected_prev = GENESIS_HASH
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(500):
        if event.prev_hash != expected_prev:
            return ChainBreak(event.id, "previous event missing or altered (prev_hash mismatch)")
        if _digest(event) != event.hash:
            return ChainBreak(event.id, "event content altered (hash mismatch)")
        expected_prev = event.hash
    return None
