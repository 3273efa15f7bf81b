"""Intervention plans: create (one or many), change with a full history, list for the board.

Status moves forward only: ``planned → in_progress → completed``, or ``cancelled`` from ``planned`` or
``in_progress``. Cancelling keeps the plan; nothing is deleted. Every change writes an
``intervention_event`` with who, when and ``{field: [old, new]}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from student_success.db.models import PRIORITIES, Intervention, InterventionEvent, Student, User
from student_success.errors import Conflict, NotFound, RowError, ValidationFailed
from student_success.interventions.catalogue import CATALOGUE
from student_success.services.accounts import build_scope
from student_success.services.scope import Scope, UnknownStudent

OTHER_TYPE = "other"
TRANSITIONS: dict[str, frozenset[str]] = {
    "planned": frozenset({"in_progress", "cancelled"}),
    "in_progress": frozenset({"completed", "cancelled"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
}
OPEN_STATUSES: tuple[str, ...] = ("planned", "in_progress")
TEXT_FIELDS: tuple[str, ...] = ("title", "goal", "notes", "outcome")
EDITABLE: frozenset[str] = frozenset({"status", "priority", "assignee_id", "due_date", "tier", *TEXT_FIELDS})


class UnknownIntervention(NotFound):
    """No intervention with this id is visible to the caller."""


class InvalidTransition(Conflict):
    """A status change the intervention's current status does not allow."""


def _invalid(field: str, message: str, value: Any = None) -> ValidationFailed:
    return ValidationFailed(
        [RowError("intervention", None, field, message, None if value is None else str(value))]
    )


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _check_value(session: Session, field: str, value: Any) -> Any:
    """The validated value of one field; never coerced beyond reading an ISO date."""
    if field == "priority":
        if value not in PRIORITIES:
            raise _invalid(field, f"priority must be one of {', '.join(PRIORITIES)}", value)
    elif field == "tier":
        if value is not None and (isinstance(value, bool) or value not in (1, 2, 3)):
            raise _invalid(field, "tier must be 1, 2 or 3", value)
    elif field == "due_date":
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                raise _invalid(field, "due_date must be a date like 2025-03-31", value) from None
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            raise _invalid(field, "due_date must be a date like 2025-03-31", value)
    elif field == "assignee_id":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise _invalid(field, "assignee_id must be a user id", value)
        user = None if value is None else session.get(User, value)
        if value is not None and (user is None or not user.is_active):
            raise _invalid(field, f"no active user with id {value}", value)
    elif field in TEXT_FIELDS:
        if value is not None and not isinstance(value, str):
            raise _invalid(field, f"{field} must be text", value)
        if field == "title" and not (value or "").strip():
            raise _invalid(field, "the title cannot be empty", value)
    return value


def _check_assignee_sees(session: Session, assignee_id: int | None, student_ids: Iterable[int]) -> None:
    """An owner must be able to see the student: a plan they cannot open would sit on nobody's board."""
    if assignee_id is None:
        return
    user = session.get(User, assignee_id)
    if user is None:
        return  # refused by _check_value already
    wanted = sorted(set(student_ids))
    theirs = build_scope(session, user).student_filter(Student.id)
    visible = set(session.scalars(select(Student.id).where(Student.id.in_(wanted), theirs)))
    hidden = [s for s in wanted if s not in visible]
    if hidden:
        raise _invalid(
            "assignee_id", f"{user.email} cannot see student {', '.join(map(str, hidden))}", assignee_id
        )


def _check_students(session: Session, student_ids: Iterable[int], scope: Scope) -> list[int]:
    wanted = list(dict.fromkeys(student_ids))
    found = set(
        session.scalars(select(Student.id).where(Student.id.in_(wanted), scope.student_filter(Student.id)))
    )
    missing = [i for i in wanted if i not in found]
    if missing:
        raise UnknownStudent(f"student(s) not found: {', '.join(map(str, missing))}")
    return wanted


def create_interventions(
    session: Session,
    student_ids: Iterable[int],
    *,
    scope: Scope,
    type_key: str,
    title: str | None = None,
    tier: int | None = None,
    priority: str = "medium",
    assignee_id: int | None = None,
    due_date: date | None = None,
    goal: str | None = None,
    notes: str | None = None,
    course_id: int | None = None,
    actor_id: int | None = None,
) -> list[Intervention]:
    """Plan the same support for one or many students (all or none are created).

    Args:
        session: the caller's session.
        student_ids: database ids of the students (duplicates are ignored).
        scope: the caller's scope; every student must be visible in it.
        type_key: a key of the intervention catalogue, or ``"other"`` with a ``title``.
        title, tier: default to the catalogue entry's.
        priority, assignee_id, due_date, goal, notes, course_id: the plan's details.
        actor_id: the user acting (recorded in the history).

    Raises:
        UnknownStudent: a student does not exist or is not visible.
        ValidationFailed: an unknown type, priority or tier, an empty title, an unknown assignee.
    """
    kind = CATALOGUE.get(type_key)
    if kind is None and type_key != OTHER_TYPE:
        known = ", ".join([*CATALOGUE, OTHER_TYPE])
        raise _invalid("type_key", f"unknown intervention type; use one of {known}", type_key)
    values: dict[str, Any] = {
        "title": title if title is not None else (kind.title if kind else None),
        "tier": tier if tier is not None else (kind.tier if kind else None),
        "priority": priority,
        "assignee_id": assignee_id,
        "due_date": due_date,
        "goal": goal,
        "notes": notes,
    }
    values = {f: _check_value(session, f, v) for f, v in values.items()}
    ids = _check_students(session, student_ids, scope)
    _check_assignee_sees(session, values["assignee_id"], ids)
    created = []
    for student_id in ids:
        item = Intervention(
            student_id=student_id, course_id=course_id, type_key=type_key, status="planned",
            created_by=actor_id, **values,
        )  # fmt: skip
        changes = {"status": [None, "planned"], "type_key": [None, type_key]}
        changes.update({f: [None, _json(v)] for f, v in values.items() if v is not None})
        item.events.append(InterventionEvent(actor_id=actor_id, changes=changes))
        session.add(item)
        created.append(item)
    session.flush()
    return created


