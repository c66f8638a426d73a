"""Prometheus metrics: what the web processes and workers count, and what is read at scrape time.

With PROMETHEUS_MULTIPROC_DIR set (by `flask serve`, or by the operator for gunicorn and the
workers of one machine), every process writes its values to files there and a scrape of any
web process adds them up; without it each process reports its own. Labels name endpoints,
plugins, media kinds and job functions — never a person, a screening or a value from one.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

REQUEST_LATENCY = Histogram(
    "moodlens_http_request_duration_seconds", "Time to answer a web request.",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SCREENINGS_SUBMITTED = Counter(
    "moodlens_screenings_submitted_total", "Screenings patients submitted.", ["plugin", "kind"])
SCREENINGS_FINISHED = Counter(
    "moodlens_screenings_finished_total", "Screenings whose analysis finished.", ["plugin", "kind"])
SCREENINGS_FAILED = Counter(
    "moodlens_screenings_failed_total", "Screenings whose analysis failed for good.", ["plugin", "kind"])
ANALYSIS_DURATION = Histogram(
    "moodlens_analysis_duration_seconds", "Time one analysis job ran, by outcome.",
    ["plugin", "kind", "outcome"],
    buckets=(0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300),
)
JOBS = Counter("moodlens_jobs_total", "Jobs the workers ran, by function and final status.",
               ["function", "status"])
EMAILS_SENT = Counter("moodlens_emails_sent_total", "Notification e-mails sent.", ["transport"])
EMAILS_FAILED = Counter("moodlens_emails_failed_total", "Notification e-mails that failed.", ["transport"])
LOGIN_FAILURES = Counter("moodlens_login_failures_total", "Failed sign-in attempts.", ["stage"])


def multiprocess_dir() -> Path | None:
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


def prune_dead_processes(directory: Path) -> None:
    """Remove the value files of processes that no longer run (at start-up: restarted web
    workers), keeping those of processes still alive, such as a worker that kept running."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def exposition(*collectors) -> tuple[bytes, str]:
    """The text a scrape gets: this process (or all processes of the multiprocess folder),
    plus `collectors` read now (queue lengths, worker heartbeats)."""
    if multiprocess_dir() is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    scrape_time = CollectorRegistry()
    for collector in collectors:
        scrape_time.register(collector)
    return body + generate_latest(scrape_time), CONTENT_TYPE_LATEST


class QueueCollector:
    """Queue lengths and worker heartbeats from a `readiness.QueueSnapshot`, as gauges."""

    def __init__(self, snapshot):
        self.snapshot = snapshot

    def collect(self):
        snapshot = self.snapshot
        up = GaugeMetricFamily("moodlens_redis_up", "Whether Redis answered this scrape.")
        up.add_metric([], 1 if snapshot.reachable else 0)
        yield up
        jobs = GaugeMetricFamily("moodlens_queue_jobs", "Jobs on the queue by state.",
                                 labels=["queue", "state"])
        for state, count in snapshot.jobs.items():
            jobs.add_metric([snapshot.queue, state], count)
        yield jobs
        alive = GaugeMetricFamily("moodlens_workers_alive", "Workers with a fresh heartbeat (or busy).")
        alive.add_metric([], sum(1 for worker in snapshot.workers if worker.alive))
        yield alive
        age = GaugeMetricFamily("moodlens_worker_heartbeat_age_seconds",
                                "Seconds since each registered worker's last heartbeat.", labels=["worker"])
        for worker in snapshot.workers:
            if worker.heartbeat_age is not None:
                age.add_metric([worker.name], worker.heartbeat_age)
        yield age
