"""Intervention plans: create one or many, change them (with history), list them for the board."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from student_success.api.auth import ScopeDep
from student_success.api.deps import SessionDep
from student_success.api.routes.audit import AuditDep
from student_success.api.schemas import (
    InterventionBulkCreate,
    InterventionCreate,
    InterventionDetailPublic,
    InterventionPublic,
    InterventionsPublic,
    InterventionUpdate,
    Status,
)
from student_success.services import interventions
from student_success.services.interventions import intervention_public

router = APIRouter(prefix="/interventions", tags=["interventions"])


@router.post("", response_model=InterventionDetailPublic, status_code=201)
def create_intervention(
    body: InterventionCreate, session: SessionDep, scope: ScopeDep, record: AuditDep
) -> dict[str, Any]:
    """Plan support for one student."""
    fields = body.model_dump(exclude={"student_id"})
    [item] = interventions.create_interventions(
        session, [body.student_id], scope=scope, actor_id=scope.user_id, **fields
    )
    record("intervention.create", student_id=item.student_id, entity=f"intervention:{item.id}")
    return intervention_public(item, events=True)


@router.post("/bulk", response_model=InterventionsPublic, status_code=201)
def create_interventions_bulk(
    body: InterventionBulkCreate, session: SessionDep, scope: ScopeDep, record: AuditDep
) -> dict[str, Any]:
    """Plan the same support for many students at once (all or none are created)."""
    fields = body.model_dump(exclude={"student_ids"})
    items = interventions.create_interventions(
        session, body.student_ids, scope=scope, actor_id=scope.user_id, **fields
    )
    for i in items:
        record("intervention.create", student_id=i.student_id, entity=f"intervention:{i.id}")
    return {"data": [intervention_public(i) for i in items], "count": len(items), "limit": None}


@router.patch("/{intervention_id}", response_model=InterventionDetailPublic)
def update_intervention(
    intervention_id: int, body: InterventionUpdate, session: SessionDep, scope: ScopeDep, record: AuditDep
) -> dict[str, Any]:
    """Change status, assignee, priority, due date, notes or outcome; each change is recorded."""
    changes = body.model_dump(exclude_unset=True)
    item = interventions.update_intervention(
        session, intervention_id, changes, scope=scope, actor_id=scope.user_id
    )
    record("intervention.update", student_id=item.student_id, entity=f"intervention:{intervention_id}",
           details={"fields": sorted(changes)})  # fmt: skip
    return intervention_public(item, events=True)


@router.get("", response_model=InterventionsPublic)
def list_interventions(
    session: SessionDep,
    scope: ScopeDep,
    record: AuditDep,
    status: Status | None = None,
    assignee_id: int | None = None,
    overdue: bool | None = None,
    student_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Interventions for the board, by due date; filter by status, assignee, student or overdue."""
    items, total = interventions.list_interventions(
        session, scope=scope, status=status, assignee_id=assignee_id, overdue=overdue,
        student_id=student_id, limit=limit, offset=offset,
    )  # fmt: skip
    shown = sorted({i.student_id for i in items})
    record("intervention.list", details={"count": total, "student_ids": shown})
    return {"data": [intervention_public(i) for i in items], "count": total, "limit": limit, "offset": offset}


@router.get("/{intervention_id}", response_model=InterventionDetailPublic)
def get_intervention(
    intervention_id: int, session: SessionDep, scope: ScopeDep, record: AuditDep
) -> dict[str, Any]:
    """One intervention with its full change history."""
    item = interventions.get_intervention(session, intervention_id, scope=scope)
    record("intervention.view", student_id=item.student_id, entity=f"intervention:{intervention_id}")
    return intervention_public(item, events=True)


__all__ = ["InterventionPublic", "router"]
