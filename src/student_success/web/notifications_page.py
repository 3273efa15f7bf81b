"""``/notifications``: the signed-in user's notifications, preferences and snoozes; the header's bell."""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from student_success.api.auth import Principal, PrincipalDep
from student_success.api.deps import SessionDep, SettingsDep
from student_success.db.base import utcnow
from student_success.db.engine import session_scope
from student_success.errors import NotFound, ValidationFailed
from student_success.services.notifications import inbox, preferences
from student_success.web.common import error_page, optional_int, render, see_other, templates

router = APIRouter()
log = logging.getLogger(__name__)
PAGE_SIZE = 25
SNOOZE_DAYS = 7


def unread_notifications(request: Request) -> int | None:
    """The signed-in user's unread count for the bell (``None``: no user, or the database is down)."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal) or principal.user_id is None:
        return None
    factory: sessionmaker[Session] = request.app.state.session_factory
    try:
        with session_scope(factory) as session:
            return inbox.unread_count(session, principal.user_id, scope=principal.scope)
    except SQLAlchemyError as exc:
        log.warning("bell: unread count unavailable: %s", exc)
        return None


templates.env.globals["unread_notifications"] = unread_notifications


def _no_account(request: Request) -> Response:
    return error_page(
        request,
        title="Notifications need a user account",
        message="Notifications belong to a person: sign in with your own account to see yours.",
        status_code=403,
    )


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    page: str = "1",
    saved: str = "",
) -> Response:
    """The user's notifications (newest first), their preferences and their snoozes."""
    if principal.user_id is None:
        return _no_account(request)
    page_no = max(optional_int(page) or 1, 1)
    rows, total = inbox.list_notifications(
        session, principal.user_id, scope=principal.scope, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE
    )
    now = utcnow()
    return render(
        request,
        "notifications.html",
        {
            "title": "Notifications",
            "rows": rows,
            "total": total,
            "unread": inbox.unread_count(session, principal.user_id, scope=principal.scope),
            "page": page_no,
            "pages": max(math.ceil(total / PAGE_SIZE), 1),
            "prefs": preferences.get_preferences(session, principal.user_id, settings=settings),
            "channels": list(preferences.CHANNEL_WORDS.items()),
            "rule_words": preferences.RULE_WORDS,
            "snoozes": preferences.list_snoozes(session, principal.user_id, now=now),
            "snooze_days": SNOOZE_DAYS,
            "is_admin": principal.is_admin,
            "saved": saved,
            "errors": {},
        },
    )


@router.post("/notifications/read-all", response_class=HTMLResponse)
def read_all(session: SessionDep, principal: PrincipalDep, request: Request) -> Response:
    """Mark every notification read."""
    if principal.user_id is None:
        return _no_account(request)
    inbox.mark_all_read(session, principal.user_id, scope=principal.scope, now=utcnow())
    return see_other("/notifications", saved="read")


@router.post("/notifications/{notification_id}/read", response_class=HTMLResponse)
def read_one(
    notification_id: int, session: SessionDep, principal: PrincipalDep, request: Request
) -> Response:
    """Mark one notification read."""
    if principal.user_id is None:
        return _no_account(request)
    try:
        inbox.mark_read(session, principal.user_id, notification_id, scope=principal.scope, now=utcnow())
    except NotFound:
        return error_page(
            request, title="Notification not found", message="It may have been removed.", status_code=404
        )
    return see_other("/notifications", saved="read")


@router.post("/notifications/preferences", response_class=HTMLResponse)
def save_preferences(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    channel: Annotated[str, Form()],
    risk_rise_points: Annotated[str, Form()] = "",
    stale_days: Annotated[str, Form()] = "",
    admin_opt_in: Annotated[str, Form()] = "",
) -> Response:
    """Save the channel, the user's own thresholds and (administrators) the opt-in."""
    if principal.user_id is None:
        return _no_account(request)
    try:
        preferences.update_preferences(
            session,
            principal.user_id,
            settings=settings,
            channel=channel,
            risk_rise_points=_number(risk_rise_points, "risk_rise_points"),
            stale_days=optional_int(stale_days) if stale_days.strip() else None,
            admin_opt_in=principal.is_admin and admin_opt_in == "on",
        )
    except ValidationFailed as exc:
        message = "; ".join(f"{e.column}: {e.message}" for e in exc.errors)
        return error_page(request, title="The preferences were not saved", message=message, status_code=422)
    return see_other("/notifications", saved="preferences")


def _number(raw: str, field: str) -> float | None:
    if not raw.strip():
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValidationFailed.single("must be a number", file="preferences", column=field) from None


@router.post("/notifications/snoozes", response_class=HTMLResponse)
def snooze(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    student_id: Annotated[str, Form()] = "",
    rule: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = str(SNOOZE_DAYS),
) -> Response:
    """Pause alerts about a student, or of a rule."""
    if principal.user_id is None:
        return _no_account(request)
    now = utcnow()
    length = min(max(optional_int(days) or SNOOZE_DAYS, 1), 365)
    try:
        preferences.snooze(
            session,
            principal.user_id,
            scope=principal.scope,
            until=now + timedelta(days=length),
            now=now,
            student_id=optional_int(student_id),
            rule=rule or None,
        )
    except NotFound:
        return error_page(
            request, title="Student not found", message="You cannot see this student.", status_code=404
        )
    except ValidationFailed as exc:
        message = "; ".join(e.message for e in exc.errors)
        return error_page(request, title="Nothing was snoozed", message=message, status_code=422)
    return see_other("/notifications", saved="snoozed")


@router.post("/notifications/snoozes/{snooze_id}/delete", response_class=HTMLResponse)
def unsnooze(snooze_id: int, request: Request, session: SessionDep, principal: PrincipalDep) -> Response:
    """End a snooze."""
    if principal.user_id is None:
        return _no_account(request)
    try:
        preferences.unsnooze(session, principal.user_id, snooze_id)
    except NotFound:
        return error_page(
            request, title="Snooze not found", message="It may have ended already.", status_code=404
        )
    return see_other("/notifications", saved="unsnoozed")
