"""Store scores: one ``prediction`` row per scored student and import (kept over time, never updated)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.orm import Session

from student_success.db.models import Prediction
from student_success.services.storage import StoredIds, as_int, insert_rows, plain

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
    return len(rows)
