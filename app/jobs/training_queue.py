"""Handing training work to the training worker: the training jobs named by reference, on their
own queue, with their timeout in one place.

Services queue trainings and comparisons through here (the queue layer). The jobs
(app/jobs/training.py) run on the TRAINING_QUEUE queue, served by `flask worker --queue
training`, so a day-long training never delays a screening. They are entry points that call
services back when they run, so services → this module → the job → services is a loop at import
time; it is closed by importing modules, never names, on each of its edges.

Every job gets TRAINING_JOB_TIMEOUT (a training may take days) and no retry: a failed training
or evaluation is shown to the admin, who starts it again knowingly rather than a worker
silently repeating hours of work.
"""

from __future__ import annotations

from flask import current_app
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

from app.jobs import training
from app.jobs.queue import get_redis

# One severity training at a time: its job id is fixed, and the page reads its outcome by that id
# for a month.
SEVERITY_JOB_ID = "severity-training"
SEVERITY_RESULT_TTL = 30 * 24 * 3600


def training_run(run_id: int) -> None:
    _enqueue(training.run_training, run_id, job_id=f"training-{run_id}")


def severity_training(folds: int, alpha: float) -> None:
    _enqueue(training.train_severity, folds, alpha, job_id=SEVERITY_JOB_ID,
             result_ttl=SEVERITY_RESULT_TTL, failure_ttl=SEVERITY_RESULT_TTL)


def severity_training_job() -> Job | None:
    """The latest severity training's job while Redis remembers it."""
    try:
        return Job.fetch(SEVERITY_JOB_ID, connection=get_redis())
    except NoSuchJobError:
        return None


def comparison(comparison_id: str) -> None:
    _enqueue(training.compare_versions, comparison_id, job_id=f"compare-{comparison_id}")


def _enqueue(job, *args, **options) -> None:
    queue = Queue(current_app.config["TRAINING_QUEUE"], connection=get_redis(),
                  default_timeout=current_app.config["TRAINING_JOB_TIMEOUT"])
    queue.enqueue(job, *args, **options)
