"""One URL, two renderings: the whole page, or just its fragment when htmx asks."""

from __future__ import annotations

from flask import Response, make_response, redirect, render_template, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def render_page_or_fragment(page: str, fragment: str, status: int = 200, **context) -> Response:
    """Every fragment endpoint answers through here.

    `page` is the template of the whole page, or, for a fragment shown on a page of its own
    URL, that URL ("/..."): a plain request is sent there. A history restore (back/forward)
    replaces the whole document, so it gets the whole page too. Fragment files live in
    templates/partials/, or in <area>/partials/ when only one area uses them.
    """
    if is_htmx() and not request.headers.get("HX-History-Restore-Request"):
        return make_response(render_template(fragment, **context), status)
    if page.startswith("/"):
        return redirect(page)
    return make_response(render_template(page, **context), status)
