"""What staff said about a flag: was this student's risk score useful, wrong, or beside the point."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from student_success.db.base import Base, CreatedAtMixin, one_of

FEEDBACK_VERDICTS: tuple[str, ...] = ("useful", "not_useful", "incorrectly_flagged", "not_applicable")


class FlagFeedback(CreatedAtMixin, Base):
    """One person's verdict on one prediction; read by whoever tunes the model."""

    __tablename__ = "flag_feedback"
    __table_args__ = (
        one_of("verdict", FEEDBACK_VERDICTS),
        Index("ix_flag_feedback_prediction_id", "prediction_id"),
        Index("ix_flag_feedback_student_id", "student_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prediction_id: Mapped[int] = mapped_column(ForeignKey("prediction.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    verdict: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
