"""The notification channels' health: SMTP, the outbox, real-time connections. No student data."""

from __future__ import annotations

import smtplib
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from student_success.config import Settings
from student_success.db.models import EmailOutbox
from student_success.services.notifications.delivery import open_smtp

SMTP_PROBE_TIMEOUT_S = 3.0


def smtp_status(settings: Settings) -> dict[str, Any]:
    """Whether the SMTP server answers (connect, EHLO, NOOP; nothing is sent)."""
    if not settings.smtp_host:
        return {"configured": False, "reachable": None, "error": None}
    try:
        client = open_smtp(settings, timeout=SMTP_PROBE_TIMEOUT_S)
    except (OSError, smtplib.SMTPException) as exc:
        return {"configured": True, "reachable": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
    try:
        code, _ = client.noop()
    except (OSError, smtplib.SMTPException) as exc:
        return {"configured": True, "reachable": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return {"configured": True, "reachable": code == 250, "error": None if code == 250 else f"NOOP {code}"}


def outbox_status(session: Session, *, now: datetime) -> dict[str, Any]:
    """Outbox depth, its oldest waiting message, the last delivery and failures since then."""
    waiting = EmailOutbox.status.in_(("pending", "sending"))
    depth = int(session.scalar(select(func.count()).select_from(EmailOutbox).where(waiting)) or 0)
    oldest = session.scalar(select(func.min(EmailOutbox.created_at)).where(waiting))
    last_sent = session.scalar(select(func.max(EmailOutbox.sent_at)))
    failed_since = EmailOutbox.last_error.is_not(None) & EmailOutbox.status.in_(("pending", "failed"))
    if last_sent is not None:
        failed_since = failed_since & (EmailOutbox.last_attempt_at > last_sent)
    failures = int(session.scalar(select(func.count()).select_from(EmailOutbox).where(failed_since)) or 0)
    gave_up = int(
        session.scalar(select(func.count()).select_from(EmailOutbox).where(EmailOutbox.status == "failed"))
        or 0
    )
    return {
        "depth": depth,
        "oldest_pending_at": oldest.isoformat() if oldest else None,
        "oldest_pending_age_s": round((now - oldest).total_seconds(), 1) if oldest else None,
        "last_delivery_at": last_sent.isoformat() if last_sent else None,
        "failures_since_last_delivery": failures,
        "given_up": gave_up,
    }


def assess(outbox: dict[str, Any], smtp: dict[str, Any], *, settings: Settings) -> tuple[str, list[str]]:
    """``ok``, ``degraded`` or ``failing``, with the reasons in words.

    Failing (HTTP 503): the oldest waiting message is older than ``notification_outbox_max_age_s``, or
    ``notification_failures_max`` messages failed since the last delivery, or messages wait while the
    SMTP server cannot be reached. Degraded: the SMTP server cannot be reached but nothing waits.
    """
    problems: list[str] = []
    age = outbox["oldest_pending_age_s"]
    if age is not None and age > settings.notification_outbox_max_age_s:
        problems.append(
            f"the oldest e-mail has waited {age:.0f} s (limit {settings.notification_outbox_max_age_s:g} s)"
        )
    if outbox["failures_since_last_delivery"] >= settings.notification_failures_max:
        problems.append(f"{outbox['failures_since_last_delivery']} e-mail(s) failed since the last delivery")
    if outbox["depth"] and smtp["configured"] and smtp["reachable"] is False:
        problems.append("e-mails are waiting and the SMTP server cannot be reached")
    if outbox["depth"] and not smtp["configured"]:
        problems.append("e-mails are waiting and no SMTP server is configured")
    if problems:
        return "failing", problems
    if smtp["configured"] and smtp["reachable"] is False:
        return "degraded", ["the SMTP server cannot be reached"]
    return "ok", []
