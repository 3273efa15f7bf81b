"""Notifications: in-app messages, each user's preferences and snoozes, and the e-mail outbox.

A notification is unique per (user, rule, subject, window start): the database itself refuses a second
alert for the same thing in the same window, so several workers evaluating the rules at once never
notify twice. E-mail goes through ``email_outbox`` (written in the same transaction as the notification)
and is delivered later by the delivery worker, with retries; ``message_id`` is stable, so a message
resent after a crash can be recognised by the receiving side.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from student_success.db.base import Base, CreatedAtMixin, one_of, utcnow

NOTIFICATION_RULES: tuple[str, ...] = (
    "high_risk",
    "risk_rise",
    "intervention_overdue",
    "intervention_stale",
    "import_failed",
)
CHANNELS: tuple[str, ...] = ("in_app", "email_immediate", "email_digest", "none")
OUTBOX_STATUSES: tuple[str, ...] = ("pending", "sending", "sent", "failed")


class Notification(CreatedAtMixin, Base):
    """An in-app message to a user, e.g. a student crossing into high risk.

    ``subject`` names what the alert is about (``student:12``, ``intervention:7``, ``import:3``);
    together with the user, the rule and ``window_start`` it is the deduplication key.
    """

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_user_id_read_at", "user_id", "read_at"),
        UniqueConstraint("user_id", "rule", "subject", "window_start"),
        one_of("rule", NOTIFICATION_RULES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    intervention_id: Mapped[int | None] = mapped_column(ForeignKey("intervention.id", ondelete="CASCADE"))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64), doc="student:<id>, intervention:<id> or import:<id>")
    window_start: Mapped[datetime]
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(255), doc="path in the app, e.g. /students/12")
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None] = mapped_column(doc="when it went into an e-mail (or a digest)")


class NotificationPreference(Base):
    """How a user wants to be told, and their own thresholds (``None``: the settings' default)."""

    __tablename__ = "notification_preference"
    __table_args__ = (
        one_of("channel", CHANNELS),
        CheckConstraint("risk_rise_points IS NULL OR risk_rise_points > 0", name="risk_rise_points"),
        CheckConstraint("stale_days IS NULL OR stale_days > 0", name="stale_days"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), default="in_app")
    risk_rise_points: Mapped[float | None]
    stale_days: Mapped[int | None]
    admin_opt_in: Mapped[bool] = mapped_column(default=False, doc="admins: be told about every student")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NotificationSnooze(CreatedAtMixin, Base):
    """A user's pause of alerts about one student, or of one rule, until a time."""

    __tablename__ = "notification_snooze"
    __table_args__ = (
        Index("ix_notification_snooze_user_id_until", "user_id", "until"),
        CheckConstraint("student_id IS NOT NULL OR rule IS NOT NULL", name="target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("student.id", ondelete="CASCADE"))
    rule: Mapped[str | None] = mapped_column(String(64))
    until: Mapped[datetime]


class EmailOutbox(CreatedAtMixin, Base):
    """One e-mail waiting to be sent (or sent): the delivery worker's queue."""

    __tablename__ = "email_outbox"
    __table_args__ = (
        Index("ix_email_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        one_of("status", OUTBOX_STATUSES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str]
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
