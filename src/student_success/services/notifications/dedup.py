"""Insert-once: the database's unique constraints decide, so concurrent workers never write twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def window_start(now: datetime, *, hours: float) -> datetime:
    """The start of the deduplication window containing ``now`` (windows are aligned on the epoch)."""
    length = timedelta(hours=hours).total_seconds()
    return datetime.fromtimestamp((now.timestamp() // length) * length, UTC)


def insert_ignoring_duplicate(
    session: Session, model: Any, values: dict[str, Any], *, conflict_columns: list[str]
) -> int | None:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id``; the new id, or ``None`` when it already existed.

    Args:
        session: the caller's unit of work (the row lands with the rest of it, or not at all).
        model: the mapped class (its table has an ``id`` primary key).
        values: every column to write (ORM defaults do not run here).
        conflict_columns: the columns of the unique constraint that makes a row a duplicate.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=conflict_columns)
        .returning(model.id)
    )
    new_id = session.execute(statement).scalar_one_or_none()
    return int(new_id) if new_id is not None else None
