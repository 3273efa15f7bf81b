"""CSV downloads, safe to open in a spreadsheet (formula-like cells are neutralised)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from student_success.api.auth import ScopeDep
from student_success.api.deps import SessionDep
from student_success.api.schemas import RiskLevel, Status
from student_success.services import exports
from student_success.services.students import StudentFilter

router = APIRouter(prefix="/exports", tags=["exports"])
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}, "description": "a CSV file"}}


def _csv(text: str, filename: str) -> Response:
    return Response(
        content=text.encode("utf-8-sig"),  # the BOM makes spreadsheet programs read UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/interventions.csv", response_class=Response, responses=CSV)
def interventions_csv(
    session: SessionDep,
    scope: ScopeDep,
    status: Status | None = None,
    assignee_id: int | None = None,
    overdue: bool | None = None,
) -> Response:
    """Every intervention (optionally filtered) as CSV."""
    text = exports.interventions_csv(
        session, scope=scope, status=status, assignee_id=assignee_id, overdue=overdue
    )
    return _csv(text, "interventions.csv")


@router.get("/risk.csv", response_class=Response, responses=CSV)
def risk_csv(
    session: SessionDep,
    scope: ScopeDep,
    course_id: int | None = None,
    section_id: int | None = None,
    risk_level: RiskLevel | None = None,
) -> Response:
    """The risk list (latest prediction per student and course) as CSV, highest risk first."""
    flt = StudentFilter(course_id=course_id, section_id=section_id, risk_level=risk_level)
    return _csv(exports.risk_list_csv(session, scope=scope, filters=flt), "risk.csv")
