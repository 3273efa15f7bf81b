"""Notifications: deduplication key and links, preferences, snoozes and the e-mail outbox.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULES = "'high_risk', 'risk_rise', 'intervention_overdue', 'intervention_stale', 'import_failed'"
CHANNELS = "'in_app', 'email_immediate', 'email_digest', 'none'"
OUTBOX_STATUSES = "'pending', 'sending', 'sent', 'failed'"
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Extend ``notification``; add ``notification_preference``, ``notification_snooze``, ``email_outbox``."""
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("intervention_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("import_batch_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("subject", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("window_start", TS, nullable=True))
        batch_op.add_column(sa.Column("link", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("emailed_at", TS, nullable=True))
    # rows written before this revision: one window each, keyed by their own id
    op.execute(
        "UPDATE notification SET subject = 'notification:' || CAST(id AS VARCHAR(20)), "
        "window_start = created_at WHERE subject IS NULL"
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column("subject", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("window_start", existing_type=TS, nullable=False)
        batch_op.create_foreign_key(
            op.f("fk_notification_intervention_id_intervention"),
            "intervention",
            ["intervention_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            op.f("fk_notification_import_batch_id_import_batch"),
            "import_batch",
            ["import_batch_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            op.f("uq_notification_user_id_rule_subject_window_start"),
            ["user_id", "rule", "subject", "window_start"],
        )
        batch_op.create_check_constraint(op.f("ck_notification_rule"), f"rule IN ({RULES})")

    op.create_table(
        "notification_preference",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("risk_rise_points", sa.Double(), nullable=True),
        sa.Column("stale_days", sa.Integer(), nullable=True),
        sa.Column("admin_opt_in", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint(f"channel IN ({CHANNELS})", name=op.f("ck_notification_preference_channel")),
        sa.CheckConstraint(
            "risk_rise_points IS NULL OR risk_rise_points > 0",
            name=op.f("ck_notification_preference_risk_rise_points"),
        ),
        sa.CheckConstraint(
            "stale_days IS NULL OR stale_days > 0", name=op.f("ck_notification_preference_stale_days")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_notification_preference_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_preference")),
    )
    op.create_table(
        "notification_snooze",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("until", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint(
            "student_id IS NOT NULL OR rule IS NOT NULL", name=op.f("ck_notification_snooze_target")
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["student.id"],
            name=op.f("fk_notification_snooze_student_id_student"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_notification_snooze_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_snooze")),
    )
    with op.batch_alter_table("notification_snooze", schema=None) as batch_op:
        batch_op.create_index("ix_notification_snooze_user_id_until", ["user_id", "until"], unique=False)

    op.create_table(
        "email_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("notification_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("claimed_at", TS, nullable=True),
        sa.Column("last_attempt_at", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint(f"status IN ({OUTBOX_STATUSES})", name=op.f("ck_email_outbox_status")),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification.id"],
            name=op.f("fk_email_outbox_notification_id_notification"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_email_outbox_user_id_app_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_email_outbox_message_id")),
    )
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_email_outbox_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    """Drop the new tables and the columns added to ``notification``."""
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_email_outbox_status_next_attempt_at")
    op.drop_table("email_outbox")
    with op.batch_alter_table("notification_snooze", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_snooze_user_id_until")
    op.drop_table("notification_snooze")
    op.drop_table("notification_preference")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_rule"), type_="check")
        batch_op.drop_constraint(op.f("uq_notification_user_id_rule_subject_window_start"), type_="unique")
        batch_op.drop_constraint(op.f("fk_notification_import_batch_id_import_batch"), type_="foreignkey")
        batch_op.drop_constraint(op.f("fk_notification_intervention_id_intervention"), type_="foreignkey")
        batch_op.drop_column("emailed_at")
        batch_op.drop_column("link")
        batch_op.drop_column("window_start")
        batch_op.drop_column("subject")
        batch_op.drop_column("import_batch_id")
        batch_op.drop_column("intervention_id")
