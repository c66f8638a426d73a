"""Logs as JSON lines, each carrying the request id of the web request (or job) it belongs to.

One line per record on stderr: time, level, logger, message, request_id, and exc_info when
there is one. E-mail addresses are masked in every line as a safety net: log messages name
records by id, never by person, and must never carry clinical content.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime

# Set by the web request hook and by the worker around each job.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# A caller-supplied X-Request-ID is kept only if it looks like an id (no log injection).
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_HANDLER_NAME = "moodlens-json"


def new_request_id(supplied: str | None = None) -> str:
    if supplied and REQUEST_ID_RE.match(supplied):
        return supplied
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return request_id_var.get()


def scrub(text: str) -> str:
    return EMAIL_RE.sub("[email]", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
            "process": record.process,
        }
        for key in ("job_id", "event", "endpoint", "method", "path", "status", "duration_ms"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return scrub(json.dumps(entry, default=str))


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = request_id_var.get() or "-"
        return scrub(super().format(record))


def configure(log_format: str = "json", level: str = "INFO") -> None:
    """Send every logger's records to stderr in `log_format`; once per process."""
    root = logging.getLogger()
    if any(handler.get_name() == _HANDLER_NAME for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
