"""Students and their risk: the list, one student's page, and the dashboard summary.

"Latest prediction" means the most recent scoring of a student in a course (the highest prediction
id: predictions are only ever inserted). Every function applies the caller's :class:`Scope`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, aliased

from student_success.db.models import (
    Course,
    Enrollment,
    ImportBatch,
    LatestPrediction,
    Prediction,
    Section,
    Student,
)
from student_success.errors import ValidationFailed
from student_success.ml.sentences import plain_probability
from student_success.services.interventions import intervention_public, list_interventions
from student_success.services.scope import Scope, require_student

AnySelect = Select[*tuple[Any, ...]]
SortKey = Literal["-probability", "probability", "name", "-name"]
SORT_KEYS: tuple[str, ...] = ("-probability", "probability", "name", "-name")
HISTOGRAM_BUCKETS = 10
CHANGE_POINTS = 0.10  # a move of 10 percentage points or more is "rising" / "improving"


@dataclass(frozen=True)
class StudentFilter:
    """Which rows of the risk list to show.

    Attributes:
        course_id: only this course (database id).
        section_id: only this section.
        risk_level: only ``high``, ``medium`` or ``low``.
        search: part of the name or of the student's id (case-insensitive).
    """

    course_id: int | None = None
    section_id: int | None = None
    risk_level: str | None = None
    search: str | None = None


@dataclass
class StudentRow:
    """One row of the risk list: a student's latest prediction in one course."""

    student_id: int
    external_id: str
    display_name: str | None
    course_id: int | None
    course_name: str | None
    section_id: int | None
    section_name: str | None
    prediction_id: int
    probability: float
    risk_level: str
    risk_in_words: str
    as_of_day: int | None
    model_variant: str
    model_version: str
    scored_at: datetime
    top_factors: list[str] = field(default_factory=list)


def _matching(scope: Scope, flt: StudentFilter, sort: str | None) -> AnySelect:
    """``prediction.id`` of the matching rows, with only the joins the filters and the sort need.

    The rows come from ``latest_prediction`` (one per student and course), so the default order is an
    index scan; the wide joins of a row run for the 50 rows of a page only (``_load_rows``).
    """
    if flt.risk_level is not None and flt.risk_level not in ("high", "medium", "low"):
        raise ValidationFailed.single(f"unknown risk level {flt.risk_level!r}: use high, medium or low")
    if sort is not None and sort not in SORT_KEYS:
        raise ValidationFailed.single(f"unknown sort {sort!r}: use one of {', '.join(SORT_KEYS)}")
    latest = LatestPrediction
    query: AnySelect = select(latest.prediction_id).where(scope.student_filter(latest.student_id))
    if flt.course_id is not None:
        query = query.where(latest.course_id == flt.course_id)
    if flt.search or sort in ("name", "-name"):
        query = query.join(Student, Student.id == latest.student_id)
    if flt.section_id is not None:
        query = query.join(
            Enrollment,
            (Enrollment.student_id == latest.student_id) & (Enrollment.course_id == latest.course_id),
        ).where(Enrollment.section_id == flt.section_id)
    if flt.risk_level is not None:
        query = query.where(latest.risk_level == flt.risk_level)
    if flt.search:
        text = flt.search.strip()
        query = query.where(
            Student.display_name.icontains(text, autoescape=True)
            | Student.external_id.icontains(text, autoescape=True)
        )
    if sort is None:
        return query
    name: ColumnElement[Any] = func.coalesce(Student.display_name, Student.external_id)
    # the probability index gives the order; only ties are sorted (SQLite and PostgreSQL both
    # sort just the right-hand part of the key when the index supplies the left)
    by_need = (latest.probability.desc(), latest.student_id.asc(), latest.prediction_id.asc())
    orders: dict[str, tuple[ColumnElement[Any], ...]] = {
        "-probability": by_need,
        "probability": (latest.probability.asc(), latest.student_id.asc(), latest.prediction_id.asc()),
        "name": (name.asc(), *by_need),
        "-name": (name.desc(), *by_need),
    }
    return query.order_by(*orders[sort])


# the columns of a list row, in the order _list_row takes them
_LIST_COLUMNS = (
    Prediction.id, Student.id, Student.external_id, Student.display_name, Prediction.course_id,
    Course.name, Course.external_id, Section.id, Section.name, Prediction.probability,
    Prediction.risk_level, Prediction.as_of_day, Prediction.model_variant, Prediction.model_version,
    Prediction.created_at, Prediction.factors,
)  # fmt: skip


def _load_rows(session: Session, prediction_ids: list[int]) -> list[StudentRow]:
    """The list rows of these predictions, in the order given.

    Plain columns, not ORM objects: a page is read-only, and skipping the identity map makes loading
    a page several times cheaper.
    """
    found: dict[int, StudentRow] = {}
    for chunk in range(0, len(prediction_ids), 5000):
        query = (
            select(*_LIST_COLUMNS)
            .join(Student, Student.id == Prediction.student_id)
            .outerjoin(Course, Course.id == Prediction.course_id)
            .outerjoin(
                Enrollment,
                (Enrollment.student_id == Prediction.student_id)
                & (Enrollment.course_id == Prediction.course_id),
            )
            .outerjoin(Section, Section.id == Enrollment.section_id)
            .where(Prediction.id.in_(prediction_ids[chunk : chunk + 5000]))
        )
        found.update({r[0]: _list_row(*r) for r in session.execute(query)})
    return [found[i] for i in prediction_ids]


