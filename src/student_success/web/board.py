"""The interventions board: plans grouped by status, filters, and status changes one by one or in bulk."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from student_success.api.auth import ScopeDep
from student_success.api.deps import SessionDep
from student_success.api.routes.audit import AuditDep
from student_success.db.models import User
from student_success.errors import NotFound, ValidationFailed
from student_success.services import interventions
from student_success.services.interventions import TRANSITIONS, InvalidTransition, intervention_public
from student_success.web.common import error_page, optional_int, render, see_other, today
from student_success.web.formatting import STATUS_WORDS

router = APIRouter()
BULK_ACTIONS: list[tuple[str, str]] = [
    ("in_progress", "Start"),
    ("completed", "Mark completed"),
    ("cancelled", "Cancel"),
]


ASSIGN_PREFIX = "assign:"


def staff(session: Session) -> dict[int, str]:
    """Everyone who can own a plan (active accounts), by id: their name, or their e-mail."""
    rows = session.execute(
        select(User.id, User.display_name, User.email).where(User.is_active).order_by(User.email)
    )
    return {i: name or email for i, name, email in rows}


def _filters(status: str, assignee: str, overdue: str) -> dict[str, Any]:
    return {
        "status": status if status in TRANSITIONS else None,
        "assignee_id": optional_int(assignee),
        "overdue": {"yes": True, "no": False}.get(overdue),
    }


@router.get("/interventions", response_class=HTMLResponse)
def board_page(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    record: AuditDep,
    status: str = "",
    assignee: str = "",
    overdue: str = "",
    updated: str = "",
    skipped: str = "",
) -> Response:
    """Every plan, grouped by status; open plans by due date first."""
    flt = _filters(status, assignee, overdue)
    items, total = interventions.list_interventions(session, scope=scope, limit=None, today=today(), **flt)
    plans = [intervention_public(i, today=today()) for i in items]
    record(
        "intervention.list", details={"count": total, "student_ids": sorted({i.student_id for i in items})}
    )
    every, _ = interventions.list_interventions(session, scope=scope, limit=None)
    assignees = sorted({i.assignee_id for i in every if i.assignee_id is not None})
    assignee_options = [("", "Anyone")]
    if scope.user_id is not None:
        assignee_options.append((str(scope.user_id), "Me"))
    people = staff(session)
    assignee_options += [(str(a), people.get(a, f"User {a}")) for a in assignees if a != scope.user_id]
    give = [
        (f"{ASSIGN_PREFIX}{i}", f"Give to {'me' if i == scope.user_id else name}")
        for i, name in people.items()
    ]
    columns = [(s, STATUS_WORDS[s], [p for p in plans if p["status"] == s]) for s in TRANSITIONS]
    return render(
        request,
        "board.html",
        {
            "title": "Interventions",
            "columns": columns,
            "total": total,
            "transitions": {k: sorted(v, key=list(TRANSITIONS).index) for k, v in TRANSITIONS.items()},
            "query": {"status": status, "assignee": assignee, "overdue": overdue},
            "status_options": [("", "Any status"), *STATUS_WORDS.items()],
            "assignee_options": assignee_options,
            "overdue_options": [("", "Overdue or not"), ("yes", "Overdue only"), ("no", "Not overdue")],
            "bulk_actions": [*BULK_ACTIONS, *give],
            "people": people,
            "updated": optional_int(updated),
            "skipped": optional_int(skipped),
        },
    )


@router.post("/interventions/{intervention_id}/status", response_class=HTMLResponse)
def change_status(
    request: Request,
    intervention_id: int,
    session: SessionDep,
    scope: ScopeDep,
    record: AuditDep,
    status: Annotated[str, Form()],
    outcome: Annotated[str, Form()] = "",
) -> Response:
    """Move one plan to a new status (with its outcome, when one is given), then show the board again."""
    changes = {"status": status, **({"outcome": outcome.strip()} if outcome.strip() else {})}
    try:
        item = interventions.update_intervention(
            session, intervention_id, changes, scope=scope, actor_id=scope.user_id
        )
    except NotFound:
        return error_page(request, title="Plan not found", message="This plan does not exist, or you "
                          "cannot see it.", status_code=404)  # fmt: skip
    except (InvalidTransition, ValidationFailed):
        return see_other("/interventions", updated=0, skipped=1)
    record("intervention.update", student_id=item.student_id, entity=f"intervention:{intervention_id}",
           details={"fields": sorted(changes)})  # fmt: skip
    return see_other("/interventions", updated=1)


@router.post("/interventions/bulk", response_class=HTMLResponse)
def bulk_status(
    session: SessionDep,
    scope: ScopeDep,
    record: AuditDep,
    status: Annotated[str, Form()],
    ids: Annotated[list[int] | None, Form()] = None,
) -> Response:
    """Move every selected plan to a status, or give it to an owner; the others are left as they are."""
    changes: dict[str, Any] = {"status": status}
    if status.startswith(ASSIGN_PREFIX):
        changes = {"assignee_id": optional_int(status.removeprefix(ASSIGN_PREFIX)) or -1}
    done = skipped = 0
    for intervention_id in dict.fromkeys(ids or []):
        try:
            item = interventions.update_intervention(
                session, intervention_id, changes, scope=scope, actor_id=scope.user_id
            )
        except (InvalidTransition, ValidationFailed, NotFound):
            skipped += 1  # nothing was changed on this plan: each check runs before any write
        else:
            done += 1
            entity = f"intervention:{intervention_id}"
            record(
                "intervention.update",
                student_id=item.student_id,
                entity=entity,
                details={"fields": sorted(changes)},
            )
    return see_other("/interventions", updated=done, skipped=skipped)


@router.post("/interventions/{intervention_id}/owner", response_class=HTMLResponse)
def give_to(
    request: Request,
    intervention_id: int,
    session: SessionDep,
    scope: ScopeDep,
    record: AuditDep,
    assignee_id: Annotated[str, Form()] = "",
) -> Response:
    """Give one plan to an owner (someone who can see the student), then show the board again."""
    owner = optional_int(assignee_id)
    try:
        item = interventions.update_intervention(
            session, intervention_id, {"assignee_id": owner}, scope=scope, actor_id=scope.user_id
        )
    except NotFound:
        return error_page(request, title="Plan not found", message="This plan does not exist, or you "
                          "cannot see it.", status_code=404)  # fmt: skip
    except ValidationFailed as exc:
        message = exc.errors[0].message if exc.errors else "the owner is not valid"
        message = message[:1].upper() + message[1:] + "."
        return error_page(request, title="The owner was not changed", message=message, status_code=422)
    record("intervention.update", student_id=item.student_id, entity=f"intervention:{intervention_id}",
           details={"fields": ["assignee_id"]})  # fmt: skip
    return see_other("/interventions", updated=1)
