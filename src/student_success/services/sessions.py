"""Signing in with a password: server-side sessions and throttling of failed attempts.

A session is a random token in an ``HttpOnly`` cookie; the database keeps only its SHA-256, its user
and its expiry. Every sign-in makes a new token (an attacker who planted a token in a browser before
the sign-in gains nothing), and signing out deletes the row.

Failed sign-ins are counted per e-mail and per client address over the last
``login_lockout_minutes``. At ``login_max_failures`` failures for an e-mail (or
``login_max_failures_per_address`` for an address) further attempts are refused, without checking the
password, until the oldest counted failure is older than the window.
"""

from __future__ import annotations

import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from student_success.config import Settings
from student_success.db.base import utcnow
from student_success.db.models import LoginFailure, User, UserSession
from student_success.errors import StudentSuccessError
from student_success.services.accounts import (
    Identity,
    find_user,
    identity_of,
    sha256_hex,
    verify_password,
)


class LoginLocked(StudentSuccessError):
    """Too many failed sign-ins for this e-mail or address; ``retry_after`` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            f"too many failed sign-ins: try again in {minutes} minute{'s' if minutes != 1 else ''}"
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignIn:
    """A successful sign-in: the user and the new session token (for the cookie, never stored)."""

    user: User
    token: str
    expires_at: datetime


def new_session(
    session: Session, user: User, *, hours: float, ip: str | None = None, now: datetime | None = None
) -> SignIn:
    """Start a session for ``user`` with a fresh random token; expired sessions are cleared on the way."""
    now = now or utcnow()
    session.execute(delete(UserSession).where(UserSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=hours)
    session.add(UserSession(user_id=user.id, token_hash=sha256_hex(token), expires_at=expires_at, ip=ip))
    user.last_login_at = now
    session.flush()
    return SignIn(user=user, token=token, expires_at=expires_at)


def resolve_session(session: Session, token: str, *, now: datetime | None = None) -> Identity | None:
    """The identity a session token belongs to, or ``None`` (unknown, expired, or user disabled).

    One lookup by the token's SHA-256 (unique index), joined to the user.
    """
    now = now or utcnow()
    row = session.execute(
        select(UserSession.expires_at, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == sha256_hex(token))
    ).first()
    if row is None:
        return None
    expires_at, user = row
    if expires_at <= now or not user.is_active:
        return None
    return identity_of(session, user)


def end_session(session: Session, token: str) -> bool:
    """Delete the session with this token (sign out); whether there was one."""
    result = session.execute(delete(UserSession).where(UserSession.token_hash == sha256_hex(token)))
    return bool(getattr(result, "rowcount", 0))


def csrf_token(secret: str, session_token: str) -> str:
    """The CSRF token of a session: an HMAC of its token, so it cannot be made without both."""
    return hmac.new(secret.encode(), b"csrf:" + session_token.encode(), "sha256").hexdigest()


def csrf_matches(secret: str, session_token: str, candidate: str | None) -> bool:
    """Whether ``candidate`` is the session's CSRF token (constant-time comparison)."""
    return bool(candidate) and hmac.compare_digest(csrf_token(secret, session_token), str(candidate))


def _retry_after(
    session: Session,
    where: ColumnElement[bool],
    limit: int,
    since: datetime,
    window: timedelta,
    now: datetime,
) -> int:
    """Seconds until fewer than ``limit`` failures matching ``where`` remain in the window (0: not locked)."""
    count = int(
        session.scalar(select(func.count()).select_from(LoginFailure).where(where, LoginFailure.at > since))
        or 0
    )
    if count < limit:
        return 0
    # the lock lifts when the failure that brings the count below the limit leaves the window
    times = session.scalars(
        select(LoginFailure.at).where(where, LoginFailure.at > since).order_by(LoginFailure.at)
    ).all()
    pivot = times[count - limit]
    return max(1, math.ceil((pivot + window - now).total_seconds()))


def check_not_locked(session: Session, email: str, ip: str, *, settings: Settings, now: datetime) -> None:
    """Refuse the attempt when the e-mail or the address has too many recent failures.

    Raises:
        LoginLocked: locked, with the seconds until it lifts.
    """
    window = timedelta(minutes=settings.login_lockout_minutes)
    since = now - window
    wait = max(
        _retry_after(session, LoginFailure.email == email, settings.login_max_failures, since, window, now),
        _retry_after(
            session, LoginFailure.ip == ip, settings.login_max_failures_per_address, since, window, now
        ),
    )
    if wait:
        raise LoginLocked(wait)


def sign_in(
    session: Session,
    email: str,
    password: str,
    *,
    ip: str,
    settings: Settings,
    now: datetime | None = None,
) -> SignIn | None:
    """Check an e-mail and password; on success start a new session, else record the failure.

    Returns:
        The sign-in, or ``None`` when the e-mail or password is wrong (or the user is disabled).

    Raises:
        LoginLocked: too many recent failures for this e-mail or address (the password is not checked).
    """
    now = now or utcnow()
    address = email.strip().lower()[:320]
    ip = ip[:45]
    check_not_locked(session, address, ip, settings=settings, now=now)
    user = find_user(session, address) if address else None
    if not verify_password(user, password) or user is None:
        window = timedelta(minutes=settings.login_lockout_minutes)
        session.execute(delete(LoginFailure).where(LoginFailure.at <= now - window))
        session.add(LoginFailure(email=address, ip=ip, at=now))
        session.flush()
        return None
    session.execute(delete(LoginFailure).where(LoginFailure.email == address))
    return new_session(session, user, hours=settings.session_hours, ip=ip, now=now)
