"""One URL, two renderings: the whole page, or just its fragment when htmx asks."""

from __future__ import annotations

from flask import Response, flash, make_response, redirect, render_template, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def render_page_or_fragment(page: str, fragment: str, status: int = 200, *,
                            flashed: tuple[str, str] | None = None, **context) -> Response:
    """Every fragment endpoint answers through here.

    `page` is the template of the whole page, or, for a fragment shown on a page of its own
    URL (a home panel, the result of an htmx action), that URL ("/..."): a plain request is sent
    there, with `flashed` (message, category) flashed first, and after a POST with 303 so the
    browser fetches it. A history restore (back/forward) replaces the whole document, so it gets
    the whole page too. Fragment files live in templates/partials/ when several areas show them,
    in <area>/partials/ when one area does.
    """
    if is_htmx() and not request.headers.get("HX-History-Restore-Request"):
        return make_response(render_template(fragment, **context), status)
    if page.startswith("/"):
        if flashed is not None:
            flash(*flashed)
        return redirect(page, 302 if request.method in ("GET", "HEAD") else 303)
    return make_response(render_template(page, **context), status)
