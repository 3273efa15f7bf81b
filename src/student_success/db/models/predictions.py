"""Imports and the risk predictions made from them, kept over time (a prediction is never updated)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from student_success.db.base import Base, CreatedAtMixin, one_of
from student_success.db.models.core import Course, Student

IMPORT_STATUSES: tuple[str, ...] = ("pending", "completed", "failed")
RISK_LEVELS: tuple[str, ...] = ("low", "medium", "high")


class ImportBatch(CreatedAtMixin, Base):
    """One uploaded or synchronised file.

    The SHA-256 makes re-imports idempotent: the same file for the same course and source is refused
    by the database, not only by the import service. A batch may span several courses (an OULAD
    export); then ``course_id`` is NULL and a partial unique index keeps the file unique per source,
    because NULLs never collide in an ordinary unique constraint.
    """

    __tablename__ = "import_batch"
    __table_args__ = (
        UniqueConstraint("course_id", "source_type", "file_sha256"),
        Index(
            "uq_import_batch_source_type_file_sha256_no_course",
            "source_type",
            "file_sha256",
            unique=True,
            sqlite_where=text("course_id IS NULL"),
            postgresql_where=text("course_id IS NULL"),
        ),
        one_of("status", IMPORT_STATUSES),
        CheckConstraint("rows_total >= 0 AND rows_rejected >= 0", name="row_counts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="SET NULL"))
    source_type: Mapped[str] = mapped_column(String(32), doc="oulad, canvas, generic, k12, …")
    file_name: Mapped[str]
    file_sha256: Mapped[str] = mapped_column(String(64))
    as_of_day: Mapped[int | None]
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_rejected: Mapped[int] = mapped_column(default=0)
    row_counts: Mapped[dict[str, Any] | None] = mapped_column(doc="rows written per table")
    errors: Mapped[list[Any] | None] = mapped_column(doc="row errors: file, line, column, message, value")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))

    course: Mapped[Course | None] = relationship()


class Prediction(CreatedAtMixin, Base):
    """A risk score for a student (in a course) as of a day, with its explanation and advice."""

    __tablename__ = "prediction"
    __table_args__ = (
        Index("ix_prediction_student_id_created_at", "student_id", "created_at"),
        Index("ix_prediction_course_id_as_of_day", "course_id", "as_of_day"),
        Index("ix_prediction_import_batch_id", "import_batch_id"),
        # the risk list: each student's latest prediction per course, without reading the JSON columns
        Index("ix_prediction_student_id_course_id_id", "student_id", "course_id", "id"),
        one_of("risk_level", RISK_LEVELS),
        CheckConstraint("probability >= 0 AND probability <= 1", name="probability_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id", ondelete="SET NULL"))
    model_version: Mapped[str] = mapped_column(String(64))
    model_variant: Mapped[str] = mapped_column(String(64), doc="gradebook, gradebook+activity, full, k12")
    as_of_day: Mapped[int | None]
    probability: Mapped[float] = mapped_column(doc="calibrated probability of Fail or Withdrawn")
    risk_level: Mapped[str] = mapped_column(String(16))
    class_probabilities: Mapped[dict[str, Any] | None] = mapped_column(doc="outcome -> probability")
    factors: Mapped[list[Any] | None] = mapped_column(doc="top risk and protective factors")
    recommendations: Mapped[list[Any] | None]

    student: Mapped[Student] = relationship()
    course: Mapped[Course | None] = relationship()
    import_batch: Mapped[ImportBatch | None] = relationship()


class LatestPrediction(Base):
    """Each student's newest prediction per course: what the risk list sorts and pages.

    Kept by the import (``services.predictions.refresh_latest``) in the same transaction as the
    predictions, so the list reads one small indexed table instead of grouping every scoring ever made.
    ``course_key`` is ``course_id`` or 0, because NULLs never collide in a unique key.
    """

    __tablename__ = "latest_prediction"
    __table_args__ = (
        Index("ix_latest_prediction_probability", "probability", "student_id", "prediction_id"),
        Index("ix_latest_prediction_course_id_probability", "course_id", "probability"),
        one_of("risk_level", RISK_LEVELS),
    )

    student_id: Mapped[int] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"), primary_key=True)
    course_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    prediction_id: Mapped[int] = mapped_column(ForeignKey("prediction.id", ondelete="CASCADE"), unique=True)
    probability: Mapped[float]
    risk_level: Mapped[str] = mapped_column(String(16))
