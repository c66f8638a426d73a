"""How every enum column is stored: its values as plain strings with a CHECK constraint, which
is portable across SQLite and PostgreSQL (no native enum type to migrate)."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


def enum_type(cls: type[enum.Enum], name: str, length: int = 16) -> Enum:
    # `length` is part of the stored schema: the care tables' columns were created 24 wide.
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=length,
                values_callable=lambda members: [m.value for m in members])
