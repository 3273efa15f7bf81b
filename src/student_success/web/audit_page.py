"""Administrators' pages: the audit trail (filter, read, export) and deleting a student's records."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from student_success.api.deps import SessionDep
from student_success.api.routes.audit import AuditDep
from student_success.errors import NotFound
from student_success.services import audit, privacy, students
from student_success.web.common import error_page, optional_int, render, see_other, student_not_found

router = APIRouter()
PAGE_SIZE = 50
ACTION_OPTIONS: list[tuple[str, str]] = [
    ("", "Any action"),
    ("student.", "Anything about students"),
    *[(a, a) for a in audit.ACTIONS],
]


def _not_admin(request: Request) -> Response:
    return error_page(
        request, title="Administrators only",
        message="Only an administrator can see this page.", status_code=403,
    )  # fmt: skip


def _day(raw: str, *, end: bool = False) -> datetime | None:
    """A date typed in the form as the start (or the end) of that day in UTC; ``None`` when blank or bad."""
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        return None
    start = datetime.combine(day, time(0, 0), tzinfo=UTC)
    return start + timedelta(days=1) if end else start


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: SessionDep,
    record: AuditDep,
    actor: str = "",
    action: str = "",
    student: str = "",
    since: str = "",
    until: str = "",
    page: str = "1",
) -> Response:
    """Who viewed, exported, changed or deleted student data, newest first (administrators only)."""
    if not record.principal.is_admin:
        return _not_admin(request)
    action = action if action in dict(ACTION_OPTIONS) else ""
    page_no = max(optional_int(page) or 1, 1)
    start, end = _day(since), _day(until, end=True)
    if start is not None and end is not None and end <= start:
        end = None
    rows, total = audit.query(
        session, actor=actor.strip()[:320] or None, action=action or None, student_id=optional_int(student),
        since=start, until=end, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE,
    )  # fmt: skip
    record("audit.view", details={"count": len(rows)})
    query = {
        "actor": actor.strip(),
        "action": action,
        "student": student.strip(),
        "since": since,
        "until": until,
    }
    shown = {k: v for k, v in query.items() if v}
    export = {k: v for k, v in {
        "actor": query["actor"], "action": action, "student_id": optional_int(student),
        "since": start.isoformat() if start else None, "until": end.isoformat() if end else None,
    }.items() if v}  # fmt: skip
    return render(
        request,
        "audit.html",
        {
            "title": "Audit trail",
            "rows": rows,
            "total": total,
            "page": page_no,
            "pages": max(math.ceil(total / PAGE_SIZE), 1),
            "base_query": urlencode(shown),
            "query": query,
            "actions": ACTION_OPTIONS,
            "export_query": urlencode(export),
        },
    )


@router.get("/students/{student_id}/delete", response_class=HTMLResponse)
def confirm_delete(request: Request, student_id: int, session: SessionDep, record: AuditDep) -> Response:
    """Ask an administrator to confirm deleting everything stored about a student."""
    if not record.principal.is_admin:
        return _not_admin(request)
    try:
        detail = students.get_student(session, student_id, scope=record.principal.scope)
    except NotFound:
        return student_not_found(request)
    record("student.view", student_id=student_id, entity=f"student:{student_id}", details={"part": "delete"})
    return render(request, "student_delete.html", {"title": "Delete a student's records", "student": detail})


@router.post("/students/{student_id}/delete", response_class=HTMLResponse)
def delete_student(
    request: Request,
    student_id: int,
    session: SessionDep,
    record: AuditDep,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Delete the student and every record about them (the audit trail keeps the deletion)."""
    if not record.principal.is_admin:
        return _not_admin(request)
    if confirm != "delete":
        return see_other(f"/students/{student_id}/delete")
    try:
        deleted = privacy.delete_student_records(session, student_id, scope=record.principal.scope)
    except NotFound:
        return student_not_found(request)
    record("student.delete", student_id=student_id, entity=f"student:{student_id}", details={"rows": deleted})
    return see_other("/students", deleted=1)
