"""Uploads and imports: preview a file, import it, list what was imported."""

from __future__ import annotations

import json
import logging
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Response, UploadFile

from student_success.api.auth import ScopeDep
from student_success.api.deps import EngineDep, OptionalModelDep, SessionDep, SettingsDep
from student_success.api.routes.audit import AuditDep
from student_success.api.schemas import ImportPublic, ImportsPublic, PreviewPublic, UploadPublic
from student_success.config import Settings
from student_success.db.engine import session_scope
from student_success.errors import ModelError, ValidationFailed
from student_success.services import imports

router = APIRouter(tags=["uploads"])
log = logging.getLogger(__name__)

AsOfDay = Annotated[
    int | None, Form(ge=0, description="day of the term the file describes (required for Canvas exports)")
]
Mapping = Annotated[str | None, Form(description='JSON {"canonical_name": "their header"} for a generic CSV')]
ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "file too large"},
    422: {"description": "the file has problems"},
}


def _read_upload(file: UploadFile, settings: Settings) -> tuple[bytes, str]:
    content = file.file.read(settings.max_upload_bytes + 1)
    if len(content) > settings.max_upload_bytes:
        raise HTTPException(413, f"the file is larger than the limit of {settings.max_upload_bytes:,} bytes")
    if not content.startswith(b"PK") and imports.count_lines(content) > settings.max_upload_rows + 2:
        raise HTTPException(413, f"the file has more than the limit of {settings.max_upload_rows:,} rows")
    name = PurePath((file.filename or "upload.csv").replace("\\", "/")).name or "upload.csv"
    return content, name


def _mapping(raw: str | None) -> dict[str, str] | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValidationFailed.single(
            'the mapping must be a JSON object of strings: {"canonical_name": "their header"}', file="mapping"
        )
    return value


@router.post("/uploads/preview", response_model=PreviewPublic, responses=ERRORS)
def preview_upload(
    file: UploadFile,
    settings: SettingsDep,
    model: OptionalModelDep,
    as_of_day: AsOfDay = None,
    mapping: Mapping = None,
) -> dict[str, object]:
    """Read an uploaded file and show what an import would do; nothing is stored."""
    content, name = _read_upload(file, settings)
    return imports.preview_upload(
        content, filename=name, as_of_day=as_of_day, mapping=_mapping(mapping), model=model
    )


@router.post("/uploads", response_model=UploadPublic, status_code=201, responses=ERRORS)
def upload(
    file: UploadFile,
    response: Response,
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    model: OptionalModelDep,
    scope: ScopeDep,
    record: AuditDep,
    as_of_day: AsOfDay = None,
    mapping: Mapping = None,
) -> imports.ImportResult:
    """Import a gradebook or student file and score every student (201; 200 when imported before)."""
    content, name = _read_upload(file, settings)
    try:
        result = imports.import_upload(
            session, content, filename=name, as_of_day=as_of_day, mapping=_mapping(mapping),
            settings=settings, model=model, user_id=scope.user_id,
        )  # fmt: skip
    except (ValidationFailed, ModelError) as exc:
        if isinstance(exc, imports.NoActiveModel):
            raise
        session.rollback()  # release the request's transaction (and SQLite's write lock) first
        with session_scope(engine) as failure_session:
            imports.record_failed_import(
                failure_session, content, filename=name, error=exc, as_of_day=as_of_day,
                user_id=scope.user_id, settings=settings,
            )  # fmt: skip
        raise
    record("import.create", entity=f"import:{result.batch.id}",
           details={"created": result.created, "predictions": result.predictions})  # fmt: skip
    if not result.created:
        response.status_code = 200
    return result


@router.get("/imports", response_model=ImportsPublic)
def list_imports(
    session: SessionDep,
    scope: ScopeDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ImportsPublic:
    """Imported files, newest first, including failed attempts with their row errors."""
    rows, total = imports.list_imports(session, scope=scope, limit=limit, offset=offset)
    return ImportsPublic(
        data=[ImportPublic.model_validate(r) for r in rows], count=total, limit=limit, offset=offset
    )


@router.get("/imports/{import_id}", response_model=ImportPublic)
def get_import(import_id: int, session: SessionDep, scope: ScopeDep) -> ImportPublic:
    """One imported file with its row counts and errors."""
    return ImportPublic.model_validate(imports.get_import(session, import_id, scope=scope))
