"""IANA time-zone names, checked against the tz database the process has (zoneinfo/tzdata)."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

MAX_LENGTH = 64  # users.timezone


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def all_timezones() -> list[str]:
    """Every zone name, sorted, for a chooser."""
    return sorted(_known())


def valid_timezone(name: str | None) -> str | None:
    """`name` if it is a time zone of the tz database (e.g. "America/New_York"), else None.
    Membership in the database, not `ZoneInfo(name)`, decides: a key is never read as a path."""
    if not name or len(name) > MAX_LENGTH:
        return None
    return name if name in _known() else None
