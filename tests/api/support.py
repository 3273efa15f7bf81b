"""Helpers shared by the API and service tests: empty the database, seed courses, count rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from student_success.api import create_app
from student_success.config import PROJECT_ROOT, Settings
from student_success.db.base import Base
from student_success.ingest.canonical import CanonicalData
from student_success.services.predictions import store_predictions
from student_success.services.storage import StoredIds, store_canonical

MODELS_DIR = PROJECT_ROOT / "results" / "models"
EXAMPLE = PROJECT_ROOT / "examples" / "canvas_gradebook_export.csv"
HAS_MODEL = (MODELS_DIR / "model_metadata.json").is_file()
needs_model = pytest.mark.skipif(not HAS_MODEL, reason="no trained model in results/models yet")


def wipe(engine: Engine) -> None:
    """Delete every row of every table (the schema and its revision stay)."""
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


TEST_API_KEY = "test-bootstrap-key-0123456789"  # the settings' MVP_API_KEY: an administrator
AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}


def make_client(settings: Settings, **kwargs: Any) -> TestClient:
    """A client for an app built on ``settings``, authenticated with the bootstrap key.

    Use it as a context manager: it runs the lifespan.
    """
    kwargs.setdefault("headers", AUTH)
    return TestClient(create_app(settings), **kwargs)


def count(session: Session, table: str) -> int:
    """Rows in ``table`` (seen from a fresh transaction)."""
    session.rollback()
    return int(session.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())


def level(p: float) -> str:
    """The default settings' risk level of probability ``p``."""
    return "high" if p >= 0.6 else "medium" if p >= 0.35 else "low"


def seed_course(
    session: Session,
    students: Sequence[tuple[str, str | None, str | None, float]],
    *,
    course: str = "BIO_101",
    as_of_day: int = 30,
    source: str = "canvas",
) -> StoredIds:
    """Store a course with ``(student_id, name, section, probability)`` rows and one scoring of each.

    Each call adds a new scoring point (a prediction per student), as an import would. Risk factors
    are one sentence per student: ``"risk of <id>"``.
    """
    enrollments = pd.DataFrame(
        [
            {"course_id": course, "student_id": s, "display_name": n, "section": sec}
            for s, n, sec, _ in students
        ]
    )
    data = CanonicalData(
        source=source,
        courses=pd.DataFrame({"course_id": [course], "name": [course]}),
        enrollments=enrollments,
    )
    ids = store_canonical(session, data)
    predictions = pd.DataFrame(
        {
            "student_id": [s for s, *_ in students],
            "course_id": course,
            "as_of_day": as_of_day,
            "risk_probability": [p for *_, p in students],
            "risk_level": [level(p) for *_, p in students],
            "risk_factors": [
                [{"feature": "missing", "sentence": f"risk of {s}", "kind": "changeable"}]
                for s, *_ in students
            ],
            "protective_factors": [[] for _ in students],
            "recommendations": [[{"key": "tutoring", "title": "Academic tutoring"}] for _ in students],
            "model_variant": "gradebook",
            "model_version": "vtest",
        }
    )
    store_predictions(session, predictions, ids, import_batch_id=None)
    session.commit()
    return ids


def example_bytes() -> bytes:
    """The bundled Canvas gradebook example (30 students)."""
    return Path(EXAMPLE).read_bytes()
