"""Who learns what, where: schools, courses, sections, students and their enrolments.

These tables hold the canonical records of :mod:`student_success.ingest.canonical`. A canonical
``course_id`` / ``student_id`` is the ``external_id`` here, unique together with its ``source``; the
integer ``id`` is the database's own key and never leaves the system.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from student_success.db.base import Base, CreatedAtMixin, one_of

if TYPE_CHECKING:
    from student_success.db.models.coursework import Assessment

# Same values as ``student_success.ingest.canonical.OUTCOMES`` (kept here so the schema does not
# import pandas); a test checks they agree.
OUTCOMES: tuple[str, ...] = ("Distinction", "Pass", "Fail", "Withdrawn")


class School(CreatedAtMixin, Base):
    """A school; optional (a single-school installation may leave courses without one)."""

    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    external_id: Mapped[str | None]


class Course(CreatedAtMixin, Base):
    """One run of a course (OULAD: a module presentation such as ``AAA-2013J``)."""

    __tablename__ = "course"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(doc="oulad, canvas, generic, k12, …")
    external_id: Mapped[str] = mapped_column(doc="the canonical course_id")
    code_module: Mapped[str | None]
    code_presentation: Mapped[str | None]
    name: Mapped[str | None]
    start_date: Mapped[date | None] = mapped_column(doc="term start: day 0 of every *_day column")
    length_days: Mapped[int | None]

    sections: Mapped[list[Section]] = relationship(back_populates="course", passive_deletes=True)
    enrollments: Mapped[list[Enrollment]] = relationship(back_populates="course", passive_deletes=True)
    assessments: Mapped[list[Assessment]] = relationship(back_populates="course", passive_deletes=True)


class Section(Base):
    """A class group within a course; teachers are assigned to sections (``user_section``)."""

    __tablename__ = "section"
    __table_args__ = (UniqueConstraint("course_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    name: Mapped[str]

    course: Mapped[Course] = relationship(back_populates="sections")


class Student(CreatedAtMixin, Base):
    """A learner, known by the source's stable key; the display name is optional (pseudonymous data)."""

    __tablename__ = "student"
    # the unique constraint is also the index of the hot lookup student(source, external_id)
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str]
    external_id: Mapped[str] = mapped_column(doc="the canonical student_id")
    display_name: Mapped[str | None]

    enrollments: Mapped[list[Enrollment]] = relationship(back_populates="student", passive_deletes=True)
    group_attributes: Mapped[list[StudentGroupAttribute]] = relationship(
        back_populates="student", passive_deletes=True, cascade="all, delete-orphan"
    )


class StudentGroupAttribute(Base):
    """One student-group attribute (gender, age_band, disability, imd_band, region, …).

    Kept apart from features on purpose: fairness audits read them, models do not. One row per
    attribute rather than one column each, because K-12 and higher-education sources report different
    groups.
    """

    __tablename__ = "student_group_attributes"

    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"), primary_key=True)
    attribute: Mapped[str] = mapped_column(primary_key=True)
    value: Mapped[str | None]

    student: Mapped[Student] = relationship(back_populates="group_attributes")


class Enrollment(Base):
    """A student in a course (and optionally a section), with the context known at registration."""

    __tablename__ = "enrollment"
    __table_args__ = (
        UniqueConstraint("student_id", "course_id"),
        one_of("final_result", OUTCOMES),
        Index("ix_enrollment_course_id", "course_id"),
        Index("ix_enrollment_section_id", "section_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    section_id: Mapped[int | None] = mapped_column(ForeignKey("section.id", ondelete="SET NULL"))
    # days are counted from the course start and may be negative (registered before day 0)
    registration_day: Mapped[float | None]
    unregistration_day: Mapped[float | None]
    studied_credits: Mapped[float | None]
    num_prev_attempts: Mapped[int | None]
    highest_education: Mapped[str | None]
    final_result: Mapped[str | None] = mapped_column(doc="known outcome; training and evaluation only")

    student: Mapped[Student] = relationship(back_populates="enrollments")
    course: Mapped[Course] = relationship(back_populates="enrollments")
    section: Mapped[Section | None] = relationship()
