"""Index for the risk list: each student's latest prediction per course.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the covering index on (student_id, course_id, id)."""
    op.create_index(
        "ix_prediction_student_id_course_id_id", "prediction", ["student_id", "course_id", "id"], unique=False
    )


def downgrade() -> None:
    """Drop it again."""
    op.drop_index("ix_prediction_student_id_course_id_id", table_name="prediction")
