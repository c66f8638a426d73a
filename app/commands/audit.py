"""`flask audit verify`: check that no audit event was altered or removed."""

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditEvent
from app.security.audit import verify_chain

audit_cli = AppGroup("audit", help="The tamper-evident audit trail.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Walk the hash chain; exit 1 and name the first broken event if any."""
    broken = verify_chain()
    if broken is not None:
        click.echo(f"Audit chain BROKEN at event {broken.event_id}: {broken.reason}.", err=True)
        raise SystemExit(1)
    count = db.session.scalar(select(func.count()).select_from(AuditEvent))
    click.echo(f"Audit chain intact: {count} events verified.")
