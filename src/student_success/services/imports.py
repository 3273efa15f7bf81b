"""Uploads: preview a file (nothing stored) and import it (store, score, record) in one transaction."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from student_success.config import Settings
from student_success.db.models import ImportBatch
from student_success.errors import ModelError, NotFound, RowError, StudentSuccessError, ValidationFailed
from student_success.ingest.canonical import CanonicalData
from student_success.ingest.csvfile import read_csv_table
from student_success.ingest.detect import detect_format, read_any
from student_success.ingest.generic import detect_generic_mapping
from student_success.ml.registry import ModelVersion
from student_success.ml.scoring import VARIANT_LADDER, available_inputs, choose_variant, score_data
from student_success.ml.training import VARIANT_SPECS
from student_success.ops.metrics import record_import
from student_success.services import notifications
from student_success.services.predictions import store_predictions
from student_success.services.scope import Scope
from student_success.services.storage import store_canonical

PREVIEW_ROWS = 5


class NoActiveModel(ModelError):
    """No trained model is active, so nothing can be scored yet."""


@dataclass
class ImportResult:
    """What an import did.

    Attributes:
        batch: the ``import_batch`` row (the earlier one when the file was imported before).
        created: ``False`` when the same file had already been imported: nothing changed.
        variant: the model variant that scored the file (``None`` for an unchanged re-import).
        model_version: the model version that scored it.
        predictions: the number of prediction rows written.
    """

    batch: ImportBatch
    created: bool
    variant: str | None = None
    model_version: str | None = None
    predictions: int = 0
    warnings: list[str] = field(default_factory=list)


def file_sha256(content: bytes) -> str:
    """Hex SHA-256 of an upload."""
    return hashlib.sha256(content).hexdigest()


def row_errors(exc: ValidationFailed) -> list[dict[str, Any]]:
    """The row errors of ``exc`` as plain dicts (file, line, column, message, value).

    A NUL character quoted from a binary file becomes U+FFFD: PostgreSQL cannot store NUL in text.
    """
    rows = [dataclasses.asdict(e) for e in exc.errors]
    return [{k: v.replace("\x00", "\ufffd") if isinstance(v, str) else v for k, v in r.items()} for r in rows]


def _safe_format(content: bytes, filename: str) -> str:
    try:
        return detect_format(content, filename=filename)
    except ValidationFailed:
        return "unknown"


def _column_mapping(
    content: bytes, kind: str, filename: str, mapping: dict[str, str] | None
) -> dict[str, str]:
    if kind == "oulad":
        return {}
    header = read_csv_table(content, filename=filename).header
    if kind == "generic":
        return detect_generic_mapping(header, mapping=mapping)
    if kind == "canvas":
        names = {"student_id": "ID", "display_name": "Student", "section": "Section"}
        return {k: v for k, v in names.items() if v in header}
    return {h: h for h in header}


def _variant_without_model(data: CanonicalData) -> str | None:
    if data.k12 is not None:
        return "k12"
    if data.summary is not None:
        return "summary"
    have = available_inputs(data)
    return next((n for n in VARIANT_LADDER if VARIANT_SPECS[n].requires <= have), None)


def preview_upload(
    content: bytes,
    *,
    filename: str,
    as_of_day: int | None,
    mapping: dict[str, str] | None,
    model: ModelVersion | None = None,
) -> dict[str, Any]:
    """Read an upload as the import would, and report what it found. Nothing is stored.

    Args:
        content: the file's bytes.
        filename: its name (for messages, and the Canvas course id).
        as_of_day: the day of the term the file describes (required for a Canvas export).
        mapping: explicit ``{"canonical_name": "their header"}`` for a generic CSV.
        model: the active model, to name the variant that will score the file; without it the
            variant is the one the file's inputs call for.

    Returns:
        ``ok``, ``format``, ``file_sha256``, ``column_mapping``, ``variant``, counts, a few
        ``sample`` students, and ``errors`` (row errors with line and column) when ``ok`` is false.
    """
    kind = _safe_format(content, filename)
    out: dict[str, Any] = {
        "filename": filename,
        "file_sha256": file_sha256(content),
        "format": kind,
        "as_of_day": as_of_day,
        "ok": False,
        "errors": [],
        "column_mapping": {},
        "variant": None,
        "warnings": [],
    }
    try:
        out["column_mapping"] = _column_mapping(content, kind, filename, mapping) if kind != "unknown" else {}
        data = read_any(content, as_of_day=as_of_day, mapping=mapping, filename=filename)
    except ValidationFailed as exc:
        out["errors"] = row_errors(exc)
        return out
    out["ok"] = True
    out["source"] = data.source
    out["students"] = data.n_students
    out["courses"] = sorted(data.courses["course_id"].dropna().astype(str).unique().tolist())
    out["assessments"] = len(data.assessments)
    out["results"] = len(data.results)
    if model is not None:
        try:
            out["variant"] = choose_variant(data, model)
        except ModelError as exc:
            out["warnings"].append(str(exc))
    else:
        out["variant"] = _variant_without_model(data)
    sample = data.enrollments[["student_id", "display_name", "section"]].head(PREVIEW_ROWS)
    out["sample"] = [{k: (None if v is None or v != v else str(v)) for k, v in r.items()} for r in
                     sample.astype(object).to_dict(orient="records")]  # fmt: skip
    return out


def find_import(session: Session, *, sha256: str, source_type: str) -> ImportBatch | None:
    """The completed import of the file with this hash from this source, if any."""
    return session.scalars(
        select(ImportBatch)
        .where(
            ImportBatch.file_sha256 == sha256,
            ImportBatch.source_type == source_type,
            ImportBatch.status == "completed",
        )
        .order_by(ImportBatch.id)
        .limit(1)
    ).first()


def _failed_twin(session: Session, *, sha256: str, source_type: str) -> ImportBatch | None:
    # a failed attempt of the same file without a course holds the partial unique index's key
    return session.scalars(
        select(ImportBatch).where(
            ImportBatch.file_sha256 == sha256,
            ImportBatch.source_type == source_type,
            ImportBatch.course_id.is_(None),
            ImportBatch.status == "failed",
        )
    ).first()


def import_upload(
    session: Session,
    content: bytes,
    *,
    filename: str,
    as_of_day: int | None,
    mapping: dict[str, str] | None,
    settings: Settings,
    model: ModelVersion | None,
    user_id: int | None = None,
) -> ImportResult:
    """Store an upload's records, score every student and record the import, in the caller's transaction.

    Re-importing the same file (same SHA-256 from the same source) changes nothing and returns the
    earlier batch. A newer export of the same course adds a new scoring point per student.

    Raises:
        ValidationFailed: the file cannot be read; nothing was written.
        ModelError: no model variant fits the file; nothing was written.
        NoActiveModel: ``model`` is ``None`` (checked after the file was read, so a bad file is
            reported as such even before a model is trained).
    """
    sha = file_sha256(content)
    kind = detect_format(content, filename=filename)
    earlier = find_import(session, sha256=sha, source_type=kind)
    if earlier is not None:
        record_import(kind, "unchanged")
        return ImportResult(batch=earlier, created=False)
    data = read_any(content, as_of_day=as_of_day, mapping=mapping, filename=filename)
    if model is None:
        raise NoActiveModel("no trained model is active: run `student-success train` first")
    # score before writing: a file no variant fits leaves the database untouched
    scored = score_data(data, model=model, settings=settings, as_of_day=as_of_day)
    ids = store_canonical(session, data)
    course_id = next(iter(ids.courses.values())) if len(ids.courses) == 1 else None
    batch = (_failed_twin(session, sha256=sha, source_type=data.source) if course_id is None else None) or (
        ImportBatch(source_type=data.source, file_sha256=sha)
    )
    batch.course_id = course_id
    batch.file_name = filename
    batch.as_of_day = scored.as_of_day
    batch.status = "pending"
    batch.errors = None
    batch.created_by = user_id
    session.add(batch)
    session.flush()
    n = store_predictions(session, scored.predictions, ids, import_batch_id=batch.id)
    batch.rows_total = data.n_students
    batch.rows_rejected = 0
    batch.row_counts = {**ids.counts, "prediction": {"inserted": n, "updated": 0}}
    batch.status = "completed"
    session.flush()
    notifications.evaluate_import(session, batch.id, settings=settings)
    record_import(data.source, "completed", predictions=n, variant=scored.variant)
    return ImportResult(
        batch=batch,
        created=True,
        variant=scored.variant,
        model_version=scored.model_version,
        predictions=n,
        warnings=[f"input columns not used by the model: {', '.join(scored.inputs_unused)}"]
        if scored.inputs_unused
        else [],
    )


def record_failed_import(
    session: Session,
    content: bytes,
    *,
    filename: str,
    error: StudentSuccessError,
    as_of_day: int | None = None,
    user_id: int | None = None,
    settings: Settings | None = None,
) -> ImportBatch:
    """Record a failed import (in a transaction of its own, opened by the edge).

    A repeated failure of the same file updates the earlier failed batch instead of adding another.
    With ``settings``, the uploader is notified (rule ``import_failed``).
    """
    sha = file_sha256(content)
    kind = _safe_format(content, filename)
    errors = row_errors(error) if isinstance(error, ValidationFailed) else [
        dataclasses.asdict(RowError(filename, None, None, str(error)))
    ]  # fmt: skip
    batch = _failed_twin(session, sha256=sha, source_type=kind) or ImportBatch(
        source_type=kind, file_sha256=sha
    )
    batch.file_name = filename
    batch.as_of_day = as_of_day
    batch.status = "failed"
    batch.errors = errors
    batch.rows_total = 0
    batch.rows_rejected = len({e["line"] for e in errors if e["line"] is not None})
    batch.created_by = user_id
    session.add(batch)
    session.flush()
    if settings is not None:
        notifications.evaluate_failed_import(session, batch, settings=settings)
    record_import(kind, "failed")
    return batch


def list_imports(
    session: Session, *, scope: Scope, limit: int = 50, offset: int = 0
) -> tuple[list[ImportBatch], int]:
    """Import batches, newest first, and their total; a restricted scope sees its own uploads."""
    condition = ImportBatch.id.is_not(None) if scope.unrestricted else ImportBatch.created_by == scope.user_id
    total = session.scalar(select(func.count()).select_from(ImportBatch).where(condition)) or 0
    rows = session.scalars(
        select(ImportBatch).where(condition).order_by(ImportBatch.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)


def get_import(session: Session, batch_id: int, *, scope: Scope) -> ImportBatch:
    """One import batch.

    Raises:
        NotFound: no such batch in the caller's scope.
    """
    batch = session.get(ImportBatch, batch_id)
    if batch is None or not (scope.unrestricted or batch.created_by == scope.user_id):
        raise NotFound(f"import {batch_id} not found")
    return batch


def count_lines(content: bytes) -> int:
    """Physical lines in an upload (a cheap bound checked before parsing)."""
    return content.count(b"\n") + (0 if content.endswith(b"\n") or not content else 1)
