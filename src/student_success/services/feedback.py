"""Staff feedback on flags: record a verdict on a student's score, and sum them up for the model's owners."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from student_success.db.models import FEEDBACK_VERDICTS, FlagFeedback, Prediction
from student_success.errors import RowError, ValidationFailed
from student_success.services.scope import Scope, require_student

NOTE_MAX_CHARS = 2000
VERDICT_WORDS: dict[str, str] = {
    "useful": "Useful",
    "not_useful": "Not useful",
    "incorrectly_flagged": "Incorrectly flagged",
    "not_applicable": "Not applicable",
}


def _invalid(field: str, message: str, value: Any = None) -> ValidationFailed:
    return ValidationFailed(
        [RowError("feedback", None, field, message, None if value is None else str(value))]
    )


def record_feedback(
    session: Session,
    student_id: int,
    *,
    scope: Scope,
    verdict: str,
    note: str | None = None,
    prediction_id: int | None = None,
    user_id: int | None = None,
) -> FlagFeedback:
    """Keep one person's verdict on a student's score (the latest one unless ``prediction_id`` says which).

    Raises:
        UnknownStudent: the student does not exist or is outside the caller's scope.
        ValidationFailed: an unknown verdict, a note that is too long, a prediction of another student,
            or a student who has not been scored.
    """
    require_student(session, student_id, scope=scope)
    if verdict not in FEEDBACK_VERDICTS:
        raise _invalid("verdict", f"verdict must be one of {', '.join(FEEDBACK_VERDICTS)}", verdict)
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX_CHARS:
        raise _invalid(
            "note", f"the note is longer than {NOTE_MAX_CHARS:,} characters", f"{len(note)} characters"
        )
    query = select(Prediction.id).where(Prediction.student_id == student_id)
    if prediction_id is not None:
        query = query.where(Prediction.id == prediction_id)
    found = session.scalars(query.order_by(Prediction.id.desc()).limit(1)).first()
    if found is None:
        if prediction_id is not None:
            raise _invalid(
                "prediction_id", f"student {student_id} has no prediction {prediction_id}", prediction_id
            )
        raise _invalid("prediction_id", "this student has not been scored yet")
    item = FlagFeedback(
        prediction_id=found, student_id=student_id, user_id=user_id, verdict=verdict, note=note
    )
    session.add(item)
    session.flush()
    return item


def student_feedback(session: Session, student_id: int, *, scope: Scope) -> list[dict[str, Any]]:
    """What staff said about this student's scores, newest first."""
    require_student(session, student_id, scope=scope)
    rows = session.execute(
        select(FlagFeedback, Prediction.model_version, Prediction.risk_level)
        .join(Prediction, Prediction.id == FlagFeedback.prediction_id)
        .where(FlagFeedback.student_id == student_id)
        .order_by(FlagFeedback.id.desc())
    ).all()
    return [
        {
            "id": item.id,
            "prediction_id": item.prediction_id,
            "student_id": item.student_id,
            "user_id": item.user_id,
            "verdict": item.verdict,
            "note": item.note,
            "created_at": item.created_at,
            "model_version": version,
            "risk_level": level,
        }
        for item, version, level in rows
    ]


def feedback_summary(session: Session) -> list[dict[str, Any]]:
    """Verdict counts per model version, variant and risk level shown (no student is named).

    Returns:
        One row per (model_version, model_variant, risk_level) with a count per verdict and the total,
        most recent model version first.
    """
    rows = session.execute(
        select(
            Prediction.model_version,
            Prediction.model_variant,
            Prediction.risk_level,
            FlagFeedback.verdict,
            func.count(FlagFeedback.id),
        )
        .join(Prediction, Prediction.id == FlagFeedback.prediction_id)
        .group_by(
            Prediction.model_version, Prediction.model_variant, Prediction.risk_level, FlagFeedback.verdict
        )
    ).all()
    table: dict[tuple[str, str, str], dict[str, Any]] = {}
    for version, variant, level, verdict, count in rows:
        key = (version, variant, level)
        row = table.setdefault(
            key,
            {"model_version": version, "model_variant": variant, "risk_level": level, "total": 0}
            | dict.fromkeys(FEEDBACK_VERDICTS, 0),
        )
        row[verdict] = count
        row["total"] += count
    level_order = {"high": 0, "medium": 1, "low": 2}
    summary = sorted(table.values(), key=lambda r: (r["model_variant"], level_order.get(r["risk_level"], 3)))
    summary.sort(key=lambda r: r["model_version"], reverse=True)  # stable: the order above holds per version
    return summary
