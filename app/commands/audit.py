"""`flask audit verify` and `flask audit anchor`: check the keyed audit chain, print its head."""

import json

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditEvent
from app.security.audit import anchor_path, current_head, verify_chain

audit_cli = AppGroup("audit", help="The tamper-evident audit trail.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Check every HMAC link and the anchored head; exit 1 and name the first problem if any."""
    broken = verify_chain()
    if broken is not None:
        click.echo(f"Audit chain BROKEN at event {broken.event_id}: {broken.reason}.", err=True)
        raise SystemExit(1)
    count = db.session.scalar(select(func.count()).select_from(AuditEvent))
    click.echo(f"Audit chain intact: {count} events verified, head matches {anchor_path()}.")


@audit_cli.command("anchor")
def anchor_command() -> None:
    """Print the chain's head (newest event id and HMAC) as JSON, to notarise outside MoodLens:
    a later `flask audit verify` plus a comparison with this line proves nothing was cut since."""
    head = current_head()
    if head is None:
        click.echo("The audit trail is empty.", err=True)
        raise SystemExit(1)
    created_at = db.session.get(AuditEvent, head.event_id).created_at
    click.echo(json.dumps({"event_id": head.event_id, "hash": head.hash,
                           "created_at": created_at.isoformat(timespec="seconds") + "Z"}))
