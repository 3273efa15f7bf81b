"""Declarative base, portable column types and helpers shared by every model module.

Portability rules (SQLite and PostgreSQL run the same schema):

* timestamps are :class:`UTCDateTime`: timezone-aware in Python, stored in UTC, returned aware in UTC;
* JSON is :data:`JSONType` (``JSON`` on SQLite, ``JSONB`` on PostgreSQL);
* enumerations are ``String`` columns with a named CHECK constraint (:func:`one_of`), never a native
  ENUM type, so adding a value is a one-line migration on both databases.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, CheckConstraint, DateTime, Dialect, MetaData, String, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names: Alembic's SQLite batch mode recreates tables and must name what it
# drops; PostgreSQL limits identifiers to 63 characters (SQLAlchemy shortens longer names itself).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC.

    SQLite has no time-zone type and would hand back naive values; PostgreSQL returns ``timestamptz``
    in the session's zone. Both come back here as aware UTC datetimes. Naive datetimes are refused
    on the way in: guessing their zone is how off-by-hours bugs start.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC (naive on SQLite, which stores text without a zone)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored value as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base class of every table; its ``metadata`` carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # plain ``str`` is a bounded VARCHAR (PostgreSQL enforces it); long prose uses ``Text`` explicitly
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        str: String(255),
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


class CreatedAtMixin:
    """A ``created_at`` column filled with the current UTC time."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def one_of(column: str, values: Iterable[str], *, name: str | None = None) -> CheckConstraint:
    """A named CHECK constraint ``column IN (values)``: the portable enumeration.

    The constraint is called ``ck_<table>_<name>`` (``name`` defaults to ``column``).
    """
    quoted = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name or column)
