"""Upload a gradebook: the form, a preview of what the import will do, and the confirmed import."""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from student_success.api.auth import ScopeDep
from student_success.api.deps import EngineDep, OptionalModelDep, SessionDep, SettingsDep
from student_success.api.routes.uploads import _mapping as parse_mapping
from student_success.config import Settings
from student_success.errors import ModelError, ValidationFailed
from student_success.services import imports
from student_success.web import staging
from student_success.web.common import error_page, render, see_other
from student_success.web.failures import import_failure_message, record_failure

router = APIRouter()
FORMAT_WORDS = {
    "canvas": "Canvas gradebook export",
    "generic": "Student table (CSV)",
    "k12": "K-12 student record",
    "oulad": "Open University (OULAD) tables",
    "summary": "Student summary table",
    "unknown": "Not recognised",
}


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
    token = staging.stage(content, filename=name, as_of_day=day, mapping=mapping.strip() or None)
    return see_other(f"/upload/{token}")


def _missing(request: Request) -> Response:
    return error_page(
        request, title="This upload is no longer here",
        message="Uploads wait for a day before they are removed. Upload the file again.", status_code=404,
    )  # fmt: skip


@router.get("/upload/{token}", response_class=HTMLResponse)
def preview(request: Request, token: str, model: OptionalModelDep) -> Response:
    """What the import will do: format, column mapping, the model variant, every bad row."""
    staged = staging.load(token)
    if staged is None:
        return _missing(request)
    report: dict[str, Any]
    try:
        mapping = parse_mapping(staged.mapping)
    except ValidationFailed as exc:
        report = {"ok": False, "format": "unknown", "errors": imports.row_errors(exc), "column_mapping": {}}
    else:
        report = imports.preview_upload(
            staged.content, filename=staged.filename, as_of_day=staged.as_of_day, mapping=mapping, model=model
        )
    return render(
        request,
        "preview.html",
        {
            "title": "Check the upload",
            "staged": staged,
            "report": report,
            "format_words": FORMAT_WORDS.get(str(report["format"]), str(report["format"])),
            "has_model": model is not None,
        },
    )


@router.post("/upload/{token}/import", response_class=HTMLResponse)
def confirm_import(
    request: Request,
    token: str,
    session: SessionDep,
    engine: EngineDep,
    scope: ScopeDep,
    settings: SettingsDep,
    model: OptionalModelDep,
) -> Response:
    """Import a previewed file, score every student, and show the overview."""
    staged = staging.load(token)
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
                           as_of_day=staged.as_of_day, user_id=scope.user_id)  # fmt: skip
        staging.set_error(token, import_failure_message(exc))
        return see_other(f"/upload/{token}")
    staging.discard(token)
    return see_other("/", imported=result.batch.id, created=int(result.created))
