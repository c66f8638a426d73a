"""`flask serve`: everything MoodLens needs on one machine, stopped together by Ctrl-C.

Starts (1) the embedded Redis when REDIS_URL is unset, (2) one RQ worker, and one more for
model training (its own queue, so screenings never wait behind a training run), (3) gunicorn with
gthread workers (a sync worker would be blocked by a long-lived SSE stream). All of them write
their metrics to instance/prometheus, so /metrics adds up the web workers and the worker.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app import embedded_redis
from app.observability.metrics import prune_dead_processes


@click.command("serve")
@click.option("--bind", default="127.0.0.1:5000", show_default=True)
@click.option("--web-workers", default=2, show_default=True)
@click.option("--threads", default=8, show_default=True)
@with_appcontext
def serve_command(bind: str, web_workers: int, threads: int) -> None:
    """Run the web server and one analysis worker until Ctrl-C."""
    embedded = bool(current_app.config.get("EMBEDDED_REDIS"))
    if embedded:  # children get its URL, so they treat it as an ordinary server
        embedded_redis.ensure_running(current_app.config["INSTANCE_PATH"])
    env = dict(os.environ, REDIS_URL=current_app.config["REDIS_URL"])
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(current_app.instance_path, "prometheus"))
    prune_dead_processes(Path(env["PROMETHEUS_MULTIPROC_DIR"]))
    bin_dir = os.path.dirname(sys.executable)
    children = [
        subprocess.Popen([os.path.join(bin_dir, "flask"), "--app", "wsgi", "worker"], env=env),
        subprocess.Popen([os.path.join(bin_dir, "flask"), "--app", "wsgi", "worker", "--no-preload",
                          "--queue", current_app.config["TRAINING_QUEUE"]], env=env),
        subprocess.Popen([os.path.join(bin_dir, "gunicorn"), "--worker-class", "gthread",
                          "--workers", str(web_workers), "--threads", str(threads),
                          "--bind", bind, "--config", "python:app.observability.gunicorn_conf",
                          "wsgi:app"], env=env),
    ]
    click.echo(f"MoodLens is starting on http://{bind}/ — press Ctrl-C to stop.")
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.5)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
    if embedded:
        embedded_redis.shutdown(current_app.config["INSTANCE_PATH"])
    click.echo("MoodLens stopped.")
    if not stopping:
        raise click.ClickException("a MoodLens process exited unexpectedly; see the log above")
