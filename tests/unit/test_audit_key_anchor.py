"""The audit chain is keyed (HMAC under AUDIT_HMAC_KEY, kept outside the database) and its head is
anchored outside the database: rewriting events and recomputing the hashes, or deleting the
newest events, is caught by `flask audit verify`; `flask audit anchor` prints the head."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import delete, select, update

from app.extensions import db
from app.models.audit import AuditEvent
from app.security import audit


def _events(n: int = 4) -> list[AuditEvent]:
    events = [audit.record("test.event", actor_id=None, details={"n": index}) for index in range(n)]
    db.session.commit()
    return events


def _unkeyed(fields: dict) -> str:
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def test_recomputing_the_chain_without_the_key_is_detected(app):
    events = _events()
    assert audit.verify_chain() is None
    # An attacker with database access rewrites event 2 and recomputes every later hash, as
    # they could with the old unkeyed SHA-256 chain.
    prev = events[1].hash
    for index, event in enumerate(events[2:], start=2):
        details = {"n": 99} if index == 2 else event.details
        fields = audit._fields(event) | {"details": details, "prev_hash": prev}
        forged = _unkeyed(fields)
        db.session.execute(update(AuditEvent).where(AuditEvent.id == event.id).values(
            details=fields["details"], prev_hash=prev, hash=forged))
        prev = forged
    db.session.commit()
    broken = audit.verify_chain()
    assert broken is not None and broken.event_id == events[2].id and "hash mismatch" in broken.reason


def test_removing_the_newest_events_is_detected_through_the_anchor(app):
    events = _events()
    head = audit.read_anchor()
    assert head == audit.Head(events[-1].id, events[-1].hash)
    assert oct(audit.anchor_path().stat().st_mode & 0o777) == "0o600"
    db.session.execute(delete(AuditEvent).where(AuditEvent.id >= events[2].id))
    db.session.commit()
    broken = audit.verify_chain()
    assert broken is not None and broken.event_id == events[-1].id and "removed" in broken.reason
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "removed" in result.output


def test_a_missing_anchor_is_reported(app):
    _events(2)
    audit.anchor_path().unlink()
    broken = audit.verify_chain()
    assert broken is not None and "anchor" in broken.reason


def test_the_anchor_only_moves_forward_and_a_rollback_leaves_it(app):
    events = _events(2)
    audit.write_anchor(audit.anchor_path(), events[0].id, events[0].hash)  # a late writer
    assert audit.read_anchor().event_id == events[-1].id
    audit.record("test.event")
    db.session.rollback()
    assert audit.read_anchor().event_id == events[-1].id


def test_anchor_command_prints_the_head_for_notarisation(app):
    events = _events(3)
    result = app.test_cli_runner().invoke(args=["audit", "anchor"])
    assert result.exit_code == 0
    printed = json.loads(result.output)
    assert printed["event_id"] == events[-1].id and printed["hash"] == events[-1].hash


def test_key_from_setting_file_or_refused_in_production(app):
    _events(1)
    generated = (audit.anchor_path().parent / "audit.key").read_text().strip()
    assert audit.audit_key() == bytes.fromhex(generated)
    app.extensions.pop("moodlens_audit_key")
    app.config["AUDIT_HMAC_KEY"] = "11" * 32
    try:
        assert audit.audit_key() == bytes.fromhex("11" * 32)
        # Another key: every existing event fails its HMAC.
        assert audit.verify_chain() is not None
        app.extensions.pop("moodlens_audit_key")
        app.config["AUDIT_HMAC_KEY"] = None
        app.config["ENV_NAME"] = "production"
        with pytest.raises(audit.AuditKeyError, match="AUDIT_HMAC_KEY must be set in production"):
            audit.audit_key()
    finally:
        app.extensions.pop("moodlens_audit_key", None)
        app.config.update(AUDIT_HMAC_KEY=None, ENV_NAME="testing")
    assert db.session.scalar(select(AuditEvent.id).limit(1)) is not None
