"""The LMS/SIS integrations: each export a school's systems produce goes through preview and import.

A Canvas gradebook export (LMS), a one-row-per-student SIS CSV, a K-12 grade sheet and an OULAD
export (the VLE/SIS tables of the Open University) are each read, previewed without storing anything,
imported in one transaction with a prediction per student, and re-imported without change — on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from api.support import EXAMPLE, needs_model, wipe
from sqlalchemy import Engine, func, select

from student_success.config import PROJECT_ROOT, Settings
from student_success.db.engine import session_scope
from student_success.db.models import ImportBatch, LatestPrediction, Prediction, Student
from student_success.ml.service import load_active_model
from student_success.services.imports import import_upload, preview_upload

DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"
OULAD = DATASETS / "oulad"
UCI = DATASETS / "uci_student_performance" / "student-mat.csv"
needs_data = pytest.mark.skipif(not OULAD.is_dir() or not UCI.is_file(), reason="needs ../shared/datasets")
OULAD_TABLES = ("courses", "assessments", "vle", "studentInfo", "studentRegistration", "studentAssessment")


def _oulad_zip(module: str, presentation: str) -> bytes:
    """One module presentation of the OULAD export, zipped: six tables and the derived pre-course clicks.

    ``studentVle`` (10 million rows) is left out; it is optional, and the variant does not need it.
    """
    frames = {name: pd.read_csv(OULAD / f"{name}.csv", dtype=str) for name in OULAD_TABLES}
    for name in ("courses", "assessments", "vle", "studentInfo", "studentRegistration"):
        frame = frames[name]
        frames[name] = frame[(frame.code_module == module) & (frame.code_presentation == presentation)]
    ids = set(frames["assessments"].id_assessment)
    frames["studentAssessment"] = frames["studentAssessment"][
        frames["studentAssessment"].id_assessment.isin(ids)
    ]
    clicks = pd.read_csv(OULAD / "derived" / "vle_pre_course_clicks.csv", dtype=str)
    clicks = clicks[(clicks.code_module == module) & (clicks.code_presentation == presentation)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, frame in frames.items():
            archive.writestr(f"{name}.csv", frame.to_csv(index=False))
        archive.writestr("derived/vle_pre_course_clicks.csv", clicks.to_csv(index=False))
    return buffer.getvalue()


def _k12_sheet(rows: int) -> bytes:
    lines = UCI.read_text(encoding="utf-8").splitlines()
    return ("\n".join(lines[: rows + 1]) + "\n").encode()


@pytest.fixture
def clean(engine: Engine) -> Iterator[Engine]:
    wipe(engine)
    yield engine
    wipe(engine)


def _exports() -> list[tuple[str, bytes, int | None, str, str, int, int]]:
    """(file name, content, as-of day, format, variant, students stored, students scored)."""
    return [
        ("canvas_gradebook_export.csv", Path(EXAMPLE).read_bytes(), 60, "canvas", "gradebook", 30, 30),
        ("generic_students.csv", (PROJECT_ROOT / "examples" / "generic_students.csv").read_bytes(), None,
         "generic", "summary", 25, 25),
        ("student-mat-first-40.csv", _k12_sheet(40), None, "k12", "k12", 40, 40),
        # 25 of AAA 2014J's 365 students had withdrawn before day 60: they are stored, not scored
        ("oulad_AAA_2014J.zip", _oulad_zip("AAA", "2014J"), 60, "oulad", "full", 365, 340),
    ]  # fmt: skip


@needs_data
@needs_model
@pytest.mark.parametrize("which", range(4), ids=["canvas", "sis_csv", "k12", "oulad"])
def test_each_export_previews_imports_once_and_scores_every_student(clean: Engine, which: int) -> None:
    name, content, day, expected_format, expected_variant, stored, scored = _exports()[which]
    settings = Settings(database_url=str(clean.url))
    model = load_active_model(settings)

    preview = preview_upload(content, filename=name, as_of_day=day, mapping=None, model=model)
    assert (preview["ok"], preview["format"], preview["variant"]) == (True, expected_format, expected_variant)
    with session_scope(clean) as session:
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0  # a preview stores nothing

    with session_scope(clean) as session:
        result = import_upload(
            session, content, filename=name, as_of_day=day, mapping=None, settings=settings, model=model
        )
        assert (result.created, result.variant) == (True, expected_variant)
    with session_scope(clean) as session:
        again = import_upload(
            session, content, filename=name, as_of_day=day, mapping=None, settings=settings, model=model
        )
        assert again.created is False
        students = session.scalar(select(func.count()).select_from(Student))
        predictions = session.scalar(select(func.count()).select_from(Prediction))
        latest = session.scalar(select(func.count()).select_from(LatestPrediction))
        batches = session.scalar(select(func.count()).select_from(ImportBatch))
    assert students == preview["students"] == stored
    assert result.predictions == predictions == latest == scored
    assert batches == 1
