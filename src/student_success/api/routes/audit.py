"""The audit trail: the ``AuditDep`` every route records with, and the administrators' read and export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from student_success.api.auth import AdminDep, Principal, PrincipalDep
from student_success.api.deps import SessionDep
from student_success.db.engine import session_scope
from student_success.services import audit
from student_success.services.audit import AuditFilter

router = APIRouter(prefix="/audit", tags=["audit"])
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}, "description": "a CSV file"}}


def client_ip(request: Request) -> str | None:
    """The caller's address as the server saw it (the proxy's, behind a reverse proxy)."""
    return request.client.host if request.client else None


@dataclass
class Auditor:
    """Records events for one request: its caller, its address and its unit of work.

    A change is recorded in the request's own transaction (the event lands with the change or not at
    all). A view, list or export is kept aside and written by :func:`flush_read_audits` in a short
    transaction of its own once the request's session is closed, before the data leaves the server:
    reading pages stay read-only transactions (which never conflict with writers on SQLite), and a
    request never holds two pooled connections at once.
    """

    session: Session
    principal: Principal
    ip: str | None
    pending: list[dict[str, Any]]

    def __call__(
        self,
        action: str,
        *,
        student_id: int | None = None,
        entity: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append an event."""
        event: dict[str, Any] = {
            "action": action, "student_id": student_id, "entity": entity, "details": details,
        }  # fmt: skip
        if action in audit.READ_ACTIONS:
            self.pending.append({"principal": self.principal, "ip": self.ip, **event})
        else:
            audit.record(self.session, self.principal, ip=self.ip, **event)


def get_auditor(request: Request, session: SessionDep, principal: PrincipalDep) -> Auditor:
    """The request's auditor."""
    if not hasattr(request.state, "read_audits"):
        request.state.read_audits = []
    pending: list[dict[str, Any]] = request.state.read_audits
    return Auditor(session=session, principal=principal, ip=client_ip(request), pending=pending)


def flush_read_audits(request: Request) -> Iterator[None]:
    """After a route succeeded and its session closed: write the views it recorded, then let it answer.

    Installed on the whole app (``FastAPI(dependencies=…)``), so it is set up before and torn down
    after every route's own session. A route that raised records nothing; when the write fails the
    request fails too, so no data leaves without its audit event.
    """
    yield
    pending: list[dict[str, Any]] = getattr(request.state, "read_audits", [])
    if not pending:
        return
    factory: sessionmaker[Session] = request.app.state.session_factory
    with session_scope(factory) as session:
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        for event in pending:
            audit.record(session, **event)
    pending.clear()


AuditDep = Annotated[Auditor, Depends(get_auditor)]


class AuditEventPublic(BaseModel):
    """One audit event."""

    id: int
    at: datetime
    actor_id: int | None
    actor: str | None
    action: str
    entity: str | None
    student_id: int | None
    ip: str | None
    details: dict[str, Any] | None


class AuditEventsPublic(BaseModel):
    """A page of audit events, newest first."""

    data: list[AuditEventPublic]
    count: int
    limit: int
    offset: int


Actor = Annotated[str | None, Query(max_length=320, description="the actor's e-mail or api-key:<prefix>")]
Action = Annotated[str | None, Query(max_length=64, description="an action, or a prefix such as 'student.'")]
Since = Annotated[datetime | None, Query(description="from this time (ISO 8601 with a zone)")]
Until = Annotated[datetime | None, Query(description="before this time (ISO 8601 with a zone)")]


def audit_filter(
    actor: Actor = None,
    action: Action = None,
    student_id: int | None = None,
    since: Since = None,
    until: Until = None,
) -> AuditFilter:
    """The filter given in the query string."""
    return AuditFilter(actor=actor, action=action, student_id=student_id, since=since, until=until)


FilterDep = Annotated[AuditFilter, Depends(audit_filter)]


def _filters(flt: AuditFilter) -> dict[str, Any]:
    """The filter as the audit event of the query records it."""
    given = {"actor": flt.actor, "action": flt.action, "student_id": flt.student_id,
             "since": flt.since, "until": flt.until}  # fmt: skip
    return {
        "filters": {
            k: v.isoformat() if isinstance(v, datetime) else v for k, v in given.items() if v is not None
        }
    }


@router.get("", response_model=AuditEventsPublic)
def list_events(
    session: SessionDep,
    admin: AdminDep,
    record: AuditDep,
    flt: FilterDep,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Audit events, newest first; filter by actor, action, student and time (administrators only)."""
    rows, total = audit.query(
        session, actor=flt.actor, action=flt.action, student_id=flt.student_id, since=flt.since,
        until=flt.until, limit=limit, offset=offset,
    )  # fmt: skip
    record("audit.view", details={"count": len(rows), **_filters(flt)})
    return {"data": [audit.event_public(r) for r in rows], "count": total, "limit": limit, "offset": offset}


@router.get("/export.csv", response_class=Response, responses=CSV)
def export_events(session: SessionDep, admin: AdminDep, record: AuditDep, flt: FilterDep) -> Response:
    """The matching audit events as CSV, oldest first (administrators only); the export is audited."""
    text, rows = audit.export_csv(session, flt)
    record("audit.export", details={"rows": rows, **_filters(flt)})
    return Response(
        content=text.encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
