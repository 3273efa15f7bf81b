"""Upload a gradebook: the form, a preview of what the import will do, and the confirmed import."""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from student_success.api.auth import Principal, PrincipalDep, ScopeDep
from student_success.api.deps import EngineDep, OptionalModelDep, SessionDep, SettingsDep
from student_success.api.routes.audit import AuditDep
from student_success.api.routes.uploads import _mapping as parse_mapping
from student_success.config import Settings
from student_success.errors import ModelError, ValidationFailed
from student_success.ingest.csvfile import read_csv_table
from student_success.ingest.generic import IDENTITY_SYNONYMS, LONG_SYNONYMS, SUMMARY_SYNONYMS
from student_success.ml.registry import ModelVersion
from student_success.services import imports
from student_success.web import staging
from student_success.web.common import error_page, render, see_other
from student_success.web.failures import import_failure_message, record_failure
from student_success.web.staging import StagedUpload

router = APIRouter()
FORMAT_WORDS = {
    "canvas": "Canvas gradebook export",
    "generic": "Student table (CSV)",
    "k12": "K-12 student record",
    "oulad": "Open University (OULAD) tables",
    "summary": "Student summary table",
    "unknown": "Not recognised",
}
# the canonical fields a generic table can feed, grouped as the reader reads them
MAPPING_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("identity", "Who each student is", tuple(IDENTITY_SYNONYMS)),
    ("summary", "One row per student: numbers so far", tuple(SUMMARY_SYNONYMS)),
    ("long", "One row per student and assignment", tuple(LONG_SYNONYMS)),
)
MAPPING_FIELDS: tuple[str, ...] = tuple(f for _, _, fields in MAPPING_GROUPS for f in fields)
FIELD_WORDS = {
    "student_id": "Student ID",
    "name": "Name",
    "section": "Section",
    "course_id": "Course",
    "early_avg_score": "Average score so far",
    "early_total_clicks": "Clicks in the learning platform",
    "studied_credits": "Credits studied",
    "num_of_prev_attempts": "Earlier attempts at the course",
    "early_missing_count": "Missing assignments",
    "early_submitted_count": "Submitted assignments",
    "as_of_day": "Day of the term",
    "assessment_id": "Assignment ID",
    "assessment_name": "Assignment name",
    "score": "Score",
    "points_possible": "Points possible",
    "due_day": "Day it was due",
    "submitted_day": "Day it was handed in",
    "excused": "Excused",
    "weight": "Weight",
}
FIXED_MAPPING_WORDS = {
    "canvas": "A Canvas gradebook export always has the same columns, so this mapping is fixed by the "
    "format and cannot be changed here.",
    "k12": "A K-12 student record always has the same columns, so this mapping is fixed by the format "
    "and cannot be changed here.",
    "oulad": "The Open University (OULAD) tables always have the same columns, so this mapping is fixed "
    "by the format and cannot be changed here.",
}
MAPPING_FIELD_PREFIX = "col_"


def _form_errors(
    file: UploadFile | None, content: bytes, as_of_day: str, settings: Settings
) -> dict[str, str]:
    """Problems with the form itself, by field, in plain words."""
    errors: dict[str, str] = {}
    if file is None or not file.filename:
        errors["file"] = "Choose a file to upload."
    elif not content:
        errors["file"] = "The file is empty."
    elif len(content) > settings.max_upload_bytes:
        errors["file"] = f"The file is larger than the limit of {settings.max_upload_bytes:,} bytes."
    elif not content.startswith(b"PK") and imports.count_lines(content) > settings.max_upload_rows + 2:
        errors["file"] = f"The file has more than the limit of {settings.max_upload_rows:,} rows."
    text = as_of_day.strip()
    if text and (not text.isdigit() or int(text) > 1000):
        errors["as_of_day"] = "Give the day of the term as a whole number, for example 60."
    return errors


@router.get("/upload", response_class=HTMLResponse)
def upload_form(request: Request) -> Response:
    """The upload form."""
    return render(request, "upload.html", {"title": "Upload a gradebook", "errors": {}, "values": {}})


@router.post("/upload", response_class=HTMLResponse)
def stage_upload(
    request: Request,
    settings: SettingsDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile | None, Form()] = None,
    as_of_day: Annotated[str, Form()] = "",
    mapping: Annotated[str, Form()] = "",
) -> Response:
    """Keep the file and show its preview (nothing is imported yet)."""
    content = file.file.read(settings.max_upload_bytes + 1) if file is not None else b""
    errors = _form_errors(file, content, as_of_day, settings)
    if errors:
        values = {"as_of_day": as_of_day, "mapping": mapping}
        return render(
            request, "upload.html", {"title": "Upload a gradebook", "errors": errors, "values": values},
            status_code=422,
        )  # fmt: skip
    raw_name = (file.filename if file is not None else None) or "upload.csv"
    name = PurePath(raw_name.replace("\\", "/")).name or "upload.csv"
    day = int(as_of_day) if as_of_day.strip() else None
    token = staging.stage(
        content, filename=name, as_of_day=day, mapping=mapping.strip() or None, owner=uploader(principal)
    )
    return see_other(f"/upload/{token}")


def uploader(principal: Principal) -> str:
    """Whose staged upload it is: the user (by session or by key alike), else the key's label."""
    return f"user:{principal.user_id}" if principal.user_id is not None else principal.label


def _missing(request: Request) -> Response:
    return error_page(
        request, title="This upload is no longer here",
        message="Uploads wait for a day before they are removed. Upload the file again.", status_code=404,
    )  # fmt: skip


def _header(staged: StagedUpload) -> list[str]:
    """The file's header cells (empty when the file cannot be read as a table)."""
    try:
        return read_csv_table(staged.content, filename=staged.filename).header
    except ValidationFailed:
        return []


