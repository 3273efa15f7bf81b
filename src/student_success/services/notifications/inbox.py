"""A user's in-app notifications: list, count unread, mark read.

Notifications about students the user can no longer see (a section or caseload changed) are hidden:
the scope is applied in every query.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from student_success.db.models import Notification
from student_success.errors import NotFound
from student_success.services.scope import Scope


class UnknownNotification(NotFound):
    """No notification with this id belongs to the caller."""


def _visible(user_id: int, scope: Scope) -> ColumnElement[bool]:
    return (Notification.user_id == user_id) & or_(
        Notification.student_id.is_(None),
        scope.student_filter(Notification.student_id),  # type: ignore[arg-type]
    )


def unread_count(session: Session, user_id: int, *, scope: Scope) -> int:
    """How many of the user's notifications are unread."""
    condition = _visible(user_id, scope) & Notification.read_at.is_(None)
    return int(session.scalar(select(func.count()).select_from(Notification).where(condition)) or 0)


def list_notifications(
    session: Session,
    user_id: int,
    *,
    scope: Scope,
    unread_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Notification], int]:
    """The user's notifications, newest first, and how many there are in all."""
    condition = _visible(user_id, scope)
    if unread_only:
        condition = condition & Notification.read_at.is_(None)
    total = session.scalar(select(func.count()).select_from(Notification).where(condition)) or 0
    rows = session.scalars(
        select(Notification)
        .where(condition)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), int(total)


def mark_read(
    session: Session, user_id: int, notification_id: int, *, scope: Scope, now: datetime
) -> Notification:
    """Mark one of the user's notifications read (already read: unchanged).

    Raises:
        UnknownNotification: not the user's, or about a student they cannot see.
    """
    row = session.scalars(
        select(Notification).where(Notification.id == notification_id, _visible(user_id, scope))
    ).first()
    if row is None:
        raise UnknownNotification(f"notification {notification_id} not found")
    if row.read_at is None:
        row.read_at = now
        session.flush()
    return row


def mark_all_read(session: Session, user_id: int, *, scope: Scope, now: datetime) -> int:
    """Mark every unread notification of the user read; return how many changed."""
    result = session.execute(
        update(Notification)
        .where(_visible(user_id, scope), Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
