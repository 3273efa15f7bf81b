"""A student's records on request: everything stored about them, and their deletion (both audited)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from student_success.api.auth import AdminDep, ScopeDep
from student_success.api.deps import SessionDep
from student_success.api.routes.audit import AuditDep
from student_success.services import privacy

router = APIRouter(tags=["privacy"])


class StudentRecordPublic(BaseModel):
    """Everything stored about one student (see ``services.privacy.export_student_record``)."""

    format: str
    exported_at: str
    student: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]
    intervention_events: list[dict[str, Any]]
    audit_events: list[dict[str, Any]]


class StudentDeletedPublic(BaseModel):
    """What a deletion removed: rows per table."""

    student_id: int
    deleted: dict[str, int]


@router.get("/students/{student_id}/record", response_model=StudentRecordPublic)
def student_record(student_id: int, session: SessionDep, scope: ScopeDep, record: AuditDep) -> dict[str, Any]:
    """Everything stored about one student: data, predictions, reasons, interventions, who viewed them."""
    data = privacy.export_student_record(session, student_id, scope=scope)
    counts = {name: len(rows) for name, rows in data["tables"].items() if rows}
    record("student.export", student_id=student_id, entity=f"student:{student_id}", details={"rows": counts})
    return data


@router.delete("/students/{student_id}", response_model=StudentDeletedPublic)
def delete_student(student_id: int, session: SessionDep, admin: AdminDep, record: AuditDep) -> dict[str, Any]:
    """Delete a student and every record about them; the audit trail stays (administrators only)."""
    deleted = privacy.delete_student_records(session, student_id, scope=admin.scope)
    record("student.delete", student_id=student_id, entity=f"student:{student_id}", details={"rows": deleted})
    return {"student_id": student_id, "deleted": deleted}
