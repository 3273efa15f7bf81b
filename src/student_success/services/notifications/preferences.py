"""Each user's notification preferences (channel, thresholds, admin opt-in) and snoozes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from student_success.config import Settings
from student_success.db.models import CHANNELS, NOTIFICATION_RULES, NotificationPreference, NotificationSnooze
from student_success.errors import NotFound, RowError, ValidationFailed
from student_success.services.scope import Scope, require_student

CHANNEL_WORDS: dict[str, str] = {
    "in_app": "In the app only",
    "email_immediate": "In the app and by e-mail at once",
    "email_digest": "In the app and in a daily e-mail digest",
    "none": "Not at all",
}
RULE_WORDS: dict[str, str] = {
    "high_risk": "A student starts to need support now",
    "risk_rise": "A student's risk rises sharply",
    "intervention_overdue": "A support plan is past its due date",
    "intervention_stale": "A support plan has had no update for a while",
    "import_failed": "An import failed",
}


@dataclass(frozen=True)
class Preferences:
    """A user's effective preferences: their own choices, the settings' defaults elsewhere."""

    user_id: int
    channel: str = "in_app"
    risk_rise_points: float = 15.0
    stale_days: int = 14
    admin_opt_in: bool = False
    own_risk_rise_points: float | None = None
    own_stale_days: int | None = None


def effective(user_id: int, row: NotificationPreference | None, settings: Settings) -> Preferences:
    """Combine a stored preference row (or none) with the settings' defaults."""
    if row is None:
        return Preferences(
            user_id=user_id,
            risk_rise_points=settings.notification_risk_rise_points,
            stale_days=settings.notification_stale_days,
        )
    return Preferences(
        user_id=user_id,
        channel=row.channel,
        risk_rise_points=row.risk_rise_points or settings.notification_risk_rise_points,
        stale_days=row.stale_days or settings.notification_stale_days,
        admin_opt_in=row.admin_opt_in,
        own_risk_rise_points=row.risk_rise_points,
        own_stale_days=row.stale_days,
    )


def load_preferences(
    session: Session, user_ids: Iterable[int], *, settings: Settings
) -> dict[int, Preferences]:
    """Effective preferences of several users."""
    wanted = sorted(set(user_ids))
    rows = {
        row.user_id: row
        for row in session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id.in_(wanted))
        )
    }
    return {user_id: effective(user_id, rows.get(user_id), settings) for user_id in wanted}


def get_preferences(session: Session, user_id: int, *, settings: Settings) -> Preferences:
    """One user's effective preferences."""
    return load_preferences(session, [user_id], settings=settings)[user_id]


def update_preferences(
    session: Session,
    user_id: int,
    *,
    settings: Settings,
    channel: str,
    risk_rise_points: float | None = None,
    stale_days: int | None = None,
    admin_opt_in: bool = False,
) -> Preferences:
    """Store a user's choices (``None`` thresholds fall back to the settings).

    Raises:
        ValidationFailed: an unknown channel, or a threshold out of range (the field is named).
    """
    problems = []
    if channel not in CHANNELS:
        problems.append(("channel", f"must be one of {', '.join(CHANNELS)}", channel))
    if risk_rise_points is not None and not 0 < risk_rise_points <= 100:
        problems.append(("risk_rise_points", "must be between 1 and 100 points", str(risk_rise_points)))
    if stale_days is not None and not 0 < stale_days <= 365:
        problems.append(("stale_days", "must be between 1 and 365 days", str(stale_days)))
    if problems:
        raise ValidationFailed([RowError("preferences", None, col, msg, val) for col, msg, val in problems])
    row = session.get(NotificationPreference, user_id) or NotificationPreference(user_id=user_id)
    row.channel = channel
    row.risk_rise_points = risk_rise_points
    row.stale_days = stale_days
    row.admin_opt_in = admin_opt_in
    session.add(row)
    session.flush()
    return effective(user_id, row, settings)


@dataclass
class Snoozes:
    """A user's active snoozes: students and rules paused until some time."""

    students: set[int] = field(default_factory=set)
    rules: set[str] = field(default_factory=set)

    def covers(self, *, rule: str, student_id: int | None) -> bool:
        """Whether an alert of ``rule`` about ``student_id`` is paused."""
        return rule in self.rules or (student_id is not None and student_id in self.students)


def active_snoozes(session: Session, user_ids: Iterable[int], *, now: datetime) -> dict[int, Snoozes]:
    """The snoozes in force at ``now`` for each user."""
    wanted = sorted(set(user_ids))
    result = {user_id: Snoozes() for user_id in wanted}
    rows = session.scalars(
        select(NotificationSnooze).where(
            NotificationSnooze.user_id.in_(wanted), NotificationSnooze.until > now
        )
    )
    for row in rows:
        if row.student_id is not None:
            result[row.user_id].students.add(row.student_id)
        if row.rule is not None:
            result[row.user_id].rules.add(row.rule)
    return result


def list_snoozes(session: Session, user_id: int, *, now: datetime) -> list[NotificationSnooze]:
    """A user's snoozes still in force, soonest to end first."""
    return list(
        session.scalars(
            select(NotificationSnooze)
            .where(NotificationSnooze.user_id == user_id, NotificationSnooze.until > now)
            .order_by(NotificationSnooze.until, NotificationSnooze.id)
        )
    )


def snooze(
    session: Session,
    user_id: int,
    *,
    scope: Scope,
    until: datetime,
    now: datetime,
    student_id: int | None = None,
    rule: str | None = None,
) -> NotificationSnooze:
    """Pause alerts about a student, or of a rule, until ``until`` (replacing the same earlier snooze).

    Raises:
        ValidationFailed: neither or both of student and rule given, an unknown rule, ``until`` past.
        UnknownStudent: the student is not visible to the user.
    """
    if (student_id is None) == (rule is None):
        raise ValidationFailed.single("give either a student_id or a rule to snooze", file="snooze")
    if rule is not None and rule not in NOTIFICATION_RULES:
        raise ValidationFailed.single(
            f"rule must be one of {', '.join(NOTIFICATION_RULES)}", file="snooze", column="rule"
        )
    if until <= now:
        raise ValidationFailed.single("until must be in the future", file="snooze", column="until")
    if student_id is not None:
        require_student(session, student_id, scope=scope)
    same_target = (
        NotificationSnooze.student_id == student_id
        if student_id is not None
        else NotificationSnooze.rule == rule
    )
    session.execute(delete(NotificationSnooze).where(NotificationSnooze.user_id == user_id, same_target))
    row = NotificationSnooze(user_id=user_id, student_id=student_id, rule=rule, until=until)
    session.add(row)
    session.flush()
    return row


def unsnooze(session: Session, user_id: int, snooze_id: int) -> None:
    """End one of the user's snoozes.

    Raises:
        NotFound: no such snooze of this user.
    """
    row = session.get(NotificationSnooze, snooze_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"snooze {snooze_id} not found")
    session.delete(row)
    session.flush()