def _list_row(
    prediction_id: int, student_id: int, external_id: str, display_name: str | None, course_id: int | None,
    course: str | None, course_ext: str | None, section_id: int | None, section: str | None,
    probability: float, risk_level: str, as_of_day: int | None, variant: str, version: str,
    scored_at: datetime, factors: list[dict[str, Any]] | None,
) -> StudentRow:  # fmt: skip
    return StudentRow(
        student_id=student_id,
        external_id=external_id,
        display_name=display_name,
        course_id=course_id,
        course_name=course or course_ext,
        section_id=section_id,
        section_name=section,
        prediction_id=prediction_id,
        probability=probability,
        risk_level=risk_level,
        risk_in_words=plain_probability(probability),
        as_of_day=as_of_day,
        model_variant=variant,
        model_version=version,
        scored_at=scored_at,
        top_factors=[
            str(f.get("sentence", "")) for f in factors or [] if f.get("direction", "risk") == "risk"
        ],
    )


def list_students(
    session: Session,
    *,
    scope: Scope,
    filters: StudentFilter | None = None,
    sort: str = "-probability",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[StudentRow], int]:
    """The risk list: each visible student's latest prediction per course, filtered, sorted and paged.

    Returns:
        The rows of the page and the total number of matching rows.

    Raises:
        ValidationFailed: an unknown sort key or risk level.
    """
    flt = filters or StudentFilter()
    # two index reads: the page (LIMIT stops the scan early) and the count; a window count would read
    # every matching row before the LIMIT
    ids = [int(i) for i in session.scalars(_matching(scope, flt, sort).limit(limit).offset(offset))]
    total = session.scalar(select(func.count()).select_from(_matching(scope, flt, None).subquery()))
    return _load_rows(session, ids), int(total or 0)


def iter_risk_list(
    session: Session, *, scope: Scope, filters: StudentFilter | None = None
) -> list[StudentRow]:
    """Every row of the risk list, highest risk first (for exports)."""
    ids = list(session.scalars(_matching(scope, filters or StudentFilter(), "-probability")))
    return _load_rows(session, ids)


def prediction_public(pred: Prediction) -> dict[str, Any]:
    """A prediction with its factors split into risk and protective, and its meaning in words."""
    factors = pred.factors or []
    return {
        "id": pred.id,
        "course_id": pred.course_id,
        "course_name": pred.course.name if pred.course is not None else None,
        "as_of_day": pred.as_of_day,
        "probability": pred.probability,
        "risk_level": pred.risk_level,
        "risk_in_words": plain_probability(pred.probability),
        "class_probabilities": pred.class_probabilities,
        "risk_factors": [f for f in factors if f.get("direction", "risk") == "risk"],
        "protective_factors": [f for f in factors if f.get("direction") == "protective"],
        "recommendations": pred.recommendations or [],
        "model_variant": pred.model_variant,
        "model_version": pred.model_version,
        "import_batch_id": pred.import_batch_id,
        "scored_at": pred.created_at,
    }


def risk_history(
    session: Session, student_id: int, *, scope: Scope, course_id: int | None = None
) -> list[dict[str, Any]]:
    """Every scoring of a student, oldest first: the points of the risk-over-time chart."""
    require_student(session, student_id, scope=scope)
    query = select(Prediction).where(Prediction.student_id == student_id)
    if course_id is not None:
        query = query.where(Prediction.course_id == course_id)
    return [
        {
            "prediction_id": p.id,
            "course_id": p.course_id,
            "as_of_day": p.as_of_day,
            "probability": p.probability,
            "risk_level": p.risk_level,
            "model_variant": p.model_variant,
            "model_version": p.model_version,
            "import_batch_id": p.import_batch_id,
            "scored_at": p.created_at,
        }
        for p in session.scalars(query.order_by(Prediction.id))
    ]


def get_student(session: Session, student_id: int, *, scope: Scope) -> dict[str, Any]:
    """One student's page: enrolments, latest prediction per course, risk history, interventions.

    Raises:
        UnknownStudent: no such student in the caller's scope.
    """
    student = require_student(session, student_id, scope=scope)
    enrollments = session.execute(
        select(Course.id, Course.name, Course.external_id, Section.id, Section.name)
        .join(Enrollment, Enrollment.course_id == Course.id)
        .outerjoin(Section, Section.id == Enrollment.section_id)
        .where(Enrollment.student_id == student_id)
        .order_by(Course.id)
    ).all()
    latest_ids = select(func.max(Prediction.id)).where(Prediction.student_id == student_id)
    latest = session.scalars(
        select(Prediction).where(Prediction.id.in_(latest_ids.group_by(Prediction.course_id)))
        .order_by(Prediction.probability.desc())
    ).all()  # fmt: skip
    return {
        "id": student.id,
        "external_id": student.external_id,
        "display_name": student.display_name,
        "source": student.source,
        "enrollments": [
            {"course_id": c, "course_name": n or e, "section_id": s, "section_name": sn}
            for c, n, e, s, sn in enrollments
        ],
        "latest": [prediction_public(p) for p in latest],
        "history": risk_history(session, student_id, scope=scope),
        "interventions": [
            intervention_public(i)
            for i in list_interventions(session, scope=scope, student_id=student_id, limit=None)[0]
        ],
    }


