"""Where a `next` parameter may send someone: paths on this site only.

An open redirect after login is a phishing tool, so the check runs on what the browser will
actually follow. Browsers and Werkzeug drop tab, CR and LF from URLs and read a backslash as
a slash, so `/\t/evil.example` or `/\\evil.example` become `//evil.example` (another host).
Any control character, whitespace or backslash is refused outright rather than cleaned up.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """`target` if it is a same-site path (e.g. "/screenings/3?tab=x"), else None."""
    if not target or len(target) > 2048 or not target.startswith("/"):
        return None
    if "\\" in target or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target
