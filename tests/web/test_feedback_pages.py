"""Feedback on a flag from the student page, and its summary on the model page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from student_success.db.models import FlagFeedback
from student_success.services import students
from student_success.services.scope import Scope

from .support import needs_model, visible_text


@needs_model
def test_staff_say_a_flag_was_wrong_and_the_model_page_counts_it(imported: TestClient, db: Session) -> None:
    [top], _ = students.list_students(db, scope=Scope.all(), limit=1)
    page = imported.get(f"/students/{top.student_id}")
    assert "Was this flag right? Tell us" in visible_text(page.text)
    prediction_id = int(re.search(r'name="prediction_id" value="(\d+)"', page.text).group(1))  # type: ignore[union-attr]

    sent = imported.post(
        f"/students/{top.student_id}/feedback",
        data={
            "verdict": "incorrectly_flagged",
            "note": "Was ill for two weeks",
            "prediction_id": prediction_id,
        },
    )

    assert sent.status_code == 303
    assert sent.headers["location"] == f"/students/{top.student_id}?feedback=1#feedback"
    after = visible_text(imported.get(sent.headers["location"].split("#")[0]).text)
    assert "Thank you: your feedback was saved." in after
    assert "Feedback on this student so far: Incorrectly flagged" in after
    db.rollback()  # end the read snapshot taken above, to see what the app committed
    [stored] = db.scalars(select(FlagFeedback)).all()
    assert (stored.prediction_id, stored.verdict, stored.note) == (
        prediction_id,
        "incorrectly_flagged",
        "Was ill for two weeks",
    )
    model_page = visible_text(imported.get("/model").text)
    assert "What staff said about the flags" in model_page
    assert re.search(r"Needs support now 0 0 1 0 1", model_page)


@needs_model
def test_feedback_without_a_choice_says_what_to_do(imported: TestClient, db: Session) -> None:
    [top], _ = students.list_students(db, scope=Scope.all(), limit=1)
    sent = imported.post(f"/students/{top.student_id}/feedback", data={"verdict": ""})
    assert sent.status_code == 422
    assert "Choose one of the answers" in visible_text(sent.text)
    db.rollback()
    assert db.scalars(select(FlagFeedback)).all() == []