def _change(cur: Any, prev: Any, names: dict[int, tuple[str, str | None]]) -> dict[str, Any]:
    ext, name = names[cur.student_id]
    return {
        "student_id": cur.student_id,
        "external_id": ext,
        "display_name": name,
        "course_id": cur.course_id,
        "probability": cur.probability,
        "risk_level": cur.risk_level,
        "previous_probability": None if prev is None else prev.probability,
        "previous_risk_level": None if prev is None else prev.risk_level,
    }


def dashboard_summary(session: Session, *, scope: Scope, course_id: int | None = None) -> dict[str, Any]:
    """Counts by level, a probability histogram, and what changed since each course's previous import.

    Changes compare each student's latest prediction in a course with the one before it: *new to
    high* (now high, before not high, or newly listed in a course scored before), *rising* (up by 10
    points or more) and *improving* (down by 10 points or more).
    """
    rank = func.row_number().over(
        partition_by=(Prediction.student_id, Prediction.course_id), order_by=Prediction.id.desc()
    )
    ranked_q = select(
        Prediction.id, Prediction.student_id, Prediction.course_id, Prediction.import_batch_id,
        Prediction.probability, Prediction.risk_level, rank.label("rn"),
    ).where(scope.student_filter(Prediction.student_id))  # fmt: skip
    if course_id is not None:
        ranked_q = ranked_q.where(Prediction.course_id == course_id)
    ranked = ranked_q.subquery()
    rows = session.execute(select(ranked).where(ranked.c.rn <= 2)).all()
    current = {(r.student_id, r.course_id): r for r in rows if r.rn == 1}
    previous = {(r.student_id, r.course_id): r for r in rows if r.rn == 2}
    rescored_courses = {k[1] for k in previous}
    counts = dict.fromkeys(("high", "medium", "low"), 0)
    histogram = [0] * HISTOGRAM_BUCKETS
    for r in current.values():
        counts[r.risk_level] += 1
        histogram[min(int(r.probability * HISTOGRAM_BUCKETS), HISTOGRAM_BUCKETS - 1)] += 1
    new_high, rising, improving = [], [], []
    for key, cur in current.items():
        prev = previous.get(key)
        if cur.risk_level == "high" and (
            (prev is None and key[1] in rescored_courses) or (prev is not None and prev.risk_level != "high")
        ):
            new_high.append((cur, prev))
        if prev is not None and cur.probability - prev.probability >= CHANGE_POINTS - 1e-9:
            rising.append((cur, prev))
        if prev is not None and prev.probability - cur.probability >= CHANGE_POINTS - 1e-9:
            improving.append((cur, prev))
    wanted = {c.student_id for c, _ in (*new_high, *rising, *improving)}
    names = {
        i: (e, n)
        for i, e, n in session.execute(
            select(Student.id, Student.external_id, Student.display_name).where(
                Student.id.in_(sorted(wanted))
            )
        )
    }

    def listed(items: list[tuple[Any, Any]], *, reverse: bool) -> list[dict[str, Any]]:
        items.sort(key=lambda cp: (-cp[0].probability if reverse else cp[0].probability, cp[0].student_id))
        return [_change(c, p, names) for c, p in items]

    return {
        "total": len(current),
        "counts": counts,
        "histogram": [
            {"from": i / HISTOGRAM_BUCKETS, "to": (i + 1) / HISTOGRAM_BUCKETS, "count": n}
            for i, n in enumerate(histogram)
        ],
        "changes": {
            "new_to_high": listed(new_high, reverse=True),
            "rising": listed(rising, reverse=True),
            "improving": listed(improving, reverse=False),
        },
        "last_import": _last_import(session, scope=scope, course_id=course_id),
    }


def _last_import(session: Session, *, scope: Scope, course_id: int | None) -> dict[str, Any] | None:
    batch = aliased(ImportBatch)
    query = select(batch).where(batch.status == "completed")
    if course_id is not None:
        query = query.where(batch.course_id == course_id)
    if not scope.unrestricted:
        query = query.where(batch.created_by == scope.user_id)
    found = session.scalars(query.order_by(batch.id.desc()).limit(1)).first()
    if found is None:
        return None
    return {
        "id": found.id,
        "file_name": found.file_name,
        "as_of_day": found.as_of_day,
        "at": found.created_at,
    }
