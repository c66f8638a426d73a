"""The range of a primary key, and reading one from untrusted text.

Ids are INTEGER columns: PostgreSQL stores 32 bits and SQLite overflows past 64, so a longer
number in a URL or a form must be "no such record", not a database error.
"""

from __future__ import annotations

MAX_ID = 2**31 - 1


def parse_id(value: object) -> int | None:
    """The id that `value` spells in ASCII digits, if it fits a column; None otherwise."""
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None
