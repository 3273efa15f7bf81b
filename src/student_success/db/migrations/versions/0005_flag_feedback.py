"""Staff feedback on flags (was a student's risk score useful?).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``flag_feedback``."""
    op.create_table(
        "flag_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prediction_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "verdict IN ('useful', 'not_useful', 'incorrectly_flagged', 'not_applicable')",
            name=op.f("ck_flag_feedback_verdict"),
        ),
        sa.ForeignKeyConstraint(
            ["prediction_id"],
            ["prediction.id"],
            name=op.f("fk_flag_feedback_prediction_id_prediction"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["student.id"],
            name=op.f("fk_flag_feedback_student_id_student"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_flag_feedback_user_id_app_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_feedback")),
    )
    with op.batch_alter_table("flag_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_flag_feedback_prediction_id", ["prediction_id"], unique=False)
        batch_op.create_index("ix_flag_feedback_student_id", ["student_id"], unique=False)


def downgrade() -> None:
    """Drop ``flag_feedback``."""
    with op.batch_alter_table("flag_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_flag_feedback_student_id")
        batch_op.drop_index("ix_flag_feedback_prediction_id")
    op.drop_table("flag_feedback")
