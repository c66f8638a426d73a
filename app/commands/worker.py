"""`flask worker`: the RQ worker process (non-forking; see app/jobs/worker.py)."""

import click
from flask import current_app
from flask.cli import with_appcontext
from rq import Queue

from app.jobs.queue import get_queue, get_redis
from app.jobs.worker import MoodLensWorker, schedule_sweeps

# RQ refreshes an idle worker's heartbeat every `worker_ttl - 15` seconds (its default, 420, would
# be every 6.75 minutes): 60 keeps an idle worker well inside /readyz's two-minute freshness.
WORKER_TTL = 60


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (for tests and batch runs).")
@click.option("--name", default=None, help="Worker name shown on the admin queue page.")
@click.option("--queue", "queue_name", default=None,
              help="Serve this queue instead of the screening queue (e.g. `training`).")
@click.option("--preload/--no-preload", default=True, help="Load the face models before the first job.")
@click.option("--metrics-port", type=int, default=None,
              help="Serve this worker's Prometheus metrics on this port (a worker on another machine "
                   "than the web nodes; on the same one, share PROMETHEUS_MULTIPROC_DIR instead).")
@with_appcontext
def worker_command(burst: bool, name: str | None, queue_name: str | None, preload: bool,
                   metrics_port: int | None) -> None:
    """Run a worker that analyses screenings and sends notifications."""
    app = current_app._get_current_object()
    if metrics_port is not None:
        serve_metrics(metrics_port)
    if preload:
        from app.jobs.resources import preload as preload_resources

        preload_resources(app)
    # Sweeps (pending screenings, lost jobs, reminders) run on this worker's scheduler; a fresh
    # or wiped Redis has none scheduled until someone asks.
    schedule_sweeps()
    queue = get_queue() if queue_name is None else Queue(queue_name, connection=get_redis())
    worker = MoodLensWorker([queue], connection=get_redis(), name=name, app=app, worker_ttl=WORKER_TTL)
    worker.work(burst=burst, logging_level="INFO", with_scheduler=True)


@click.command("ping-worker")
@click.option("--timeout", default=30, show_default=True, help="Seconds to wait for a worker.")
@with_appcontext
def ping_worker_command(timeout: int) -> None:
    """Send a health job through Redis and wait until a worker answers (exit 1 if none does)."""
    import time
    import uuid

    from app.jobs import health

    token = uuid.uuid4().hex
    job = get_queue().enqueue(health.ping, token, result_ttl=60, ttl=timeout + 60)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = job.latest_result()
        if result is not None and result.return_value and result.return_value["token"] == token:
            reply = result.return_value
            click.echo(f"worker answered: pid {reply['worker_pid']} on {reply['host']}")
            return
        time.sleep(0.2)
    job.delete()  # nobody took it: don't leave it for a worker that starts later
    raise click.ClickException(f"no worker answered within {timeout}s")


def serve_metrics(port: int) -> None:
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server

    from app.observability.metrics import multiprocess_dir

    registry = REGISTRY
    if multiprocess_dir() is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(port, registry=registry)
