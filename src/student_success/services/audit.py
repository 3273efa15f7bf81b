"""The audit trail: who viewed, exported, changed or deleted student data, when, and from where.

Append-only: :func:`record` adds an ``audit_event`` row in the caller's transaction (so an action that
fails and is rolled back leaves no claim that it happened); the ORM refuses to update or delete one.
Events hold ids, action names and counts — never names, passwords, keys or tokens — so the trail
outlives the rows it mentions and can be exported without exposing what it protects.

Action names (``<subject>.<verb>``):

=====================  ===========================================================
``student.list``       a risk list was shown (details: ``count``, ``student_ids``)
``student.view``       one student's page or record
``student.export``     everything stored about one student (privacy export)
``student.delete``     a student's records were deleted
``intervention.*``     ``create``, ``update``, ``view``, ``list``
``import.create``      a file was imported (or its import failed: ``details.status``)
``export.*``           ``risk_list``, ``interventions`` (CSV downloads)
``audit.view``         the audit trail was read; ``audit.export``: downloaded
``user.*``             ``create``, ``list``, ``api_key.create`` (account administration)
=====================  ===========================================================
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from student_success.csvsafe import neutralise_text
from student_success.db.base import utcnow
from student_success.db.models import AuditEvent
from student_success.errors import ValidationFailed

ACTIONS: tuple[str, ...] = (
    "student.list",
    "student.view",
    "student.export",
    "student.delete",
    "feedback.create",
    "intervention.create",
    "intervention.update",
    "intervention.view",
    "intervention.list",
    "import.create",
    "import.view",
    "export.risk_list",
    "export.interventions",
    "audit.view",
    "audit.export",
    "user.create",
    "user.list",
    "user.update",
    "user.disable",
    "user.api_key.create",
    "user.api_key.revoke",
    "privacy.purge_imports",
)
READ_ACTIONS: frozenset[str] = frozenset(
    {
        "student.list", "student.view", "student.export", "intervention.view", "intervention.list",
        "import.view", "export.risk_list", "export.interventions", "audit.view", "audit.export",
        "user.list",
    }
)  # fmt: skip
"""Actions that only read: recorded in a transaction of their own (see ``api.routes.audit.Auditor``)."""
CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "at",
    "actor_id",
    "actor",
    "action",
    "entity",
    "student_id",
    "ip",
    "details",
)
MAX_PAGE = 500
IP_LENGTH = 45  # the column's width: the longest text form of an IPv6 address


class Actor(Protocol):
    """Who acts: the API's ``Principal`` or anything with the same two attributes."""

    @property
    def user_id(self) -> int | None:
        """``app_user.id``, or ``None`` for the system."""

    @property
    def label(self) -> str:
        """A readable name for the trail (e-mail, ``api-key:<prefix>``, ``system``), never a secret."""


@dataclass(frozen=True)
class SystemActor:
    """The system itself (a CLI command or a scheduled job run by the operator)."""

    user_id: int | None = None
    label: str = "system"


def record(
    session: Session,
    principal: Actor,
    action: str,
    *,
    student_id: int | None = None,
    entity: str | None = None,
    ip: str | None = None,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event to the audit trail (flushed, committed by the caller with the action itself).

    Args:
        session: the unit of work of the action being audited.
        principal: who acted.
        action: one of :data:`ACTIONS`.
        student_id: the student concerned, when there is one.
        entity: the object concerned, e.g. ``intervention:42`` or ``import:7``.
        ip: the caller's address.
        details: ids, counts and filters that say what was touched (JSON); never names or secrets.
        at: when it happened (default: now).

    Raises:
        ValueError: ``action`` is not a known action (a programming error, not user input).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(
        at=at or utcnow(),
        actor_id=principal.user_id,
        actor=principal.label,
        action=action,
        entity=entity,
        student_id=student_id,
        ip=ip[:IP_LENGTH] if ip else None,
        details=dict(details) if details else None,
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class AuditFilter:
    """Which events to show.

    Attributes:
        actor: the actor's label, exactly (case-insensitive), e.g. ``teacher@school.org``.
        action: an action name, or a prefix ending in ``.`` (``student.`` for every student action).
        student_id: events about this student.
        since: events at or after this time.
        until: events before this time.
    """

    actor: str | None = None
    action: str | None = None
    student_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE conditions of this filter."""
        out: list[ColumnElement[bool]] = []
        if self.actor:
            out.append(func.lower(AuditEvent.actor) == self.actor.strip().lower())
        if self.action:
            if self.action.endswith("."):
                out.append(AuditEvent.action.startswith(self.action, autoescape=True))
            else:
                out.append(AuditEvent.action == self.action)
        if self.student_id is not None:
            out.append(AuditEvent.student_id == self.student_id)
        if self.since is not None:
            out.append(AuditEvent.at >= self.since)
        if self.until is not None:
            out.append(AuditEvent.at < self.until)
        return out


def _check(flt: AuditFilter) -> None:
    for name, value in (("since", flt.since), ("until", flt.until)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed.single(
                f"give '{name}' with a time zone, e.g. 2026-01-31T00:00:00Z", file="query", column=name
            )
    if flt.since is not None and flt.until is not None and flt.until <= flt.since:
        raise ValidationFailed.single("'until' must be later than 'since'", file="query", column="until")


def _select(flt: AuditFilter) -> Select[AuditEvent]:
    return select(AuditEvent).where(*flt.conditions())


def query(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    student_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[AuditEvent], int]:
    """Audit events matching the filters (see :class:`AuditFilter`), newest first, and their total.

    Raises:
        ValidationFailed: a time without a zone, ``until`` not after ``since``, or a page size
            outside 1–500.
    """
    flt = AuditFilter(actor=actor, action=action, student_id=student_id, since=since, until=until)
    _check(flt)
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed.single(
            f"'limit' must be between 1 and {MAX_PAGE}", file="query", column="limit"
        )
    if offset < 0:
        raise ValidationFailed.single("'offset' must be 0 or more", file="query", column="offset")
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*flt.conditions())) or 0
    rows = session.scalars(
        _select(flt).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)


def iter_events(session: Session, flt: AuditFilter, *, chunk: int = 1000) -> Iterator[AuditEvent]:
    """Every matching event, oldest first, read in chunks (for exports of a long trail)."""
    _check(flt)
    last_id = 0
    while True:
        rows = session.scalars(
            _select(flt).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(chunk)
        ).all()
        yield from rows
        if len(rows) < chunk:
            return
        last_id = rows[-1].id


def event_public(event: AuditEvent) -> dict[str, Any]:
    """An event as plain JSON-ready values."""
    return {
        "id": event.id,
        "at": event.at,
        "actor_id": event.actor_id,
        "actor": event.actor,
        "action": event.action,
        "entity": event.entity,
        "student_id": event.student_id,
        "ip": event.ip,
        "details": event.details,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict | list):
        return neutralise_text(json.dumps(value, sort_keys=True, separators=(",", ":")))
    return neutralise_text(str(value))


def export_csv_rows(session: Session, flt: AuditFilter) -> Iterator[list[str]]:
    """The header and one row per matching event, oldest first, every text cell neutralised."""
    yield list(CSV_COLUMNS)
    for event in iter_events(session, flt):
        public = event_public(event)
        yield [_cell(public[c]) for c in CSV_COLUMNS]


def export_csv(session: Session, flt: AuditFilter) -> tuple[str, int]:
    """The matching events as one CSV document (``\\r\\n`` line ends) and their number."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    rows = -1  # the header
    for row in export_csv_rows(session, flt):
        writer.writerow(row)
        rows += 1
    return buffer.getvalue(), rows
