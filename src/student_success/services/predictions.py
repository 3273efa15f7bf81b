"""Store scores: one ``prediction`` row per scored student and import (kept over time, never updated)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from student_success.db.models import LatestPrediction, Prediction
from student_success.services.storage import StoredIds, as_int, chunks, insert_rows, plain

CLASS_COLUMNS: dict[str, str] = {
    "p_distinction": "Distinction",
    "p_pass": "Pass",
    "p_fail": "Fail",
    "p_withdrawn": "Withdrawn",
}


def store_predictions(
    session: Session, predictions: pd.DataFrame, ids: StoredIds, *, import_batch_id: int | None
) -> int:
    """Insert one ``prediction`` row per scored student (a new scoring point; nothing is overwritten).

    Rows without a course (K-12 and summary inputs) get the input's only course when it has exactly one.

    Returns:
        The number of rows inserted.
    """
    only_course = next(iter(ids.courses.values())) if len(ids.courses) == 1 else None
    class_cols = [c for c in CLASS_COLUMNS if c in predictions.columns]
    rows = []
    for r in predictions.to_dict(orient="records"):
        course = r.get("course_id")
        course_id = ids.courses.get(str(course)) if plain(course) is not None else only_course
        factors = [{**f, "direction": "risk"} for f in r.get("risk_factors") or []]
        factors += [{**f, "direction": "protective"} for f in r.get("protective_factors") or []]
        rows.append(
            {
                "student_id": ids.students[str(r["student_id"])],
                "course_id": course_id,
                "import_batch_id": import_batch_id,
                "model_version": str(r["model_version"]),
                "model_variant": str(r["model_variant"]),
                "as_of_day": as_int(plain(r.get("as_of_day"))),
                "probability": float(r["risk_probability"]),
                "risk_level": str(r["risk_level"]),
                "class_probabilities": {CLASS_COLUMNS[c]: plain(r[c]) for c in class_cols} or None,
                "factors": plain(factors),
                "recommendations": plain(list(r.get("recommendations") or [])),
            }
        )
    insert_rows(session, Prediction, rows)
    refresh_latest(session, {row["student_id"] for row in rows})
    return len(rows)


def refresh_latest(session: Session, student_ids: Iterable[int]) -> None:
    """Point ``latest_prediction`` at the newest prediction of each of these students in each course.

    One ``INSERT … SELECT … ON CONFLICT DO UPDATE`` per chunk of students (SQLite and PostgreSQL
    both have it): concurrent imports of the same students never collide, and an older scoring never
    replaces a newer one.
    """
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for chunk in chunks(sorted(student_ids)):
        newest = (
            select(func.max(Prediction.id))
            .where(Prediction.student_id.in_(chunk))
            .group_by(Prediction.student_id, Prediction.course_id)
        )
        source = select(
            Prediction.student_id, func.coalesce(Prediction.course_id, 0), Prediction.course_id,
            Prediction.id, Prediction.probability, Prediction.risk_level,
        ).where(Prediction.id.in_(newest))  # fmt: skip
        columns = ["student_id", "course_key", "course_id", "prediction_id", "probability", "risk_level"]
        statement = insert(LatestPrediction).from_select(columns, source)
        statement = statement.on_conflict_do_update(
            index_elements=["student_id", "course_key"],
            set_={c: statement.excluded[c] for c in columns[2:]},
            where=statement.excluded.prediction_id > LatestPrediction.prediction_id,
        )
        session.execute(statement)
