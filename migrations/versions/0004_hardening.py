"""Trust hardening: ids are never reused, the audit chain is keyed, subjects replace bare ids.

- SQLite: every table whose id is referenced elsewhere becomes AUTOINCREMENT (tables are
  recreated in batch mode), and the users sequence starts above every id the audit trail
  names, so no deleted account's id is handed out again. PostgreSQL sequences never reuse.
- audit_events gains actor_subject / patient_subject: a hash of an account's id and creation
  time (app.security.audit.subject_of). Existing events get the subject of the account that
  had the id when the event happened (an account created later gets none of its history).
- Clinical values that older versions wrote into audit details (PHQ-9 band, urgent flag,
  diagnosis outcome) are removed.
- The chain is re-sealed with HMAC under AUDIT_HMAC_KEY, after checking the old unkeyed
  SHA-256 chain; an `audit.reseal` event records the outcome of that check, and the head is
  anchored outside the database (docs/security.md, "Audit trail").

Revision ID: 0004_hardening
Revises: 0003_care
"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = '0004_hardening'
down_revision = '0003_care'
branch_labels = None
depends_on = None

AUTOINCREMENT_TABLES = ("users", "consent_records", "screenings", "screening_frames", "consultations",
                        "screening_shares", "chat_messages", "screening_requests", "diagnoses",
                        "care_reports", "notifications", "audit_events")
CLINICAL_DETAIL_KEYS = ("phq9_band", "urgent", "outcome")
GENESIS_HASH = "0" * 64

users = sa.table("users", sa.column("id", sa.Integer), sa.column("created_at", sa.DateTime))
events = sa.table(
    "audit_events", sa.column("id", sa.Integer), sa.column("created_at", sa.DateTime),
    sa.column("actor_id", sa.Integer), sa.column("actor_subject", sa.String),
    sa.column("action", sa.String), sa.column("patient_id", sa.Integer),
    sa.column("patient_subject", sa.String), sa.column("target", sa.String), sa.column("ip", sa.String),
    sa.column("details", sa.JSON), sa.column("prev_hash", sa.String), sa.column("hash", sa.String))


def _legacy_digest(row, prev_hash: str, details) -> str:
    """The unkeyed SHA-256 of revisions up to 0003_care."""
    payload = json.dumps({
        "created_at": row.created_at.isoformat(timespec="microseconds"), "actor_id": row.actor_id,
        "action": row.action, "patient_id": row.patient_id, "target": row.target, "ip": row.ip,
        "details": details, "prev_hash": prev_hash}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def upgrade():
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.add_column(sa.Column("actor_subject", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("patient_subject", sa.String(length=32), nullable=True))
        for column in ("actor_subject", "patient_subject"):
            batch_op.create_index(batch_op.f(f"ix_audit_events_{column}"), [column], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in AUTOINCREMENT_TABLES:
            with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
                pass
        named = bind.execute(sa.text(
            "SELECT MAX(n) FROM (SELECT MAX(id) AS n FROM users"
            " UNION ALL SELECT MAX(actor_id) FROM audit_events"
            " UNION ALL SELECT MAX(patient_id) FROM audit_events)")).scalar() or 0
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'users'"))
        bind.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('users', :seq)"),
                     {"seq": named})
    _reseal(bind)


def _reseal(bind) -> None:
    from app.security import audit

    key = audit.audit_key(current_app)
    created = dict(bind.execute(sa.select(users.c.id, users.c.created_at)).all())

    def subject(user_id, at):
        born = created.get(user_id)
        return audit.subject_of(user_id, born) if user_id and born and born <= at else None

    legacy_prev, legacy_break, prev, count = GENESIS_HASH, None, GENESIS_HASH, 0
    for row in bind.execute(sa.select(events).order_by(events.c.id)).all():
        if legacy_break is None and (row.prev_hash != legacy_prev
                                     or _legacy_digest(row, row.prev_hash, row.details) != row.hash):
            legacy_break = row.id
        legacy_prev = row.hash
        details = {k: v for k, v in (row.details or {}).items() if k not in CLINICAL_DETAIL_KEYS}
        fields = {
            "created_at": row.created_at.isoformat(timespec="microseconds"),
            "actor_id": row.actor_id, "actor_subject": subject(row.actor_id, row.created_at),
            "action": row.action,
            "patient_id": row.patient_id, "patient_subject": subject(row.patient_id, row.created_at),
            "target": row.target, "ip": row.ip, "details": details, "prev_hash": prev,
        }
        sealed = audit.seal(fields, key)
        bind.execute(sa.update(events).where(events.c.id == row.id).values(
            actor_subject=fields["actor_subject"], patient_subject=fields["patient_subject"],
            details=details, prev_hash=prev, hash=sealed))
        prev, count = sealed, count + 1
    if count == 0:
        return  # a new database: the first append starts the keyed chain
    from app.models._time import utcnow

    now = utcnow()
    fields = {"created_at": now.isoformat(timespec="microseconds"), "actor_id": None,
              "actor_subject": None, "action": "audit.reseal", "patient_id": None, "patient_subject": None,
              "target": None, "ip": None, "prev_hash": prev,
              "details": {"events": count, "legacy_chain": "intact" if legacy_break is None
                          else f"broken at event {legacy_break} before re-sealing"}}
    sealed = audit.seal(fields, key)
    values = dict(fields, created_at=now, hash=sealed)
    new_id = bind.execute(sa.insert(events).values(**values).returning(events.c.id)).scalar()
    audit.reset_anchor(audit.anchor_path(current_app), new_id, sealed)


def downgrade():
    # Back to the unkeyed chain the older code verifies (subjects and removed values are gone).
    bind = op.get_bind()
    prev = GENESIS_HASH
    for row in bind.execute(sa.select(events).order_by(events.c.id)).all():
        digest = _legacy_digest(row, prev, row.details)
        bind.execute(sa.update(events).where(events.c.id == row.id).values(prev_hash=prev, hash=digest))
        prev = digest
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_patient_subject"))
        batch_op.drop_index(batch_op.f("ix_audit_events_actor_subject"))
        batch_op.drop_column("patient_subject")
        batch_op.drop_column("actor_subject")
