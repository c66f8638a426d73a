"""URL converters: `<int:...>` in every route is bounded to ids a column can hold, so
/screenings/99999999999999999999999 is a 404 from the router, never an overflow in the database."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from app.models._ids import MAX_ID


class BoundedIntConverter(IntegerConverter):
    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def register(app: Flask) -> None:
    """Must run before any blueprint adds its rules."""
    app.url_map.converters["int"] = BoundedIntConverter
