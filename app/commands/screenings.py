"""`flask screenings ...`: the analysis queue, for operators."""

from __future__ import annotations

import click
import redis
from flask.cli import AppGroup

from app.jobs.analysis_queue import requeue_waiting

screenings_cli = AppGroup("screenings", help="Operate the screening analysis queue.")


@screenings_cli.command("requeue")
@click.option(
    "--stale-seconds",
    type=int,
    default=None,
    help="Treat running screenings without progress for this long as lost (default: config).",
)
def requeue_command(stale_seconds: int | None) -> None:
    """Enqueue pending screenings and recover those whose worker was lost."""
    try:
        counts = requeue_waiting(stale_seconds)
    except redis.RedisError as error:
        raise click.ClickException(f"Redis is not reachable ({error}); nothing was requeued.") from error
    click.echo(
        f"enqueued {counts['enqueued']} pending, recovered {counts['recovered']} lost, "
        f"failed {counts['failed']} out of attempts"
    )
