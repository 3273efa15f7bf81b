"""The overview: an empty state with one clear action, or the dashboard of who needs support now."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from student_success.api.auth import ScopeDep
from student_success.api.deps import EngineDep, OptionalModelDep, SessionDep, SettingsDep
from student_success.api.routes.audit import AuditDep
from student_success.config import PROJECT_ROOT
from student_success.errors import ModelError, NotFound, ValidationFailed
from student_success.services import imports, students
from student_success.services.scope import Scope
from student_success.services.students import StudentFilter, StudentRow
from student_success.web import charts
from student_success.web.common import error_page, optional_int, render, see_other
from student_success.web.failures import import_failure_message, record_failure

router = APIRouter()
EXAMPLE_FILE = PROJECT_ROOT / "examples" / "canvas_gradebook_export.csv"
EXAMPLE_AS_OF_DAY = 60
TOP_ROWS = 20  # a counsellor reaches 20–40 students a week: make the first 20 obvious


def filter_options(rows: list[StudentRow]) -> dict[str, list[tuple[str, str]]]:
    """Course and section choices for the filters, from the rows the caller can see."""
    courses = sorted({(r.course_id, r.course_name or "") for r in rows if r.course_id is not None},
                     key=lambda c: c[1])  # fmt: skip
    sections = sorted(
        {(r.section_id, f"{r.course_name} · {r.section_name}") for r in rows if r.section_id is not None},
        key=lambda s: s[1],
    )
    return {
        "courses": [("", "All courses"), *((str(i), n) for i, n in courses)],
        "sections": [("", "All sections"), *((str(i), n) for i, n in sections)],
    }


def scoring_models(rows: list[StudentRow]) -> list[tuple[str, str]]:
    """The (variant, version) pairs that scored these rows."""
    return sorted({(r.model_variant, r.model_version) for r in rows})


def _section_summary(
    summary: dict[str, Any], rows: list[StudentRow], *, high: float, medium: float
) -> dict[str, Any]:
    """The dashboard numbers narrowed to one section's rows (the service summarises whole courses)."""
    counts = dict.fromkeys(("high", "medium", "low"), 0)
    for r in rows:
        counts[r.risk_level] += 1
    wanted = {(r.student_id, r.course_id) for r in rows}
    changes = {
        name: [c for c in items if (c["student_id"], c["course_id"]) in wanted]
        for name, items in summary["changes"].items()
    }
    return {
        **summary,
        "total": len(rows),
        "counts": counts,
        "histogram": charts.histogram([r.probability for r in rows]),
        "changes": changes,
    }


def _imported_notice(session: Any, scope: Scope, imported: str | None, created: str | None) -> str | None:
    batch_id = optional_int(imported)
    if batch_id is None:
        return None
    try:
        batch = imports.get_import(session, batch_id, scope=scope)
    except NotFound:
        return None
    if created == "0":
        return f"{batch.file_name} was imported before, so nothing changed."
    return f"Imported {batch.file_name}: {batch.rows_total} students scored as of day {batch.as_of_day}."


@router.get("/", response_class=HTMLResponse)
def overview(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    settings: SettingsDep,
    course: str | None = None,
    section: str | None = None,
    imported: str | None = None,
    created: str | None = None,
) -> Response:
    """Who needs support now, and what changed since the last upload."""
    every_row = students.iter_risk_list(session, scope=scope)
    if not every_row:
        return render(request, "home_empty.html", {"title": "Welcome", "example": EXAMPLE_FILE.name})
    course_id, section_id = optional_int(course), optional_int(section)
    flt = StudentFilter(course_id=course_id, section_id=section_id)
    summary = students.dashboard_summary(session, scope=scope, course_id=course_id)
    rows = students.iter_risk_list(session, scope=scope, filters=flt)
    if section_id is not None:
        summary = _section_summary(
            summary, rows, high=settings.high_risk_threshold, medium=settings.medium_risk_threshold
        )
    bars = charts.histogram_bars(
        summary["histogram"], high=settings.high_risk_threshold, medium=settings.medium_risk_threshold
    )
    return render(
        request,
        "home.html",
        {
            "title": "Overview",
            "summary": summary,
            "bars": bars,
            "top_rows": [r for r in rows if r.risk_level == "high"][:TOP_ROWS],
            "options": filter_options(every_row),
            "course": course_id,
            "section": section_id,
            "models": scoring_models(rows or every_row),
            "notice": _imported_notice(session, scope, imported, created),
        },
    )


@router.post("/example", response_class=HTMLResponse)
def import_example(
    request: Request,
    session: SessionDep,
    engine: EngineDep,
    scope: ScopeDep,
    settings: SettingsDep,
    model: OptionalModelDep,
    record: AuditDep,
) -> Response:
    """Import the bundled Canvas gradebook example as of day 60, then show the overview."""
    content = EXAMPLE_FILE.read_bytes()
    try:
        result = imports.import_upload(
            session, content, filename=EXAMPLE_FILE.name, as_of_day=EXAMPLE_AS_OF_DAY, mapping=None,
            settings=settings, model=model, user_id=scope.user_id,
        )  # fmt: skip
    except (ValidationFailed, ModelError) as exc:
        if not isinstance(exc, imports.NoActiveModel):
            record_failure(session, engine, content, filename=EXAMPLE_FILE.name, error=exc,
                           as_of_day=EXAMPLE_AS_OF_DAY, user_id=scope.user_id, settings=settings)  # fmt: skip
        return error_page(
            request, title="The example could not be imported", message=import_failure_message(exc),
            status_code=503 if isinstance(exc, imports.NoActiveModel) else 422,
        )  # fmt: skip
    record("import.create", entity=f"import:{result.batch.id}",
           details={"created": result.created, "predictions": result.predictions})  # fmt: skip
    return see_other("/", imported=result.batch.id, created=int(result.created))