def get_intervention(session: Session, intervention_id: int, *, scope: Scope) -> Intervention:
    """One intervention with its history.

    Raises:
        UnknownIntervention: no such intervention in the caller's scope.
    """
    item = session.scalars(
        select(Intervention)
        .options(selectinload(Intervention.events), selectinload(Intervention.student))
        .where(Intervention.id == intervention_id, scope.student_filter(Intervention.student_id))
    ).first()
    if item is None:
        raise UnknownIntervention(f"intervention {intervention_id} not found")
    return item


def update_intervention(
    session: Session,
    intervention_id: int,
    changes: Mapping[str, Any],
    *,
    scope: Scope,
    actor_id: int | None = None,
) -> Intervention:
    """Apply ``changes`` (field → new value) and record them as one history event.

    Raises:
        UnknownIntervention: no such intervention in the caller's scope.
        ValidationFailed: an unknown field or an invalid value.
        InvalidTransition: a status change the current status does not allow.
    """
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise _invalid(
            unknown[0], f"cannot change {', '.join(unknown)}; editable: {', '.join(sorted(EDITABLE))}"
        )
    item = get_intervention(session, intervention_id, scope=scope)
    if "status" in changes and changes["status"] != item.status:
        new = changes["status"]
        if new not in TRANSITIONS:
            raise _invalid("status", f"status must be one of {', '.join(TRANSITIONS)}", new)
        if new not in TRANSITIONS[item.status]:
            allowed = ", ".join(sorted(TRANSITIONS[item.status])) or "none (it is closed)"
            raise InvalidTransition(
                f"intervention {item.id} is {item.status}: it cannot become {new} (allowed: {allowed})"
            )
    diff: dict[str, list[Any]] = {}
    if changes.get("assignee_id") not in (None, item.assignee_id):
        _check_value(session, "assignee_id", changes["assignee_id"])
        _check_assignee_sees(session, changes["assignee_id"], [item.student_id])
    for field, raw in changes.items():
        value = raw if field == "status" else _check_value(session, field, raw)
        old = getattr(item, field)
        if old != value:
            diff[field] = [_json(old), _json(value)]
            setattr(item, field, value)
    if diff:
        item.events.append(InterventionEvent(actor_id=actor_id, changes=diff))
        item.updated_at = datetime.now(UTC)
    session.flush()
    return item


def _board_conditions(
    scope: Scope,
    *,
    status: str | None,
    assignee_id: int | None,
    overdue: bool | None,
    student_id: int | None,
    today: date,
) -> list[ColumnElement[bool]]:
    conditions = [scope.student_filter(Intervention.student_id)]
    if status is not None:
        if status not in TRANSITIONS:
            raise _invalid("status", f"status must be one of {', '.join(TRANSITIONS)}", status)
        conditions.append(Intervention.status == status)
    if assignee_id is not None:
        conditions.append(Intervention.assignee_id == assignee_id)
    if student_id is not None:
        conditions.append(Intervention.student_id == student_id)
    is_overdue = Intervention.due_date < today
    if overdue is True:
        conditions += [is_overdue, Intervention.status.in_(OPEN_STATUSES)]
    elif overdue is False:
        conditions.append(
            ~(is_overdue & Intervention.status.in_(OPEN_STATUSES)) | Intervention.due_date.is_(None)
        )
    return conditions


def list_interventions(
    session: Session,
    *,
    scope: Scope,
    status: str | None = None,
    assignee_id: int | None = None,
    overdue: bool | None = None,
    student_id: int | None = None,
    today: date | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> tuple[list[Intervention], int]:
    """Interventions for the board (open ones by due date first) and their total.

    Args:
        overdue: ``True`` for open plans past their due date, ``False`` for the others.
        today: the date "overdue" is measured against (default: today, UTC).
    """
    conditions = _board_conditions(
        scope, status=status, assignee_id=assignee_id, overdue=overdue, student_id=student_id,
        today=today or datetime.now(UTC).date(),
    )  # fmt: skip
    total = session.scalar(select(func.count()).select_from(Intervention).where(*conditions)) or 0
    query = (
        select(Intervention)
        .options(selectinload(Intervention.student), selectinload(Intervention.events))
        .where(*conditions)
        .order_by(Intervention.due_date.is_(None), Intervention.due_date, Intervention.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query)), int(total)


def intervention_public(
    item: Intervention, *, today: date | None = None, events: bool = False
) -> dict[str, Any]:
    """An intervention as plain data (what the API and the pages show)."""
    today = today or datetime.now(UTC).date()
    out: dict[str, Any] = {
        "id": item.id,
        "student_id": item.student_id,
        "student_external_id": item.student.external_id,
        "student_name": item.student.display_name,
        "course_id": item.course_id,
        "type_key": item.type_key,
        "title": item.title,
        "tier": item.tier,
        "status": item.status,
        "priority": item.priority,
        "assignee_id": item.assignee_id,
        "due_date": item.due_date,
        "overdue": bool(item.due_date and item.due_date < today and item.status in OPEN_STATUSES),
        "goal": item.goal,
        "notes": item.notes,
        "outcome": item.outcome,
        "created_by": item.created_by,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }
    if events:
        out["events"] = [
            {"id": e.id, "actor_id": e.actor_id, "at": e.at, "changes": e.changes} for e in item.events
        ]
    return out
