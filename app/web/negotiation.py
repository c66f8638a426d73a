"""What kind of answer a request wants: the JSON API and the recorder's upload take JSON."""

from __future__ import annotations

from flask import request


def wants_json() -> bool:
    return (
        request.path.startswith("/api/")
        or request.headers.get("X-Requested-With") == "XMLHttpRequest"
        or request.accept_mimetypes.best == "application/json"
    )
