"""JSON log lines: one object per line, the request id, and no e-mail addresses."""

from __future__ import annotations

import json
import logging

from app.observability import logs


def record(message: str, *args) -> logging.LogRecord:
    return logging.LogRecord("moodlens.test", logging.WARNING, __file__, 1, message, args, None)


def test_a_line_is_json_with_the_current_request_id():
    logs.request_id_var.set("req-42")
    try:
        line = logs.JsonFormatter().format(record("screening %s queued", 7))
    finally:
        logs.request_id_var.set(None)
    entry = json.loads(line)
    assert entry["message"] == "screening 7 queued"
    assert entry["request_id"] == "req-42" and entry["level"] == "WARNING"
    assert "\n" not in line


def test_email_addresses_are_masked_even_in_exceptions():
    try:
        raise ValueError("duplicate key (email)=(pat.patient@example.org)")
    except ValueError:
        import sys

        item = record("login for %s failed", "pat.patient@example.org")
        item.exc_info = sys.exc_info()
        line = logs.JsonFormatter().format(item)
    assert "example.org" not in line and "[email]" in line


def test_supplied_request_ids_are_kept_only_when_they_look_like_ids():
    assert logs.new_request_id("abc-123_DEF.4:5") == "abc-123_DEF.4:5"
    forged = logs.new_request_id('x"\n{"level": "INFO"}')
    assert len(forged) == 32 and forged.isalnum()
