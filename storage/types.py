"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes in, UTC datetimes out, on every backend.

    SQLite has no timezone type and gives back naive values; this stores UTC and
    re-attaches it, and refuses naive input so no local time sneaks in.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> object:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None,
                             dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class StrEnumType(TypeDecorator):
    """A StrEnum stored as a short string (no database enum types to migrate)."""

    impl = sa.String(24)
    cache_ok = True

    def __init__(self, enum_class: type[StrEnum], length: int = 24) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value: object, dialect: sa.Dialect) -> str | None:
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value: object, dialect: sa.Dialect) -> StrEnum | None:
        return None if value is None else self.enum_class(value)
