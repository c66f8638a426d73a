"""`flask worker`: the RQ worker process (non-forking; see app/jobs/worker.py)."""

import click
from flask import current_app
from flask.cli import with_appcontext

from app.jobs.queue import get_queue, get_redis
from app.jobs.worker import MoodLensWorker


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (for tests and batch runs).")
@click.option("--name", default=None, help="Worker name shown on the admin queue page.")
@click.option("--preload/--no-preload", default=True, help="Load the face models before the first job.")
@with_appcontext
def worker_command(burst: bool, name: str | None, preload: bool) -> None:
    """Run a worker that analyses screenings and sends notifications."""
    app = current_app._get_current_object()
    if preload:
        from app.jobs.resources import preload as preload_resources

        preload_resources(app)
    worker = MoodLensWorker([get_queue()], connection=get_redis(), name=name, app=app)
    worker.work(burst=burst, logging_level="INFO", with_scheduler=True)
