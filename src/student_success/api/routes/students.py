"""The risk list, one student's page and history, and the dashboard summary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from student_success.api.auth import ScopeDep
from student_success.api.deps import SessionDep
from student_success.api.routes.audit import AuditDep
from student_success.api.schemas import (
    DashboardPublic,
    HistoryPublic,
    RiskLevel,
    StudentDetailPublic,
    StudentRowPublic,
    StudentsPublic,
)
from student_success.services import students
from student_success.services.students import SortKey, StudentFilter

router = APIRouter(tags=["students"])


@router.get("/dashboard", response_model=DashboardPublic)
def dashboard(session: SessionDep, scope: ScopeDep, course_id: int | None = None) -> dict[str, Any]:
    """Counts by risk level, a probability histogram, and what changed since the previous import."""
    return students.dashboard_summary(session, scope=scope, course_id=course_id)


@router.get("/students", response_model=StudentsPublic)
def list_students(
    session: SessionDep,
    scope: ScopeDep,
    record: AuditDep,
    course_id: int | None = None,
    section_id: int | None = None,
    risk_level: RiskLevel | None = None,
    q: Annotated[str | None, Query(max_length=200, description="part of a name or student id")] = None,
    sort: SortKey = "-probability",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> StudentsPublic:
    """The risk list: each student's latest prediction per course, highest need first by default."""
    flt = StudentFilter(course_id=course_id, section_id=section_id, risk_level=risk_level, search=q)
    rows, total = students.list_students(
        session, scope=scope, filters=flt, sort=sort, limit=limit, offset=offset
    )
    record("student.list", details={"count": total, "student_ids": sorted({r.student_id for r in rows})})
    return StudentsPublic(
        data=[StudentRowPublic.model_validate(r) for r in rows], count=total, limit=limit, offset=offset
    )


@router.get("/students/{student_id}", response_model=StudentDetailPublic)
def get_student(student_id: int, session: SessionDep, scope: ScopeDep, record: AuditDep) -> dict[str, Any]:
    """One student: latest prediction with reasons and recommended support, history, interventions."""
    detail = students.get_student(session, student_id, scope=scope)
    record("student.view", student_id=student_id, entity=f"student:{student_id}")
    return detail


@router.get("/students/{student_id}/history", response_model=HistoryPublic)
def student_history(
    student_id: int, session: SessionDep, scope: ScopeDep, record: AuditDep, course_id: int | None = None
) -> dict[str, Any]:
    """A student's risk over time (every scoring, oldest first)."""
    points = students.risk_history(session, student_id, scope=scope, course_id=course_id)
    record("student.view", student_id=student_id, entity=f"student:{student_id}", details={"part": "history"})
    return {"student_id": student_id, "data": points}
