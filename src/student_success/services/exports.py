"""CSV exports of the risk list and the interventions, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from student_success.csvsafe import neutralise_text
from student_success.services.interventions import intervention_public, list_interventions
from student_success.services.scope import Scope
from student_success.services.students import StudentFilter, iter_risk_list

RISK_COLUMNS: tuple[str, ...] = (
    "student_id", "external_id", "display_name", "course", "section", "as_of_day", "risk_probability",
    "risk_level", "risk_in_words", "top_factors", "model_variant", "model_version", "scored_at",
)  # fmt: skip
INTERVENTION_COLUMNS: tuple[str, ...] = (
    "id", "student_id", "student_external_id", "student_name", "type_key", "title", "tier", "status",
    "priority", "assignee_id", "due_date", "overdue", "goal", "notes", "outcome", "created_at", "updated_at",
)  # fmt: skip


def neutralise(value: Any) -> str:
    """The cell text, with a leading ``'`` when a spreadsheet would read it as a formula.

    Numbers are written as they are (``-3`` stays a number); text is checked.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return neutralise_text(text)


def to_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A CSV document (header + rows) with every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([neutralise(v) for v in row] for row in rows)
    return buffer.getvalue()


def risk_list_csv(session: Session, *, scope: Scope, filters: StudentFilter | None = None) -> str:
    """The risk list (latest prediction per student and course), highest risk first."""
    rows = (
        (
            r.student_id, r.external_id, r.display_name, r.course_name, r.section_name, r.as_of_day,
            r.probability, r.risk_level, r.risk_in_words, "; ".join(r.top_factors), r.model_variant,
            r.model_version, r.scored_at,
        )
        for r in iter_risk_list(session, scope=scope, filters=filters)
    )  # fmt: skip
    return to_csv(RISK_COLUMNS, rows)


def interventions_csv(session: Session, *, scope: Scope, **filters: Any) -> str:
    """Every intervention matching ``filters`` (see ``list_interventions``)."""
    items, _ = list_interventions(session, scope=scope, limit=None, **filters)
    rows = ([intervention_public(i)[c] for c in INTERVENTION_COLUMNS] for i in items)
    return to_csv(INTERVENTION_COLUMNS, rows)
