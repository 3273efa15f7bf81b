"""Notifications: the caller's inbox, preferences and snoozes, the live stream, and channel health."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import SQLAlchemyError
from sse_starlette import EventSourceResponse

from student_success.api.auth import Principal, PrincipalDep
from student_success.api.deps import EngineDep, SessionDep, SettingsDep
from student_success.db.base import utcnow
from student_success.db.engine import session_scope
from student_success.services.notifications import broker as brokers
from student_success.services.notifications import health, inbox, preferences
from student_success.services.notifications.runner import run_periodically

router = APIRouter(prefix="/notifications", tags=["notifications"])
log = logging.getLogger(__name__)

Channel = Literal["in_app", "email_immediate", "email_digest", "none"]
Rule = Literal["high_risk", "risk_rise", "intervention_overdue", "intervention_stale", "import_failed"]
PING_S = 15


class NotificationPublic(BaseModel):
    """One notification."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    rule: str
    message: str
    link: str | None
    student_id: int | None
    intervention_id: int | None
    created_at: datetime
    read_at: datetime | None


class NotificationsPublic(BaseModel):
    """A page of notifications, the total, and how many are unread."""

    data: list[NotificationPublic]
    count: int
    unread: int
    limit: int
    offset: int


class ReadAllPublic(BaseModel):
    """How many notifications were marked read."""

    marked: int


class PreferencesPublic(BaseModel):
    """Effective preferences; ``own_*`` are the user's overrides (``None``: the system default)."""

    channel: Channel
    risk_rise_points: float
    stale_days: int
    admin_opt_in: bool
    own_risk_rise_points: float | None
    own_stale_days: int | None


class PreferencesUpdate(BaseModel):
    """New preferences; leave a threshold out (or null) to use the system default."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel
    risk_rise_points: float | None = Field(default=None, gt=0, le=100)
    stale_days: int | None = Field(default=None, ge=1, le=365)
    admin_opt_in: bool = False


class SnoozeCreate(BaseModel):
    """Pause alerts about one student, or of one rule, for a number of days."""

    model_config = ConfigDict(extra="forbid")

    student_id: int | None = None
    rule: Rule | None = None
    days: float = Field(default=7, gt=0, le=365)


class SnoozePublic(BaseModel):
    """A snooze in force."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    student_id: int | None
    rule: str | None
    until: datetime


def user_id_of(principal: Principal) -> int:
    """The caller's user id; notifications belong to user accounts."""
    if principal.user_id is None:
        raise HTTPException(403, "notifications belong to a user account: sign in as a user")
    return principal.user_id


@router.get("", response_model=NotificationsPublic)
def list_notifications(
    session: SessionDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    unread_only: bool = False,
) -> NotificationsPublic:
    """The caller's notifications, newest first, with the unread count."""
    user_id = user_id_of(principal)
    rows, total = inbox.list_notifications(
        session, user_id, scope=principal.scope, unread_only=unread_only, limit=limit, offset=offset
    )
    return NotificationsPublic(
        data=[NotificationPublic.model_validate(r) for r in rows],
        count=total,
        unread=inbox.unread_count(session, user_id, scope=principal.scope),
        limit=limit,
        offset=offset,
    )


@router.post("/read-all", response_model=ReadAllPublic)
def read_all(session: SessionDep, principal: PrincipalDep) -> ReadAllPublic:
    """Mark every notification of the caller read."""
    marked = inbox.mark_all_read(session, user_id_of(principal), scope=principal.scope, now=utcnow())
    return ReadAllPublic(marked=marked)


@router.post("/{notification_id}/read", response_model=NotificationPublic)
def read_one(notification_id: int, session: SessionDep, principal: PrincipalDep) -> NotificationPublic:
    """Mark one notification read."""
    user_id = user_id_of(principal)
    row = inbox.mark_read(session, user_id, notification_id, scope=principal.scope, now=utcnow())
    return NotificationPublic.model_validate(row)


def _preferences_public(prefs: preferences.Preferences) -> PreferencesPublic:
    return PreferencesPublic(
        channel=prefs.channel,  # type: ignore[arg-type]
        risk_rise_points=prefs.risk_rise_points,
        stale_days=prefs.stale_days,
        admin_opt_in=prefs.admin_opt_in,
        own_risk_rise_points=prefs.own_risk_rise_points,
        own_stale_days=prefs.own_stale_days,
    )


@router.get("/preferences", response_model=PreferencesPublic)
def get_preferences(session: SessionDep, principal: PrincipalDep, settings: SettingsDep) -> PreferencesPublic:
    """The caller's notification preferences."""
    return _preferences_public(preferences.get_preferences(session, user_id_of(principal), settings=settings))


