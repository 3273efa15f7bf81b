"""E-mails of notifications: written into the outbox, never sent here (see ``delivery.py``).

An e-mail says no more than the in-app message the recipient may already see, plus a link back to the
student in the app (``public_base_url``). Each outbox row gets its ``Message-ID`` once, when written, so
a message resent after a crash carries the same id.
"""

from __future__ import annotations

import html
from datetime import datetime
from email.utils import make_msgid, parseaddr
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from student_success.config import Settings
from student_success.db.models import EmailOutbox, Notification, NotificationPreference, User
from student_success.services.notifications.dedup import insert_ignoring_duplicate

SUBJECT_PREFIX = "Student Success"


def mail_domain(settings: Settings) -> str:
    """The domain of generated Message-IDs: the sender's, else the app's host."""
    _, address = parseaddr(settings.smtp_from)
    if "@" in address:
        return address.rsplit("@", 1)[1]
    return urlsplit(settings.public_base_url).hostname or "localhost"


def absolute_link(settings: Settings, link: str | None) -> str:
    """``link`` (a path in the app) as a full URL."""
    base = settings.public_base_url.rstrip("/")
    return f"{base}{link or '/notifications'}"


def _footer_text(settings: Settings) -> str:
    return (
        "You receive this because of your notification preferences: "
        f"{absolute_link(settings, '/notifications')}"
    )


def _footer_html(settings: Settings) -> str:
    url = html.escape(absolute_link(settings, "/notifications"))
    link = f'<a href="{url}">notification preferences</a>'
    return f"<p><small>You receive this because of your {link}.</small></p>"


def enqueue_notification_email(
    session: Session, notification: Notification, user: User, *, settings: Settings, now: datetime
) -> EmailOutbox:
    """Write one notification's e-mail into the outbox and mark the notification e-mailed."""
    url = absolute_link(settings, notification.link)
    text = f"{notification.message}\n\nOpen in Student Success: {url}\n\n-- \n{_footer_text(settings)}\n"
    body = (
        f"<p>{html.escape(notification.message)}</p>"
        f'<p><a href="{html.escape(url)}">Open in Student Success</a></p>{_footer_html(settings)}'
    )
    row = EmailOutbox(
        user_id=user.id,
        notification_id=notification.id,
        recipient=user.email,
        subject=f"{SUBJECT_PREFIX}: {notification.message}"[:255],
        body_text=text,
        body_html=_html_page(body),
        message_id=make_msgid(idstring=f"notification-{notification.id}", domain=mail_domain(settings)),
        next_attempt_at=now,
    )
    session.add(row)
    notification.emailed_at = now
    session.flush()
    return row


def _html_page(body: str) -> str:
    return f'<!doctype html><html lang="en"><body>{body}</body></html>'


def compose_digests(session: Session, *, settings: Settings, now: datetime) -> int:
    """Write today's digest e-mail for each user who chose one and has notifications not yet e-mailed.

    Nothing happens before ``notification_digest_hour`` (UTC). A digest's ``Message-ID`` names the user
    and the day and is unique in the outbox, so two workers composing at once write it once.

    Returns:
        The number of digests written.
    """
    if now.hour < settings.notification_digest_hour:
        return 0
    users = session.scalars(
        select(User)
        .join(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(NotificationPreference.channel == "email_digest", User.is_active)
        .order_by(User.id)
    ).all()
    written = 0
    for user in users:
        pending = session.scalars(
            select(Notification)
            .where(
                Notification.user_id == user.id,
                Notification.emailed_at.is_(None),
                Notification.created_at <= now,
            )
            .order_by(Notification.id)
        ).all()
        if not pending:
            continue
        message_id = f"<digest-{user.id}-{now:%Y%m%d}@{mail_domain(settings)}>"
        lines = [f"- {n.message}\n  {absolute_link(settings, n.link)}" for n in pending]
        items = "".join(
            f'<li>{html.escape(n.message)} <a href="{html.escape(url)}">Open</a></li>'
            for n, url in ((n, absolute_link(settings, n.link)) for n in pending)
        )
        count = f"{len(pending)} notification{'s' if len(pending) != 1 else ''}"
        inserted = insert_ignoring_duplicate(
            session,
            EmailOutbox,
            {
                "user_id": user.id,
                "recipient": user.email,
                "subject": f"{SUBJECT_PREFIX}: {count} for {now:%Y-%m-%d}",
                "body_text": f"{count}:\n\n" + "\n".join(lines) + f"\n\n-- \n{_footer_text(settings)}\n",
                "body_html": _html_page(f"<p>{count}:</p><ul>{items}</ul>{_footer_html(settings)}"),
                "message_id": message_id,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            },
            conflict_columns=["message_id"],
        )
        if inserted is None:
            continue
        session.execute(
            update(Notification)
            .where(Notification.id.in_([n.id for n in pending]))
            .values(emailed_at=now)
            .execution_options(synchronize_session=False)
        )
        written += 1
    session.flush()
    return written
