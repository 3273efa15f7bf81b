"""Staff feedback on flags over HTTP: stored against the right prediction, validated, summed up."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from student_success.db.models import AuditEvent, FlagFeedback, Prediction

from .support import count, seed_course

ROSTER = [("s01", "Ada Okafor", "A", 0.91), ("s02", "Ben Alvarez", "A", 0.42), ("s03", "Chen Li", "B", 0.12)]


def test_feedback_goes_to_the_latest_prediction_and_is_summed_by_model_and_level(
    client: TestClient, db: Session
) -> None:
    ids = seed_course(db, ROSTER)
    seed_course(db, ROSTER, as_of_day=60)  # a newer scoring: feedback belongs to it
    ada, ben = ids.students["s01"], ids.students["s02"]
    latest = db.scalars(
        select(Prediction.id).where(Prediction.student_id == ada).order_by(Prediction.id)
    ).all()

    made = client.post(
        f"/api/students/{ada}/feedback", json={"verdict": "incorrectly_flagged", "note": " Ill "}
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["prediction_id"], body["student_id"], body["verdict"], body["note"]) == (
        latest[-1],
        ada,
        "incorrectly_flagged",
        "Ill",
    )
    first = client.post(
        f"/api/students/{ada}/feedback", json={"verdict": "useful", "prediction_id": latest[0]}
    )
    assert first.json()["prediction_id"] == latest[0]
    client.post(f"/api/students/{ben}/feedback", json={"verdict": "not_applicable"})

    summary = client.get("/api/feedback/summary").json()["data"]
    assert summary == [
        {"model_version": "vtest", "model_variant": "gradebook", "risk_level": "high", "useful": 1,
         "not_useful": 0, "incorrectly_flagged": 1, "not_applicable": 0, "total": 2},
        {"model_version": "vtest", "model_variant": "gradebook", "risk_level": "medium", "useful": 0,
         "not_useful": 0, "incorrectly_flagged": 0, "not_applicable": 1, "total": 1},
    ]  # fmt: skip
    assert count(db, "flag_feedback") == 3
    audited = db.scalars(select(AuditEvent.student_id).where(AuditEvent.action == "feedback.create")).all()
    assert sorted(audited) == sorted([ada, ada, ben])


def test_bad_feedback_is_refused_with_the_field_and_nothing_is_stored(
    client: TestClient, db: Session
) -> None:
    ids = seed_course(db, ROSTER)
    ada, ben = ids.students["s01"], ids.students["s02"]
    other = db.scalars(select(Prediction.id).where(Prediction.student_id == ben)).one()

    wrong_word = client.post(f"/api/students/{ada}/feedback", json={"verdict": "meh"})
    assert wrong_word.status_code == 422
    assert "verdict" in str(wrong_word.json()["detail"])
    not_theirs = client.post(
        f"/api/students/{ada}/feedback", json={"verdict": "useful", "prediction_id": other}
    )
    assert not_theirs.status_code == 422
    assert f"student {ada} has no prediction {other}" in str(not_theirs.json()["detail"])
    too_long = client.post(f"/api/students/{ada}/feedback", json={"verdict": "useful", "note": "x" * 2001})
    assert too_long.status_code == 422
    unknown = client.post("/api/students/999999/feedback", json={"verdict": "useful"})
    assert unknown.status_code == 404
    assert db.scalars(select(FlagFeedback)).all() == []
