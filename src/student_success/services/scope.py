"""What a caller may see: the scope every query function applies in its WHERE clause."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from student_success.db.models import Course, Enrollment, Student
from student_success.errors import NotFound


@dataclass(frozen=True)
class Scope:
    """The students a caller may see.

    ``section_ids`` / ``student_ids`` / ``school_ids`` of ``None`` mean "no restriction from this side";
    an admin scope has all three ``None``. A teacher sees the students enrolled in their sections, a
    counsellor the students on their caseload and those enrolled in the courses of their schools; a
    scope with several sets sees the union.

    Attributes:
        user_id: the ``app_user.id`` acting, or ``None`` for the system / an anonymous placeholder.
        role: ``admin``, ``counsellor`` or ``teacher``.
        section_ids: the sections whose students are visible, or ``None``.
        student_ids: the students visible directly (a caseload), or ``None``.
        school_ids: the schools whose enrolled students are visible, or ``None``.
    """

    user_id: int | None
    role: str
    section_ids: frozenset[int] | None = None
    student_ids: frozenset[int] | None = None
    school_ids: frozenset[int] | None = None

    @classmethod
    def all(cls, *, user_id: int | None = None) -> Scope:
        """Everything (an administrator, or a trusted system job)."""
        return cls(user_id=user_id, role="admin")

    @property
    def unrestricted(self) -> bool:
        """Whether this scope sees every student."""
        return self.section_ids is None and self.student_ids is None and self.school_ids is None

    def student_filter(self, student_id: InstrumentedAttribute[int]) -> ColumnElement[bool]:
        """A WHERE condition on ``student_id`` (a column holding ``student.id``) for this scope."""
        if self.unrestricted:
            return true()
        conditions: list[ColumnElement[bool]] = []
        if self.student_ids:
            conditions.append(student_id.in_(sorted(self.student_ids)))
        if self.section_ids:
            in_sections = select(Enrollment.student_id).where(
                Enrollment.section_id.in_(sorted(self.section_ids))
            )
            conditions.append(student_id.in_(in_sections))
        if self.school_ids:
            in_schools = (
                select(Enrollment.student_id)
                .join(Course, Course.id == Enrollment.course_id)
                .where(Course.school_id.in_(sorted(self.school_ids)))
            )
            conditions.append(student_id.in_(in_schools))
        return or_(*conditions) if conditions else false()


def require_student(session: Session, student_id: int, *, scope: Scope) -> Student:
    """The student with this id, when the scope lets the caller see them.

    Raises:
        UnknownStudent: no such student, or not visible to the caller (the two look the same, so an
            id reveals nothing about students outside the scope).
    """
    student = session.scalars(
        select(Student).where(Student.id == student_id, scope.student_filter(Student.id))
    ).first()
    if student is None:
        raise UnknownStudent(f"student {student_id} not found")
    return student


class UnknownStudent(NotFound):
    """No student with this id is visible to the caller."""
