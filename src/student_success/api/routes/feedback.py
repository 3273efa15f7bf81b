"""Staff feedback on flags: was a student's risk score useful?"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from student_success.api.auth import PrincipalDep
from student_success.api.deps import SessionDep
from student_success.api.routes.audit import AuditDep
from student_success.services import feedback
from student_success.services.feedback import NOTE_MAX_CHARS

router = APIRouter(tags=["feedback"])
Verdict = Literal["useful", "not_useful", "incorrectly_flagged", "not_applicable"]


class FeedbackCreate(BaseModel):
    """A verdict on the student's latest score, or on the prediction named."""

    model_config = ConfigDict(extra="forbid")

    verdict: Verdict
    note: Annotated[str | None, Field(max_length=NOTE_MAX_CHARS)] = None
    prediction_id: int | None = None


class FeedbackPublic(BaseModel):
    """One verdict as stored."""

    id: int
    prediction_id: int
    student_id: int
    user_id: int | None
    verdict: Verdict
    note: str | None
    created_at: datetime


class FeedbackSummaryRow(BaseModel):
    """Verdict counts for one model version, variant and risk level."""

    model_version: str
    model_variant: str
    risk_level: str
    useful: int
    not_useful: int
    incorrectly_flagged: int
    not_applicable: int
    total: int


class FeedbackSummary(BaseModel):
    """Every verdict counted, for whoever tunes the model."""

    data: list[FeedbackSummaryRow]


@router.post("/students/{student_id}/feedback", response_model=FeedbackPublic, status_code=201)
def give_feedback(
    student_id: int, body: FeedbackCreate, session: SessionDep, principal: PrincipalDep, record: AuditDep
) -> FeedbackPublic:
    """Say whether the student's flag was useful, not useful, incorrect or not applicable."""
    item = feedback.record_feedback(
        session, student_id, scope=principal.scope, verdict=body.verdict, note=body.note,
        prediction_id=body.prediction_id, user_id=principal.user_id,
    )  # fmt: skip
    record(
        "feedback.create",
        student_id=student_id,
        entity=f"feedback:{item.id}",
        details={"verdict": item.verdict},
    )
    return FeedbackPublic.model_validate(item, from_attributes=True)


@router.get("/feedback/summary", response_model=FeedbackSummary)
def feedback_summary(session: SessionDep, _principal: PrincipalDep) -> dict[str, Any]:
    """Verdict counts per model version, variant and risk level (no student is named)."""
    return {"data": feedback.feedback_summary(session)}