@router.put("/preferences", response_model=PreferencesPublic)
def put_preferences(
    body: PreferencesUpdate, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> PreferencesPublic:
    """Change the caller's channel, thresholds and (administrators) opt-in to every student."""
    prefs = preferences.update_preferences(
        session,
        user_id_of(principal),
        settings=settings,
        channel=body.channel,
        risk_rise_points=body.risk_rise_points,
        stale_days=body.stale_days,
        admin_opt_in=body.admin_opt_in and principal.is_admin,
    )
    return _preferences_public(prefs)


@router.get("/snoozes", response_model=list[SnoozePublic])
def list_snoozes(session: SessionDep, principal: PrincipalDep) -> list[SnoozePublic]:
    """The caller's snoozes still in force."""
    rows = preferences.list_snoozes(session, user_id_of(principal), now=utcnow())
    return [SnoozePublic.model_validate(r) for r in rows]


@router.post("/snoozes", response_model=SnoozePublic, status_code=201)
def create_snooze(body: SnoozeCreate, session: SessionDep, principal: PrincipalDep) -> SnoozePublic:
    """Pause alerts about a student (one the caller may see) or of a rule."""
    now = utcnow()
    row = preferences.snooze(
        session,
        user_id_of(principal),
        scope=principal.scope,
        until=now + timedelta(days=body.days),
        now=now,
        student_id=body.student_id,
        rule=body.rule,
    )
    return SnoozePublic.model_validate(row)


@router.delete("/snoozes/{snooze_id}", status_code=204)
def delete_snooze(snooze_id: int, session: SessionDep, principal: PrincipalDep) -> Response:
    """End a snooze."""
    preferences.unsnooze(session, user_id_of(principal), snooze_id)
    return Response(status_code=204)


@router.get("/stream", response_class=EventSourceResponse)
async def stream(request: Request, session: SessionDep, principal: PrincipalDep) -> EventSourceResponse:
    """Server-sent events: ``unread`` on connect, then each new ``notification`` of the caller."""
    user_id = user_id_of(principal)
    broker: brokers.Broker | None = getattr(request.app.state, "notification_broker", None)
    if broker is None:
        raise HTTPException(503, "live updates are not running")
    unread = await run_in_threadpool(inbox.unread_count, session, user_id, scope=principal.scope)
    hub = broker.hub
    queue = hub.subscribe(user_id)

    async def events() -> AsyncIterator[dict[str, Any]]:
        try:
            yield {"event": "unread", "data": json.dumps({"unread": unread})}
            while True:
                payload = await queue.get()
                yield {"event": "notification", "id": str(payload.get("id")), "data": json.dumps(payload)}
        finally:
            hub.unsubscribe(user_id, queue)

    return EventSourceResponse(events(), ping=PING_S, headers={"Cache-Control": "no-store"})


@router.get("/health")
def notifications_health(request: Request, engine: EngineDep, settings: SettingsDep) -> Response:
    """Channel status (SMTP, outbox, live connections); 503 when delivery is failing. No sign-in needed."""
    broker: brokers.Broker | None = getattr(request.app.state, "notification_broker", None)
    realtime = {
        "broker": broker.name if broker else None,
        "listening": broker.listening if broker else False,
        "connections": broker.hub.connections if broker else 0,
    }
    smtp = health.smtp_status(settings)
    try:
        with session_scope(engine) as session:
            outbox = health.outbox_status(session, now=utcnow())
    except SQLAlchemyError as exc:
        log.error("notifications health: database unavailable: %s", exc)
        problems = ["the database is unavailable"]
        body = {"status": "failing", "problems": problems, "smtp": smtp, "realtime": realtime}
        return JSONResponse(body, status_code=503)
    status, problems = health.assess(outbox, smtp, settings=settings)
    body = {"status": status, "problems": problems, "smtp": smtp, "outbox": outbox, "realtime": realtime}
    return JSONResponse(body, status_code=503 if status == "failing" else 200)


@asynccontextmanager
async def notifications_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the live-update broker and the periodic evaluator; stop both at shut-down."""
    state = app.state
    settings = state.settings
    broker = brokers.make_broker(state.engine, redis_url=settings.redis_url)
    try:
        await broker.start()
    except Exception as exc:  # a bad REDIS_URL must not stop the app: pages fall back to reloads
        log.error("live updates: %s broker did not start (%s); using this process only", broker.name, exc)
        broker = brokers.LocalBroker()
        await broker.start()
    brokers.attach(state.engine, broker)
    state.notification_broker = broker
    task = None
    if settings.notification_interval_s > 0:
        task = asyncio.create_task(run_periodically(state.session_factory, settings))
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        brokers.detach(state.engine)
        await broker.stop()
