"""The risk list and one student's page, and planning support from it."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from student_success.api.auth import ScopeDep
from student_success.api.deps import SessionDep, SettingsDep
from student_success.api.routes.audit import AuditDep
from student_success.errors import NotFound, ValidationFailed
from student_success.interventions.catalogue import CATALOGUE
from student_success.services import feedback as flag_feedback
from student_success.services import interventions, students
from student_success.services.interventions import OPEN_STATUSES
from student_success.services.students import StudentFilter
from student_success.web import charts
from student_success.web.common import (
    default_due_date,
    error_page,
    optional_int,
    render,
    see_other,
    student_not_found,
)
from student_success.web.home import filter_options, scoring_models

router = APIRouter()
PAGE_SIZE = 25
SORTS: list[tuple[str, str]] = [
    ("-probability", "Highest need first"),
    ("probability", "Lowest need first"),
    ("name", "Name A–Z"),
    ("-name", "Name Z–A"),
]
LEVELS: list[tuple[str, str]] = [
    ("", "All levels"),
    ("high", "Needs support now"),
    ("medium", "Keep an eye on"),
    ("low", "On track"),
]


def open_plan_counts(session: Any, scope: Any) -> Counter[int]:
    """Open intervention plans per student."""
    counts: Counter[int] = Counter()
    for status in OPEN_STATUSES:
        items, _ = interventions.list_interventions(session, scope=scope, status=status, limit=None)
        counts.update(i.student_id for i in items)
    return counts


@router.get("/students", response_class=HTMLResponse)
def student_list(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    record: AuditDep,
    level: str = "",
    course: str = "",
    section: str = "",
    q: str = "",
    sort: str = "-probability",
    page: str = "1",
) -> Response:
    """The risk list: filter, search, sort and page through every scored student."""
    level = level if level in ("high", "medium", "low") else ""
    sort = sort if sort in dict(SORTS) else "-probability"
    page_no = max(optional_int(page) or 1, 1)
    flt = StudentFilter(
        course_id=optional_int(course), section_id=optional_int(section),
        risk_level=level or None, search=q.strip()[:200] or None,
    )  # fmt: skip
    rows, total = students.list_students(
        session, scope=scope, filters=flt, sort=sort, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE
    )
    every_row = students.iter_risk_list(session, scope=scope)
    record("student.list", details={"count": total, "student_ids": sorted({r.student_id for r in rows})})
    query = {"level": level, "course": course, "section": section, "q": q, "sort": sort}
    return render(
        request,
        "students.html",
        {
            "title": "Students",
            "rows": rows,
            "total": total,
            "page": page_no,
            "pages": max(math.ceil(total / PAGE_SIZE), 1),
            "base_query": urlencode({k: v for k, v in query.items() if v}),
            "sort_query": urlencode({k: v for k, v in query.items() if v and k != "sort"}),
            "query": query,
            "options": filter_options(every_row),
            "sorts": SORTS,
            "levels": LEVELS,
            "open_plans": open_plan_counts(session, scope),
            "models": scoring_models(rows or every_row),
            "any_students": bool(every_row),
        },
    )


def changeable_first(factors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What can still change first, context second (the model's order within each)."""
    return sorted(factors, key=lambda f: not f.get("changeable", f.get("kind") == "changeable"))


def in_course(
    detail: dict[str, Any], course: str
) -> tuple[dict[str, Any] | None, list[dict[str, Any]], list[dict[str, Any]]]:
    """The student's latest prediction in the course asked for (else their first), its history, and
    every plan, oldest first."""
    wanted = optional_int(course)
    latest = detail["latest"]
    current = next((p for p in latest if p["course_id"] == wanted), latest[0] if latest else None)
    history = [h for h in detail["history"] if current is None or h["course_id"] == current["course_id"]]
    plans = sorted(detail["interventions"], key=lambda i: i["created_at"])
    return current, history, plans


@router.get("/students/{student_id}", response_class=HTMLResponse)
def student_page(
    request: Request,
    student_id: int,
    session: SessionDep,
    scope: ScopeDep,
    settings: SettingsDep,
    record: AuditDep,
    course: str = "",
    planned: str = "",
    feedback: str = "",
) -> Response:
    """How the student is doing, why, what could help, what has been tried, and how it has gone."""
    try:
        detail = students.get_student(session, student_id, scope=scope)
    except NotFound:
        return student_not_found(request)
    record("student.view", student_id=student_id, entity=f"student:{student_id}")
    current, history, plans = in_course(detail, course)
    factors = [] if current is None else [*current["risk_factors"], *current["protective_factors"]]
    factors.sort(key=lambda f: -float(f.get("contribution") or 0))
    markers = [
        {"x": x, "plan": p} for p in plans if (x := charts.marker_x(p["created_at"], history)) is not None
    ]
    return render(
        request,
        "student.html",
        {
            "title": detail["display_name"] or detail["external_id"],
            "student": detail,
            "current": current,
            "risk_factors": changeable_first(current["risk_factors"]) if current else [],
            "protective_factors": changeable_first(current["protective_factors"]) if current else [],
            "chart_factors": factors,
            "contribution_bars": charts.contribution_bars(factors),
            "history": history,
            "points": charts.risk_line(history),
            "markers": markers,
            "plans": plans,
            "open_types": {p["type_key"] for p in plans if p["status"] in OPEN_STATUSES},
            "due_date": default_due_date().isoformat(),
            "catalogue": list(CATALOGUE.values()),
            "high": settings.high_risk_threshold,
            "medium": settings.medium_risk_threshold,
            "planned": optional_int(planned),
            "feedback_saved": feedback == "1",
            "feedback_given": flag_feedback.student_feedback(session, student_id, scope=scope),
            "verdicts": list(flag_feedback.VERDICT_WORDS.items()),
        },
    )


@router.post("/students/{student_id}/interventions", response_class=HTMLResponse)
def plan_support(
    request: Request,
    student_id: int,
    session: SessionDep,
    scope: ScopeDep,
    record: AuditDep,
    type_key: Annotated[str, Form()],
    goal: Annotated[str, Form()] = "",
    due_date: Annotated[str, Form()] = "",
    priority: Annotated[str, Form()] = "medium",
    course_id: Annotated[str, Form()] = "",
) -> Response:
    """Plan support for this student (owner: the person planning it), then show the student again."""
    try:
        due = date.fromisoformat(due_date) if due_date.strip() else None
    except ValueError:
        return error_page(
            request, title="The plan was not saved",
            message="Give the due date as a date, for example 2026-03-31.", status_code=422,
        )  # fmt: skip
    try:
        [item] = interventions.create_interventions(
            session, [student_id], scope=scope, type_key=type_key, goal=goal.strip() or None,
            due_date=due, priority=priority, course_id=optional_int(course_id),
            assignee_id=scope.user_id, actor_id=scope.user_id,
        )  # fmt: skip
    except NotFound:
        return student_not_found(request)
    except ValidationFailed as exc:
        message = "; ".join(e.message for e in exc.errors) or "the plan is not valid"
        return error_page(request, title="The plan was not saved", message=message.capitalize() + ".",
                          status_code=422)  # fmt: skip
    record("intervention.create", student_id=student_id, entity=f"intervention:{item.id}")
    course_part = {"course": course_id} if course_id else {}
    response = see_other(f"/students/{student_id}", **course_part, planned=item.id)
    response.headers["location"] += "#tried"
    return response
