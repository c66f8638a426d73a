"""One URL, two renderings: the whole page, or just its fragment when htmx asks."""

from __future__ import annotations

from flask import render_template, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def render_page_or_fragment(page: str, fragment: str, **context) -> str:
    return render_template(fragment if is_htmx() else page, **context)
