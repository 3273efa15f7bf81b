"""A one-page summary of one student, laid out to print cleanly for a support meeting."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from student_success.api.auth import ScopeDep
from student_success.api.deps import SessionDep
from student_success.api.routes.audit import AuditDep
from student_success.errors import NotFound
from student_success.services import students
from student_success.services.interventions import OPEN_STATUSES
from student_success.web.common import render, student_not_found
from student_success.web.student_pages import changeable_first, in_course

router = APIRouter()
TOP_REASONS = 3  # a meeting discusses a few reasons, not all of them
TOP_HELPS = 2
TOP_RECOMMENDATIONS = 3
HISTORY_POINTS = 6


@router.get("/students/{student_id}/summary", response_class=HTMLResponse)
def student_summary(
    request: Request,
    student_id: int,
    session: SessionDep,
    scope: ScopeDep,
    record: AuditDep,
    course: str = "",
) -> Response:
    """One printable page: how the student is doing, why, what could help, what has been tried."""
    try:
        detail = students.get_student(session, student_id, scope=scope)
    except NotFound:
        return student_not_found(request)
    record("student.view", student_id=student_id, entity=f"student:{student_id}", details={"part": "summary"})
    current, history, plans = in_course(detail, course)
    return render(
        request,
        "student_summary.html",
        {
            "title": f"Summary: {detail['display_name'] or detail['external_id']}",
            "student": detail,
            "current": current,
            "reasons": changeable_first(current["risk_factors"])[:TOP_REASONS] if current else [],
            "helps": changeable_first(current["protective_factors"])[:TOP_HELPS] if current else [],
            "recommendations": current["recommendations"][:TOP_RECOMMENDATIONS] if current else [],
            "open_plans": [p for p in plans if p["status"] in OPEN_STATUSES],
            "closed_plans": [p for p in plans if p["status"] not in OPEN_STATUSES],
            "history": history[-HISTORY_POINTS:],
            "printed_on": datetime.now(UTC).date(),
        },
    )
