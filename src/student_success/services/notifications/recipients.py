"""Who may be told about a student: the same people who may see the student.

A student is visible to the teachers of the sections they are enrolled in (``user_section``), to the
counsellors who have them on their caseload (``counsellor_caseload``) or work with the school of one
of their courses (``counsellor_school``), and to administrators. Teachers
and counsellors are told; administrators only when they opted in (``notification_preference``). Only
active users are ever told.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from student_success.db.models import (
    CounsellorCaseload,
    CounsellorSchool,
    Course,
    Enrollment,
    NotificationPreference,
    User,
    UserSection,
)


def opted_in_admins(session: Session) -> list[User]:
    """Active administrators who asked to be told about every student."""
    return list(
        session.scalars(
            select(User)
            .join(NotificationPreference, NotificationPreference.user_id == User.id)
            .where(User.role == "admin", User.is_active, NotificationPreference.admin_opt_in)
            .order_by(User.id)
        )
    )


def recipients_by_student(session: Session, student_ids: Iterable[int]) -> dict[int, list[User]]:
    """For each student, the active users to tell, ordered by user id.

    Teachers (through their sections) and counsellors (through their caseload or school), then the
    administrators who opted in.
    """
    wanted = sorted(set(student_ids))
    if not wanted:
        return {}
    # the same links the scope of each role follows (services/accounts.build_scope)
    pairs = union(
        select(Enrollment.student_id.label("student_id"), UserSection.user_id.label("user_id"))
        .join(UserSection, UserSection.section_id == Enrollment.section_id)
        .join(User, User.id == UserSection.user_id)
        .where(Enrollment.student_id.in_(wanted), User.role == "teacher"),
        select(CounsellorCaseload.student_id, CounsellorCaseload.user_id)
        .join(User, User.id == CounsellorCaseload.user_id)
        .where(CounsellorCaseload.student_id.in_(wanted), User.role == "counsellor"),
        select(Enrollment.student_id, CounsellorSchool.user_id)
        .join(Course, Course.id == Enrollment.course_id)
        .join(CounsellorSchool, CounsellorSchool.school_id == Course.school_id)
        .join(User, User.id == CounsellorSchool.user_id)
        .where(Enrollment.student_id.in_(wanted), User.role == "counsellor"),
    ).subquery()
    rows = session.execute(
        select(pairs.c.student_id, User)
        .join(User, User.id == pairs.c.user_id)
        .where(User.is_active)
        .order_by(pairs.c.student_id, User.id)
    ).all()
    result: dict[int, list[User]] = {student_id: [] for student_id in wanted}
    for student_id, user in rows:
        result[student_id].append(user)
    admins = opted_in_admins(session)
    for users in result.values():
        users.extend(admins)
    return result


def student_recipients(session: Session, student_id: int) -> list[User]:
    """The active users to tell about one student (see :func:`recipients_by_student`)."""
    return recipients_by_student(session, [student_id])[student_id]
