"""The notification rules, and the one place a notification is created.

Rules:

* ``high_risk``: a student's latest score is "needs support now" and the previous one (same course)
  was not, or there was none;
* ``risk_rise``: the risk rose by at least N points since the previous scoring (N: the user's own
  threshold, else ``notification_risk_rise_points``); not sent when ``high_risk`` is for the same score;
* ``intervention_overdue``: an open plan is past its due date;
* ``intervention_stale``: an open plan has had no update for N days (the user's, else
  ``notification_stale_days``);
* ``import_failed``: an import failed (told to whoever uploaded it).

Each alert goes to the users allowed to see the student (``recipients.py``), at most once per user,
rule, subject and window (``notification_window_hours``; the database's unique key decides), unless
the user snoozed the student or the rule, or chose the channel "none".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from student_success.config import Settings
from student_success.db.base import utcnow
from student_success.db.models import (
    Course,
    ImportBatch,
    Intervention,
    Notification,
    NotificationPreference,
    Prediction,
    Student,
    User,
)
from student_success.services.notifications.broker import emit
from student_success.services.notifications.dedup import insert_ignoring_duplicate, window_start
from student_success.services.notifications.emails import enqueue_notification_email
from student_success.services.notifications.preferences import active_snoozes, load_preferences
from student_success.services.notifications.recipients import opted_in_admins, recipients_by_student

OPEN_STATUSES = ("planned", "in_progress")


@dataclass(frozen=True)
class Alert:
    """One notification to create for one user (before snoozes, channel and deduplication)."""

    user: User
    rule: str
    subject: str
    message: str
    link: str | None
    student_id: int | None = None
    intervention_id: int | None = None
    import_batch_id: int | None = None


def event_payload(notification: Notification) -> dict[str, Any]:
    """What a connected page receives about a new notification."""
    return {
        "type": "notification",
        "id": notification.id,
        "user_id": notification.user_id,
        "rule": notification.rule,
        "message": notification.message,
        "link": notification.link,
        "student_id": notification.student_id,
        "created_at": notification.created_at.isoformat(),
    }


def create_notifications(
    session: Session, alerts: Iterable[Alert], *, settings: Settings, now: datetime | None = None
) -> list[Notification]:
    """Create the notifications for ``alerts`` in the caller's transaction; return the new ones.

    Skips alerts the user snoozed or whose channel is "none", and alerts already sent in this window.
    Writes the e-mail of "e-mail at once" users into the outbox, and announces each new notification
    to the user's open pages once the transaction commits.
    """
    now = now or utcnow()
    alerts = list(alerts)
    user_ids = {alert.user.id for alert in alerts}
    prefs = load_preferences(session, user_ids, settings=settings)
    snoozes = active_snoozes(session, user_ids, now=now)
    start = window_start(now, hours=settings.notification_window_hours)
    created: list[Notification] = []
    for alert in alerts:
        pref = prefs[alert.user.id]
        if pref.channel == "none" or snoozes[alert.user.id].covers(
            rule=alert.rule, student_id=alert.student_id
        ):
            continue
        new_id = insert_ignoring_duplicate(
            session,
            Notification,
            {
                "user_id": alert.user.id,
                "student_id": alert.student_id,
                "intervention_id": alert.intervention_id,
                "import_batch_id": alert.import_batch_id,
                "rule": alert.rule,
                "subject": alert.subject,
                "window_start": start,
                "message": alert.message,
                "link": alert.link,
                "created_at": now,
            },
            conflict_columns=["user_id", "rule", "subject", "window_start"],
        )
        if new_id is None:
            continue
        notification = session.get_one(Notification, new_id)
        if pref.channel == "email_immediate":
            enqueue_notification_email(session, notification, alert.user, settings=settings, now=now)
        emit(session, event_payload(notification))
        created.append(notification)
    session.flush()
    return created


def _student_names(session: Session, student_ids: Iterable[int]) -> dict[int, str]:
    rows = session.execute(
        select(Student.id, Student.display_name, Student.external_id).where(
            Student.id.in_(sorted(set(student_ids)))
        )
    ).all()
    return {sid: name or f"Student {external}" for sid, name, external in rows}


def _course_names(session: Session, course_ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({c for c in course_ids if c is not None})
    rows = session.execute(
        select(Course.id, Course.name, Course.external_id).where(Course.id.in_(wanted))
    ).all()
    return {cid: name or external for cid, name, external in rows}


def _percent(p: float) -> str:
    return f"{round(p * 100)} %"


def evaluate_import(
    session: Session, batch_id: int, *, settings: Settings, now: datetime | None = None
) -> list[Notification]:
    """Apply ``high_risk`` and ``risk_rise`` to the scores an import just stored (same transaction)."""
    current, previous = aliased(Prediction), aliased(Prediction)
    same_course = func.coalesce(previous.course_id, -1) == func.coalesce(current.course_id, -1)
    earlier = (
        select(current.id.label("current_id"), func.max(previous.id).label("previous_id"))
        .join(
            previous, and_(previous.student_id == current.student_id, same_course, previous.id < current.id)
        )
        .where(current.import_batch_id == batch_id)
        .where(or_(previous.import_batch_id.is_(None), previous.import_batch_id != batch_id))
        .group_by(current.id)
        .subquery()
    )
    rows = session.execute(
        select(Prediction, previous.probability, previous.risk_level)
        .outerjoin(earlier, earlier.c.current_id == Prediction.id)
        .outerjoin(previous, previous.id == earlier.c.previous_id)
        .where(Prediction.import_batch_id == batch_id)
        .order_by(Prediction.id)
    ).all()
    own_floor = session.scalar(select(func.min(NotificationPreference.risk_rise_points)))
    floor = min(settings.notification_risk_rise_points, own_floor or 100.0)
    changes = [
        (p, prev_p, prev_level)
        for p, prev_p, prev_level in rows
        if (p.risk_level == "high" and prev_level != "high")
        or (prev_p is not None and (p.probability - prev_p) * 100 >= floor - 1e-9)
    ]
    if not changes:
        return []
    recipients = recipients_by_student(session, (p.student_id for p, _, _ in changes))
    names = _student_names(session, (p.student_id for p, _, _ in changes))
    courses = _course_names(session, (p.course_id for p, _, _ in changes))
    prefs = load_preferences(
        session, {u.id for users in recipients.values() for u in users}, settings=settings
    )
    alerts: list[Alert] = []
    for p, prev_p, prev_level in changes:
        name = names[p.student_id]
        where = f" in {courses[p.course_id]}" if p.course_id in courses else ""
        link = f"/students/{p.student_id}"
        subject = f"student:{p.student_id}"
        newly_high = p.risk_level == "high" and prev_level != "high"
        for user in recipients[p.student_id]:
            if newly_high:
                message = f"{name} now needs support{where} (risk {_percent(p.probability)})."
                alerts.append(Alert(user, "high_risk", subject, message, link, student_id=p.student_id))
            elif (
                prev_p is not None
                and (p.probability - prev_p) * 100 >= prefs[user.id].risk_rise_points - 1e-9
            ):
                rise = round((p.probability - prev_p) * 100)
                message = f"{name}'s risk{where} rose by {rise} points to {_percent(p.probability)}."
                alerts.append(Alert(user, "risk_rise", subject, message, link, student_id=p.student_id))
    return create_notifications(session, alerts, settings=settings, now=now)


def evaluate_failed_import(
    session: Session, batch: ImportBatch, *, settings: Settings, now: datetime | None = None
) -> list[Notification]:
    """Tell the uploader (and opted-in administrators) that an import failed (the edge's own transaction)."""
    users: list[User] = []
    if batch.created_by is not None:
        uploader = session.get(User, batch.created_by)
        if uploader is not None and uploader.is_active:
            users.append(uploader)
    users += [admin for admin in opted_in_admins(session) if admin.id != batch.created_by]
    problems = len(batch.errors or [])
    message = f"The import of {batch.file_name} failed: {problems} problem(s) in the file."
    alerts = [
        Alert(user, "import_failed", f"import:{batch.id}", message, "/upload", import_batch_id=batch.id)
        for user in users
    ]
    return create_notifications(session, alerts, settings=settings, now=now)


def evaluate_interventions(
    session: Session, *, settings: Settings, now: datetime | None = None
) -> list[Notification]:
    """Apply ``intervention_overdue`` and ``intervention_stale`` to every open plan.

    A plan's alerts go to its owner when the owner may see the student (plus opted-in administrators),
    otherwise to everyone who may see the student.
    """
    now = now or utcnow()
    own_shortest = session.scalar(select(func.min(NotificationPreference.stale_days)))
    shortest = min(settings.notification_stale_days, own_shortest or settings.notification_stale_days)
    plans = session.scalars(
        select(Intervention)
        .where(
            Intervention.status.in_(OPEN_STATUSES),
            or_(
                Intervention.due_date < now.date(), Intervention.updated_at <= now - timedelta(days=shortest)
            ),
        )
        .order_by(Intervention.id)
    ).all()
    if not plans:
        return []
    recipients = recipients_by_student(session, (plan.student_id for plan in plans))
    names = _student_names(session, (plan.student_id for plan in plans))
    prefs = load_preferences(
        session, {u.id for users in recipients.values() for u in users}, settings=settings
    )
    alerts: list[Alert] = []
    for plan in plans:
        allowed = recipients[plan.student_id]
        owner = [u for u in allowed if u.id == plan.assignee_id and u.role != "admin"]
        users = owner + [u for u in allowed if u.role == "admin"] if owner else allowed
        name, link, subject = (
            names[plan.student_id],
            f"/students/{plan.student_id}",
            f"intervention:{plan.id}",
        )
        for user in users:
            if plan.due_date is not None and plan.due_date < now.date():
                due = f"{plan.due_date:%Y-%m-%d}"
                message = f"The plan “{plan.title}” for {name} was due on {due} and is still open."
                alerts.append(
                    Alert(user, "intervention_overdue", subject, message, link, plan.student_id, plan.id)
                )
            idle = now - plan.updated_at
            if idle >= timedelta(days=prefs[user.id].stale_days):
                message = f"The plan “{plan.title}” for {name} has had no update for {idle.days} days."
                alerts.append(
                    Alert(user, "intervention_stale", subject, message, link, plan.student_id, plan.id)
                )
    return create_notifications(session, alerts, settings=settings, now=now)
