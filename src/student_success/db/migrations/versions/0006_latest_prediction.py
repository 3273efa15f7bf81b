"""The risk list's own table: each student's newest prediction per course, filled from history.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``latest_prediction`` and fill it from the predictions already stored."""
    op.create_table(
        "latest_prediction",
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("course_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("prediction_id", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Double(), nullable=False),
        sa.Column("risk_level", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "risk_level IN ('low', 'medium', 'high')", name=op.f("ck_latest_prediction_risk_level")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_latest_prediction_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prediction_id"],
            ["prediction.id"],
            name=op.f("fk_latest_prediction_prediction_id_prediction"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["student.id"],
            name=op.f("fk_latest_prediction_student_id_student"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("student_id", "course_key", name=op.f("pk_latest_prediction")),
        sa.UniqueConstraint("prediction_id", name=op.f("uq_latest_prediction_prediction_id")),
    )
    with op.batch_alter_table("latest_prediction", schema=None) as batch_op:
        batch_op.create_index(
            "ix_latest_prediction_probability", ["probability", "student_id", "prediction_id"], unique=False
        )
        batch_op.create_index(
            "ix_latest_prediction_course_id_probability", ["course_id", "probability"], unique=False
        )
    op.execute(
        """
        INSERT INTO latest_prediction
            (student_id, course_key, course_id, prediction_id, probability, risk_level)
        SELECT p.student_id, COALESCE(p.course_id, 0), p.course_id, p.id, p.probability, p.risk_level
        FROM prediction AS p
        WHERE p.id IN (SELECT max(id) FROM prediction GROUP BY student_id, course_id)
        """
    )


def downgrade() -> None:
    """Drop ``latest_prediction`` (the predictions themselves are untouched)."""
    with op.batch_alter_table("latest_prediction", schema=None) as batch_op:
        batch_op.drop_index("ix_latest_prediction_course_id_probability")
        batch_op.drop_index("ix_latest_prediction_probability")
    op.drop_table("latest_prediction")