def _report(
    staged: StagedUpload, mapping: dict[str, str] | None, model: ModelVersion | None
) -> dict[str, Any]:
    return imports.preview_upload(
        staged.content, filename=staged.filename, as_of_day=staged.as_of_day, mapping=mapping, model=model
    )


def _staged_report(staged: StagedUpload, model: ModelVersion | None) -> dict[str, Any]:
    """The preview with the staged mapping; a malformed one is reported, the columns still detected."""
    try:
        mapping = parse_mapping(staged.mapping)
    except ValidationFailed as exc:
        report = _report(staged, None, model)
        report.update(ok=False, errors=imports.row_errors(exc))
        return report
    return _report(staged, mapping, model)


def _preview_page(
    request: Request,
    staged: StagedUpload,
    report: dict[str, Any],
    *,
    has_model: bool,
    chosen: dict[str, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    kind = str(report["format"])
    header = _header(staged) if kind == "generic" else []
    return render(
        request,
        "preview.html",
        {
            "title": "Check the upload",
            "staged": staged,
            "report": report,
            "format_words": FORMAT_WORDS.get(kind, kind),
            "has_model": has_model,
            "editable": bool(header),
            "header": header,
            "selected": report["column_mapping"] if chosen is None else chosen,
            "rejected": chosen is not None,
            "saved": saved,
            "mapping_groups": MAPPING_GROUPS,
            "field_words": FIELD_WORDS,
            "field_prefix": MAPPING_FIELD_PREFIX,
            "fixed_words": FIXED_MAPPING_WORDS.get(kind),
        },
        status_code=status_code,
    )


@router.get("/upload/{token}", response_class=HTMLResponse)
def preview(
    request: Request, token: str, model: OptionalModelDep, principal: PrincipalDep, mapping: str = ""
) -> Response:
    """What the import will do: format, column mapping, the model variant, every bad row."""
    staged = staging.load(token, owner=uploader(principal))
    if staged is None:
        return _missing(request)
    report = _staged_report(staged, model)
    return _preview_page(request, staged, report, has_model=model is not None, saved=mapping == "saved")


def _duplicates(chosen: dict[str, str]) -> list[dict[str, Any]]:
    """One error per column chosen for more than one field."""
    fields: dict[str, list[str]] = {}
    for canonical, theirs in chosen.items():
        fields.setdefault(theirs, []).append(canonical)
    return [
        {
            "file": "mapping",
            "line": None,
            "column": theirs,
            "value": None,
            "message": f"this column is chosen for {' and '.join(names)}; choose each column once",
        }
        for theirs, names in fields.items()
        if len(names) > 1
    ]


def _choose_mapping(
    staged: StagedUpload, chosen: dict[str, str], model: ModelVersion | None
) -> tuple[dict[str, Any], bool]:
    """The preview with the chosen columns, and whether they were kept (only when the file then reads)."""
    report = _report(staged, chosen or None, model)
    if report["format"] != "generic":
        return report, False
    duplicates = _duplicates(chosen)
    if duplicates:
        report.update(ok=False, errors=[*duplicates, *report["errors"]])
    if not report["ok"]:
        return report, False
    staging.set_mapping(staged.token, chosen)
    return report, True


@router.post("/upload/{token}/mapping", response_class=HTMLResponse)
async def choose_mapping(
    request: Request, token: str, model: OptionalModelDep, principal: PrincipalDep
) -> Response:
    """Keep the columns chosen on the preview, or show why the file does not read with them."""
    staged = staging.load(token, owner=uploader(principal))
    if staged is None:
        return _missing(request)
    form = await request.form()
    chosen: dict[str, str] = {}
    for canonical in MAPPING_FIELDS:
        value = form.get(MAPPING_FIELD_PREFIX + canonical)
        if isinstance(value, str) and value:
            chosen[canonical] = value
    report, kept = await run_in_threadpool(_choose_mapping, staged, chosen, model)
    if report["format"] != "generic":
        return error_page(
            request, title="These columns cannot be changed",
            message="The columns of this file are fixed by its format. Go back to the preview to import it.",
            status_code=400,
        )  # fmt: skip
    if kept:
        return see_other(f"/upload/{token}", mapping="saved")
    return _preview_page(request, staged, report, has_model=model is not None, chosen=chosen, status_code=422)


@router.post("/upload/{token}/import", response_class=HTMLResponse)
def confirm_import(
    request: Request,
    token: str,
    session: SessionDep,
    engine: EngineDep,
    scope: ScopeDep,
    settings: SettingsDep,
    model: OptionalModelDep,
    record: AuditDep,
) -> Response:
    """Import a previewed file, score every student, and show the overview."""
    staged = staging.load(token, owner=uploader(record.principal))
    if staged is None:
        return _missing(request)
    try:
        result = imports.import_upload(
            session, staged.content, filename=staged.filename, as_of_day=staged.as_of_day,
            mapping=parse_mapping(staged.mapping), settings=settings, model=model, user_id=scope.user_id,
        )  # fmt: skip
    except (ValidationFailed, ModelError) as exc:
        if not isinstance(exc, imports.NoActiveModel):
            record_failure(session, engine, staged.content, filename=staged.filename, error=exc,
                           as_of_day=staged.as_of_day, user_id=scope.user_id, settings=settings)  # fmt: skip
        staging.set_error(token, import_failure_message(exc))
        return see_other(f"/upload/{token}")
    record("import.create", entity=f"import:{result.batch.id}",
           details={"created": result.created, "predictions": result.predictions})  # fmt: skip
    staging.discard(token)
    return see_other("/", imported=result.batch.id, created=int(result.created))
