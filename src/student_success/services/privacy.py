"""A student's records on request: everything stored about them, their deletion, and raw-data retention.

What "everything" means is read from the schema rather than listed by hand: every table with a foreign
key to ``student.id`` holds data about the student (enrolments, results, activity, predictions with
their explanation factors, interventions, feedback on flags, notifications, caseloads…), and a table
added later is exported and deleted without a change here. Rows one step further away that belong to
those rows (the change history of each intervention) are added by name, as are the audit events that
mention the student: who viewed, exported or changed their records. Audit events are kept on deletion;
they hold ids only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from student_success.db.base import Base, utcnow
from student_success.db.models import AuditEvent, ImportBatch, Intervention, InterventionEvent, Student
from student_success.errors import ValidationFailed
from student_success.services.scope import Scope, require_student

RECORD_FORMAT = "student-record/1"


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _student_tables() -> list[tuple[Table, str]]:
    """Every table with a foreign key to ``student.id``, and that column's name, parents first."""
    out: list[tuple[Table, str]] = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "student" and fk.column.name == "id" and table.name != "student":
                out.append((table, fk.parent.name))
    return out


def _rows(session: Session, table: Table, column: str, student_id: int) -> list[dict[str, Any]]:
    order = list(table.primary_key.columns)
    result = session.execute(select(table).where(table.c[column] == student_id).order_by(*order))
    return [{k: _json_value(v) for k, v in row._mapping.items()} for row in result]


def export_student_record(session: Session, student_id: int, *, scope: Scope) -> dict[str, Any]:
    """Everything stored about one student, as JSON-ready data.

    Args:
        session: the unit of work.
        student_id: ``student.id``.
        scope: the caller's scope (a student outside it is reported as unknown).

    Returns:
        ``format``, ``exported_at``, ``student`` (the student row), ``tables`` (for every table that
        refers to the student, its rows: ``enrollment``, ``assessment_result``, ``activity``,
        ``prediction`` with its ``factors``, ``intervention``…), ``intervention_events`` (the history
        of each intervention) and ``audit_events`` (who viewed, exported or changed the records).

    Raises:
        UnknownStudent: no such student in the caller's scope.
    """
    require_student(session, student_id, scope=scope)
    student = _rows(session, Student.__table__, "id", student_id)[0]  # type: ignore[arg-type]
    tables = {table.name: _rows(session, table, column, student_id) for table, column in _student_tables()}
    intervention_ids = select(Intervention.id).where(Intervention.student_id == student_id)
    events = session.execute(
        select(InterventionEvent.__table__)
        .where(InterventionEvent.intervention_id.in_(intervention_ids))
        .order_by(InterventionEvent.id)
    )
    audit = session.execute(
        select(AuditEvent.__table__).where(AuditEvent.student_id == student_id).order_by(AuditEvent.id)
    )
    return {
        "format": RECORD_FORMAT,
        "exported_at": utcnow().isoformat(),
        "student": student,
        "tables": tables,
        "intervention_events": [{k: _json_value(v) for k, v in r._mapping.items()} for r in events],
        "audit_events": [{k: _json_value(v) for k, v in r._mapping.items()} for r in audit],
    }


def delete_student_records(session: Session, student_id: int, *, scope: Scope) -> dict[str, int]:
    """Delete a student and every row about them; the audit trail stays (it holds ids only).

    The caller checks that the actor may delete (an administrator) and audits the deletion in the same
    transaction. Nothing is committed here.

    Returns:
        Rows deleted per table, e.g. ``{"student": 1, "enrollment": 2, "prediction": 6, ...}``
        (tables with no rows about the student are left out).

    Raises:
        UnknownStudent: no such student in the caller's scope.
    """
    student = require_student(session, student_id, scope=scope)
    counts: dict[str, int] = {}
    intervention_ids = select(Intervention.id).where(Intervention.student_id == student_id)
    n_events = session.scalar(
        select(func.count()).where(InterventionEvent.intervention_id.in_(intervention_ids))
    )
    if n_events:
        counts[InterventionEvent.__tablename__] = int(n_events)
    # children before parents; their own dependants (intervention history) go by ON DELETE CASCADE
    for table, column in reversed(_student_tables()):
        result = session.execute(delete(table).where(table.c[column] == student_id))
        if result.rowcount:  # type: ignore[attr-defined]
            counts[table.name] = int(result.rowcount)  # type: ignore[attr-defined]
    session.expunge(student)
    session.execute(delete(Student.__table__).where(Student.__table__.c.id == student_id))  # type: ignore[arg-type]
    counts[Student.__tablename__] = 1
    session.flush()
    return dict(sorted(counts.items()))


@dataclass(frozen=True)
class PurgeResult:
    """What a retention purge removed.

    Attributes:
        cutoff: batches created before this time were purged.
        batches: import batches whose stored row errors were removed.
    """

    cutoff: datetime
    batches: int


def purge_raw_imports(session: Session, *, days: int, now: datetime | None = None) -> PurgeResult:
    """Remove the raw content kept from imports older than ``days`` days; keep each batch's summary.

    Uploaded files themselves are not stored: an import keeps its summary (file name, SHA-256, row
    counts, status, who uploaded it) and, for a file with problems, the row errors, which quote the
    offending cells (``value``) and so may hold student data. The purge sets those errors to
    nothing on batches created more than ``days`` days ago; counts, hash and status stay, so re-imports
    are still recognised and the history of imports still reads. Files waiting between preview and
    import are removed after a day by the upload staging area itself.

    Raises:
        ValidationFailed: ``days`` is below 1.
    """
    if days < 1:
        raise ValidationFailed.single("the retention must be at least 1 day", file="days")
    cutoff = (now or utcnow()) - timedelta(days=days)
    batches = session.scalars(select(ImportBatch).where(ImportBatch.created_at < cutoff)).all()
    purged = 0
    for batch in batches:
        if batch.errors:
            batch.errors = None
            purged += 1
    session.flush()
    return PurgeResult(cutoff=cutoff, batches=purged)
