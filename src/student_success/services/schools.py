"""Schools and the courses they run: what a counsellor who works with a whole school sees."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from student_success.db.models import Course, School, Section
from student_success.errors import Conflict, NotFound, ValidationFailed


class UnknownSchool(NotFound):
    """No school with this id."""


def create_school(session: Session, name: str, *, external_id: str | None = None) -> School:
    """Add a school (flushed, not committed).

    Raises:
        ValidationFailed: an empty name.
        Conflict: a school with this name exists already.
    """
    name = name.strip()
    if not name:
        raise ValidationFailed.single("the school's name cannot be empty", file="school", column="name")
    if session.scalar(select(School.id).where(School.name == name)) is not None:
        raise Conflict(f"a school named {name!r} exists already")
    school = School(name=name, external_id=(external_id or "").strip() or None)
    session.add(school)
    session.flush()
    return school


def assign_courses(session: Session, school_id: int, course_ids: Iterable[int]) -> int:
    """Put these courses in the school (a course belongs to one school); returns how many were moved.

    Raises:
        UnknownSchool: no such school.
        ValidationFailed: an unknown course id.
    """
    if session.get(School, school_id) is None:
        raise UnknownSchool(f"no school with id {school_id}")
    wanted = sorted(set(course_ids))
    found = set(session.scalars(select(Course.id).where(Course.id.in_(wanted))))
    missing = [c for c in wanted if c not in found]
    if missing:
        raise ValidationFailed.single(
            f"no course with id {', '.join(map(str, missing))}", file="school", column="course_id"
        )
    if not wanted:
        return 0
    session.execute(update(Course).where(Course.id.in_(wanted)).values(school_id=school_id))
    return len(wanted)


def list_schools(session: Session) -> list[dict[str, Any]]:
    """Every school with the number of its courses, by name."""
    courses = func.count(Course.id)
    rows = session.execute(
        select(School.id, School.name, School.external_id, courses)
        .outerjoin(Course, Course.school_id == School.id)
        .group_by(School.id, School.name, School.external_id)
        .order_by(School.name)
    )
    return [{"id": i, "name": n, "external_id": e, "courses": c} for i, n, e, c in rows]


def section_choices(session: Session) -> list[dict[str, Any]]:
    """Every section with its course, for assigning teachers: ``{"id", "label"}``, by course and name."""
    rows = session.execute(
        select(Section.id, Section.name, Course.name, Course.external_id)
        .join(Course, Course.id == Section.course_id)
        .order_by(func.coalesce(Course.name, Course.external_id), Section.name, Section.id)
    )
    return [{"id": i, "label": f"{course or course_ext} · {name}"} for i, name, course, course_ext in rows]
