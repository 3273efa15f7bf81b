"""Support planned for a student, and the history of every change to it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from student_success.db.base import Base, CreatedAtMixin, one_of, utcnow
from student_success.db.models.accounts import User
from student_success.db.models.core import Course, Student

INTERVENTION_STATUSES: tuple[str, ...] = ("planned", "in_progress", "completed", "cancelled")
PRIORITIES: tuple[str, ...] = ("low", "medium", "high")


class Intervention(CreatedAtMixin, Base):
    """An action to support a student, e.g. a tutoring plan or a call home (MTSS tier 1-3)."""

    __tablename__ = "intervention"
    __table_args__ = (
        Index("ix_intervention_status", "status"),
        Index("ix_intervention_assignee_id", "assignee_id"),
        Index("ix_intervention_student_id", "student_id"),
        one_of("status", INTERVENTION_STATUSES),
        one_of("priority", PRIORITIES),
        CheckConstraint("tier IN (1, 2, 3)", name="tier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="SET NULL"))
    type_key: Mapped[str] = mapped_column(String(64), doc="key in the intervention catalogue")
    title: Mapped[str]
    tier: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default="planned")
    priority: Mapped[str] = mapped_column(String(8), default="medium")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    due_date: Mapped[date | None]
    goal: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    student: Mapped[Student] = relationship()
    course: Mapped[Course | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    creator: Mapped[User | None] = relationship(foreign_keys=[created_by])
    events: Mapped[list[InterventionEvent]] = relationship(
        back_populates="intervention",
        passive_deletes=True,
        cascade="all, delete-orphan",
        order_by="InterventionEvent.at",
    )


class InterventionEvent(Base):
    """One change to an intervention: who, when, and ``{field: [old, new]}``."""

    __tablename__ = "intervention_event"
    __table_args__ = (Index("ix_intervention_event_intervention_id_at", "intervention_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    intervention_id: Mapped[int] = mapped_column(ForeignKey("intervention.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)

    intervention: Mapped[Intervention] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
