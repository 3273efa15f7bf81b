"""What students do in a course: assessments, their results and daily activity.

A result row means the work was handed in (or excused); work that was due and has no row is
*missing*, decided by the feature builder for a given as-of day.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from student_success.db.base import Base
from student_success.db.models.core import Course, Student


class Assessment(Base):
    """A piece of assessed work in a course (OULAD: TMA, CMA, Exam; gradebooks: assignment)."""

    __tablename__ = "assessment"
    __table_args__ = (UniqueConstraint("course_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(doc="the canonical assessment_id")
    name: Mapped[str | None]
    kind: Mapped[str | None]
    due_day: Mapped[float | None]
    weight: Mapped[float | None]
    points_possible: Mapped[float | None]
    position: Mapped[int | None] = mapped_column(doc="order within the course, 0-based")

    course: Mapped[Course] = relationship(back_populates="assessments")
    results: Mapped[list[AssessmentResult]] = relationship(back_populates="assessment", passive_deletes=True)


class AssessmentResult(Base):
    """A student's submission of one assessment."""

    __tablename__ = "assessment_result"
    __table_args__ = (
        UniqueConstraint("student_id", "assessment_id"),
        Index("ix_assessment_result_assessment_id", "assessment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"))
    submitted_day: Mapped[float | None]
    score_pct: Mapped[float | None] = mapped_column(doc="% of points possible; extra credit may pass 100")
    excused: Mapped[bool] = mapped_column(default=False)
    late: Mapped[bool] = mapped_column(default=False)
    is_banked: Mapped[bool] = mapped_column(default=False, doc="carried over from an earlier attempt")

    student: Mapped[Student] = relationship()
    assessment: Mapped[Assessment] = relationship(back_populates="results")


class Activity(Base):
    """Clicks (or page views) of one student in one course on one day."""

    __tablename__ = "activity"
    __table_args__ = (
        UniqueConstraint("student_id", "course_id", "day"),
        Index("ix_activity_course_id_day", "course_id", "day"),
        CheckConstraint("clicks >= 0", name="clicks_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    day: Mapped[int] = mapped_column(doc="day from the course start; negative before it")
    clicks: Mapped[int]

    student: Mapped[Student] = relationship()
    course: Mapped[Course] = relationship()
