"""The import service on both databases: bulk upserts, idempotence, failures recorded once, speed."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from api.support import EXAMPLE, example_bytes, needs_model, wipe
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from student_success.config import Settings
from student_success.db.engine import session_scope
from student_success.db.models import AssessmentResult, Enrollment, ImportBatch, Prediction, Section, Student
from student_success.errors import ValidationFailed
from student_success.ingest.canonical import CanonicalData
from student_success.ingest.detect import read_any
from student_success.services.imports import import_upload, preview_upload, record_failed_import
from student_success.services.storage import store_canonical

CANVAS = "canvas_gradebook_export.csv"


@pytest.fixture
def clean(engine: Engine) -> Iterator[Engine]:
    wipe(engine)
    yield engine
    wipe(engine)


def _n(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _big_course(n_students: int, n_assessments: int = 8, *, seed: int = 3) -> CanonicalData:
    rng = np.random.default_rng(seed)
    students = [f"{100000 + i}" for i in range(n_students)]
    enrollments = pd.DataFrame(
        {
            "course_id": "BIG",
            "student_id": students,
            "display_name": [f"Student {i}" for i in range(n_students)],
            "section": [f"Section {i % 4 + 1}" for i in range(n_students)],
        }
    )
    assessments = pd.DataFrame(
        {"course_id": "BIG", "assessment_id": [f"a{k}" for k in range(n_assessments)], "name": "HW",
         "kind": "assignment", "due_day": 60.0, "points_possible": 10.0, "position": range(n_assessments)}
    )  # fmt: skip
    results = pd.DataFrame(
        [{"course_id": "BIG", "assessment_id": f"a{k}", "student_id": s, "submitted_day": 60.0,
          "score_pct": float(rng.integers(0, 101)), "excused": False, "is_banked": False}
         for s in students for k in range(n_assessments)]
    )  # fmt: skip
    return CanonicalData(
        source="canvas",
        courses=pd.DataFrame({"course_id": ["BIG"], "name": ["BIG"]}),
        enrollments=enrollments,
        assessments=assessments,
        results=results,
        as_of_day=60,
    )


def test_store_canonical_upserts_exact_rows_and_is_idempotent(clean: Engine) -> None:
    data = read_any(EXAMPLE, as_of_day=60)
    with session_scope(clean) as session:
        first = store_canonical(session, data)
    assert first.counts == {
        "course": {"inserted": 1, "updated": 0},
        "section": {"inserted": 2, "updated": 0},
        "student": {"inserted": 30, "updated": 0},
        "enrollment": {"inserted": 30, "updated": 0},
        "assessment": {"inserted": 8, "updated": 0},
        "assessment_result": {"inserted": 162, "updated": 0},
    }
    with session_scope(clean) as session:
        again = store_canonical(session, data)
        assert {k: v["inserted"] + v["updated"] for k, v in again.counts.items()} == dict.fromkeys(
            first.counts, 0
        )
        assert again.students == first.students
        assert _n(session, Student) == 30
        assert sorted(session.scalars(select(Section.name))) == ["Section 1", "Section 2"]
        assert _n(session, Enrollment) == 30
    # a changed score and a student moved to another section update just those rows
    changed = read_any(EXAMPLE, as_of_day=60)
    row = changed.results.index[(changed.results["student_id"] == "322757")][0]
    changed.results.loc[row, "score_pct"] = 12.5
    changed.enrollments.loc[changed.enrollments["student_id"] == "322757", "section"] = "Section 2"
    with session_scope(clean) as session:
        third = store_canonical(session, changed)
        assert third.counts["assessment_result"] == {"inserted": 0, "updated": 1}
        assert third.counts["enrollment"] == {"inserted": 0, "updated": 1}
        assert session.scalar(select(func.count()).where(AssessmentResult.score_pct == 12.5)) == 1


def test_1000_students_are_written_in_one_bulk_import(clean: Engine) -> None:
    data = _big_course(1000)
    with session_scope(clean) as session:
        ids = store_canonical(session, data)
        assert ids.counts["assessment_result"] == {"inserted": 8000, "updated": 0}
        assert len(ids.students) == 1000


def test_failed_imports_are_recorded_once_per_file(clean: Engine) -> None:
    bad = b"Student,ID\n"
    for _ in range(2):
        with pytest.raises(ValidationFailed) as caught:
            read_any(bad, filename="bad.csv", as_of_day=60)
        with session_scope(clean) as session:
            record_failed_import(session, bad, filename="bad.csv", error=caught.value, as_of_day=60)
    with session_scope(clean) as session:
        [batch] = session.scalars(select(ImportBatch)).all()
        assert (batch.status, batch.file_name, batch.rows_total) == ("failed", "bad.csv", 0)
        assert batch.errors and batch.errors[0]["file"] == "bad.csv"


def test_preview_stores_nothing_and_names_the_variant() -> None:
    preview = preview_upload(example_bytes(), filename=CANVAS, as_of_day=60, mapping=None)
    assert (preview["ok"], preview["format"], preview["variant"], preview["students"]) == (
        True,
        "canvas",
        "gradebook",
        30,
    )


@needs_model
def test_import_upload_scores_stores_and_is_idempotent(clean: Engine) -> None:
    from student_success.ml.service import load_active_model

    settings = Settings(database_url=str(clean.url))
    model = load_active_model(settings)
    with session_scope(clean) as session:
        result = import_upload(
            session,
            example_bytes(),
            filename=CANVAS,
            as_of_day=60,
            mapping=None,
            settings=settings,
            model=model,
        )
        assert (result.created, result.predictions, result.variant) == (True, 30, "gradebook")
        batch_id = result.batch.id
    with session_scope(clean) as session:
        again = import_upload(
            session,
            example_bytes(),
            filename=CANVAS,
            as_of_day=60,
            mapping=None,
            settings=settings,
            model=model,
        )
        assert (again.created, again.batch.id) == (False, batch_id)
        assert _n(session, Prediction) == 30
        levels = set(session.scalars(select(Prediction.risk_level)))
        assert levels <= {"high", "medium", "low"}
