"""The e-mail delivery worker: claim due outbox rows, send them over SMTP, record the outcome.

This is a job, not library code called inside a request: it owns its short transactions (claim, then
one per message) so that a message is marked sent right after the SMTP server accepted it.

* Claiming: on PostgreSQL ``SELECT … FOR UPDATE SKIP LOCKED`` (workers never wait for nor take each
  other's rows); on SQLite one conditional ``UPDATE … RETURNING`` (SQLite has one writer at a time).
  A row left ``sending`` by a crashed worker is claimed again after ``CLAIM_TIMEOUT``; it is resent
  with the same ``Message-ID``, so the receiving side can recognise the duplicate.
* Failure: ``attempts + 1``, ``last_error``, and the next attempt after an exponential backoff
  (``notification_retry_base_s`` doubling up to ``notification_retry_max_s``); after
  ``notification_max_attempts`` the row is ``failed`` and left for the operator.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from student_success.config import Settings
from student_success.db.base import utcnow
from student_success.db.engine import session_scope
from student_success.db.models import EmailOutbox

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=10)
BATCH_SIZE = 50
SMTP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Outgoing:
    """A claimed message, detached from its session."""

    id: int
    recipient: str
    subject: str
    body_text: str
    body_html: str
    message_id: str
    attempts: int


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    error: str | None = None


def backoff(attempts: int, *, settings: Settings) -> timedelta:
    """Delay before the next attempt after ``attempts`` failed ones (1 → base, 2 → 2 × base, …)."""
    seconds = settings.notification_retry_base_s * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.notification_retry_max_s))


def _due(now: datetime) -> object:
    return or_(
        and_(EmailOutbox.status == "pending", EmailOutbox.next_attempt_at <= now),
        and_(EmailOutbox.status == "sending", EmailOutbox.claimed_at < now - CLAIM_TIMEOUT),
    )


def claim_due(session: Session, *, now: datetime, limit: int = BATCH_SIZE) -> list[Outgoing]:
    """Mark up to ``limit`` due messages ``sending`` and return them (the caller commits the claim)."""
    condition = _due(now)
    if session.get_bind().dialect.name == "postgresql":
        ids = list(
            session.scalars(
                select(EmailOutbox.id)
                .where(condition)  # type: ignore[arg-type]
                .order_by(EmailOutbox.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return []
        chosen = EmailOutbox.id.in_(ids)
    else:
        chosen = EmailOutbox.id.in_(
            select(EmailOutbox.id).where(condition).order_by(EmailOutbox.id).limit(limit)  # type: ignore[arg-type]
        )
    claimed = session.execute(
        update(EmailOutbox)
        .where(chosen, condition)  # type: ignore[arg-type]
        .values(status="sending", claimed_at=now)
        .returning(
            EmailOutbox.id,
            EmailOutbox.recipient,
            EmailOutbox.subject,
            EmailOutbox.body_text,
            EmailOutbox.body_html,
            EmailOutbox.message_id,
            EmailOutbox.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    return sorted((Outgoing(*row) for row in claimed), key=lambda o: o.id)


def build_message(outgoing: Outgoing, *, settings: Settings) -> EmailMessage:
    """The MIME message: plain text with an HTML alternative, and the stored ``Message-ID``."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = outgoing.recipient
    message["Subject"] = outgoing.subject
    message["Message-ID"] = outgoing.message_id
    message.set_content(outgoing.body_text)
    message.add_alternative(outgoing.body_html, subtype="html")
    return message


def open_smtp(settings: Settings, *, timeout: float = SMTP_TIMEOUT_S) -> smtplib.SMTP:
    """A connected (and, when configured, STARTTLS-upgraded and logged-in) SMTP client.

    Raises:
        OSError, smtplib.SMTPException: the server cannot be reached or refuses the session.
    """
    if not settings.smtp_host:
        raise smtplib.SMTPException("SMTP is not configured (SMTP_HOST is unset)")
    client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    try:
        if settings.smtp_starttls:
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            client.login(settings.smtp_username, password)
    except BaseException:
        client.close()
        raise
    return client


def _mark_sent(session: Session, outgoing: Outgoing, *, now: datetime) -> None:
    session.execute(
        update(EmailOutbox)
        .where(EmailOutbox.id == outgoing.id, EmailOutbox.status == "sending")
        .values(
            status="sent", sent_at=now, last_attempt_at=now, attempts=outgoing.attempts + 1, claimed_at=None
        )
        .execution_options(synchronize_session=False)
    )


def _mark_failed(
    session: Session, outgoing: Outgoing, error: str, *, now: datetime, settings: Settings
) -> bool:
    attempts = outgoing.attempts + 1
    gave_up = attempts >= settings.notification_max_attempts
    session.execute(
        update(EmailOutbox)
        .where(EmailOutbox.id == outgoing.id, EmailOutbox.status == "sending")
        .values(
            status="failed" if gave_up else "pending",
            attempts=attempts,
            last_error=error[:500],
            last_attempt_at=now,
            next_attempt_at=now + backoff(attempts, settings=settings),
            claimed_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    return gave_up


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        return f"SMTP {exc.smtp_code}: {detail}"
    return f"{type(exc).__name__}: {exc}"


def deliver_due(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime | None = None,
    limit: int = BATCH_SIZE,
) -> DeliveryReport:
    """Send the due messages once; run it periodically (the app's evaluator, or the CLI from cron).

    Args:
        factory: sessions on the application database.
        settings: SMTP settings and the retry policy.
        now: the current time (tests move it forward to reach a scheduled retry).
        limit: the most messages claimed in one run.
    """
    now = now or utcnow()
    report = DeliveryReport()
    with session_scope(factory) as session:
        claimed = claim_due(session, now=now, limit=limit)
    report.claimed = len(claimed)
    if not claimed:
        return report
    pending = list(claimed)

    def fail_rest(error: str) -> None:
        with session_scope(factory) as session:
            for outgoing in pending:
                report.gave_up += _mark_failed(session, outgoing, error, now=now, settings=settings)
                report.failed += 1
        pending.clear()
        report.error = error

    try:
        client = open_smtp(settings)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("e-mail delivery: SMTP unavailable: %s", _describe(exc))
        fail_rest(_describe(exc))
        return report
    try:
        while pending:
            outgoing = pending[0]
            try:
                client.send_message(build_message(outgoing, settings=settings))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                with session_scope(factory) as session:  # this message only; the session goes on
                    report.gave_up += _mark_failed(
                        session, outgoing, _describe(exc), now=now, settings=settings
                    )
                report.failed += 1
                pending.pop(0)
                continue
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("e-mail delivery: connection lost: %s", _describe(exc))
                fail_rest(_describe(exc))
                break
            with session_scope(factory) as session:  # accepted: record it before anything else
                _mark_sent(session, outgoing, now=now)
            report.sent += 1
            pending.pop(0)
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return report
