"""gunicorn settings for MoodLens: `gunicorn --config python:app.observability.gunicorn_conf ...`.

- gunicorn's own log lines become JSON like the application's (no access log: the application
  logs each request itself, without the query string).
- With PROMETHEUS_MULTIPROC_DIR set, the value files of processes that are gone are removed at
  start (counters of the previous run; Prometheus reads the drop as a counter reset).
"""

import os
from pathlib import Path

from app.observability.logs import JsonFormatter

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": []},  # the application adds its own in each worker
    "formatters": {"json": {"()": JsonFormatter}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                            "stream": "ext://sys.stderr"}},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    },
}


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from app.observability.metrics import prune_dead_processes

        prune_dead_processes(Path(directory))

