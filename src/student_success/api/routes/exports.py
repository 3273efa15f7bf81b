"""CSV downloads, safe to open in a spreadsheet (formula-like cells are neutralised)."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from student_success.api.auth import ScopeDep
from student_success.api.deps import SessionDep
from student_success.api.routes.audit import AuditDep
from student_success.api.schemas import RiskLevel, Status
from student_success.services import exports
from student_success.services.students import StudentFilter

router = APIRouter(prefix="/exports", tags=["exports"])
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}, "description": "a CSV file"}}


def _data_rows(text: str) -> int:
    """Rows of a CSV document after its header (cells may hold line breaks)."""
    return sum(1 for _ in csv.reader(io.StringIO(text))) - 1


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
    record: AuditDep,
    status: Status | None = None,
    assignee_id: int | None = None,
    overdue: bool | None = None,
) -> Response:
    """Every intervention (optionally filtered) as CSV."""
    text = exports.interventions_csv(
        session, scope=scope, status=status, assignee_id=assignee_id, overdue=overdue
    )
    record("export.interventions", details={"rows": _data_rows(text)})
    return _csv(text, "interventions.csv")


@router.get("/risk.csv", response_class=Response, responses=CSV)
def risk_csv(
    session: SessionDep,
    scope: ScopeDep,
    record: AuditDep,
    course_id: int | None = None,
    section_id: int | None = None,
    risk_level: RiskLevel | None = None,
) -> Response:
    """The risk list (latest prediction per student and course) as CSV, highest risk first."""
    flt = StudentFilter(course_id=course_id, section_id=section_id, risk_level=risk_level)
    text = exports.risk_list_csv(session, scope=scope, filters=flt)
    record("export.risk_list", details={"rows": _data_rows(text)})
    return _csv(text, "risk.csv")
