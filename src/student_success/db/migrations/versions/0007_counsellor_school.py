"""Counsellors who work with a whole school.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``counsellor_school``."""
    op.create_table(
        "counsellor_school",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_counsellor_school_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_counsellor_school_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "school_id", name=op.f("pk_counsellor_school")),
    )
    with op.batch_alter_table("counsellor_school", schema=None) as batch_op:
        batch_op.create_index("ix_counsellor_school_school_id", ["school_id"], unique=False)


def downgrade() -> None:
    """Drop ``counsellor_school``."""
    with op.batch_alter_table("counsellor_school", schema=None) as batch_op:
        batch_op.drop_index("ix_counsellor_school_school_id")
    op.drop_table("counsellor_school")
