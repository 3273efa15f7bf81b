"""Write canonical records to the database in bulk (executemany), idempotently.

Each table is upserted on its natural key: rows that exist are updated only where a value changed,
new rows are inserted with one ``executemany``. Nothing here commits.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.orm import Session

from student_success.db.models import (
    Activity,
    Assessment,
    AssessmentResult,
    Course,
    Enrollment,
    Section,
    Student,
)
from student_success.ingest.canonical import CanonicalData

# Bound parameters per statement stay well under SQLite's and PostgreSQL's limits.
CHUNK = 5000


@dataclass
class StoredIds:
    """Database ids of what :func:`store_canonical` wrote, by canonical key, and the row counts."""

    courses: dict[str, int] = field(default_factory=dict)
    students: dict[str, int] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def plain(value: Any) -> Any:
    """A JSON- and driver-friendly Python value: NA/NaN → ``None``, numpy scalars → Python scalars."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _records(df: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values (NA → ``None``), converted column-wise for speed."""
    out = df[list(columns)].astype(object)
    out = out.where(df[list(columns)].notna(), None)
    return [
        {str(c): v.item() if isinstance(v, np.generic) else v for c, v in row.items()}
        for row in out.to_dict(orient="records")
    ]


def chunks(values: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_rows(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (the same keys in each) with one Core ``executemany`` per chunk.

    The ORM's bulk INSERT drops ``None`` values of nullable columns without a default, which splits
    the rows into a separate ``executemany`` (a round trip each) wherever the pattern of missing
    values changes, e.g. between a scored and a missing result. A Core INSERT binds the ``None``
    as NULL, which stores the same rows, in the same order, in one statement per chunk.
    """
    table = model.__table__
    for chunk in chunks(rows):
        session.execute(insert(table), chunk)


def as_int(value: Any) -> int | None:
    return None if value is None else int(value)


def upsert(
    session: Session,
    model: type[Any],
    rows: list[dict[str, Any]],
    *,
    key: tuple[str, ...],
    where: Sequence[ColumnElement[bool]],
    update_columns: tuple[str, ...] = (),
    need_ids: bool = True,
) -> tuple[dict[tuple[Any, ...], int], dict[str, int]]:
    """Insert the new ``rows`` and update changed ones; return ``{key: id}`` and the counts.

    Args:
        session: the caller's session.
        model: a mapped class with an integer ``id`` primary key.
        rows: one dict per row with the ``key`` and ``update_columns`` fields (same keys in each).
        key: the natural key (a unique constraint of the table).
        where: conditions that together select every existing row that can share a key with ``rows``
            (one SELECT each, so long IN lists can be chunked).
        update_columns: columns refreshed on existing rows; a ``None`` in ``rows`` never erases a value.
        need_ids: return the ids of the inserted rows too (one more SELECT); otherwise only the ids
            of rows that existed before.
    """
    cols = [getattr(model, c) for c in (*key, *update_columns)]

    def existing() -> dict[tuple[Any, ...], tuple[Any, ...]]:
        found: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for condition in where:
            for row in session.execute(select(model.id, *cols).where(condition)):
                found[tuple(row[1 : 1 + len(key)])] = tuple(row)
        return found

    before = existing()
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for row in rows:
        k = tuple(row[c] for c in key)
        if k in seen:
            continue
        seen.add(k)
        old = before.get(k)
        if old is None:
            new.append(row)
            continue
        diff = {
            c: row[c]
            for i, c in enumerate(update_columns)
            if row.get(c) is not None and row[c] != old[1 + len(key) + i]
        }
        if diff:
            changed.append({"id": old[0], **diff})
    if new:
        # a plain executemany: psycopg pipelines it, and it beats multi-row INSERT … RETURNING here
        insert_rows(session, model, new)
    for group in _group_by_keys(changed):
        session.execute(update(model), group)
    ids = {k: v[0] for k, v in (existing() if new and need_ids else before).items()}
    return ids, {"inserted": len(new), "updated": len(changed)}


def _group_by_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    # an executemany needs the same parameters in every row
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


def store_canonical(session: Session, data: CanonicalData) -> StoredIds:
    """Upsert the courses, sections, students, enrolments, assessments, results and activity of ``data``.

    Returns:
        The ids of every course and student in ``data`` and the rows inserted/updated per table.
    """
    out = StoredIds()
    source = data.source
    course_rows = _course_rows(data)
    ext = [r["external_id"] for r in course_rows]
    ids, out.counts["course"] = upsert(
        session,
        Course,
        course_rows,
        key=("source", "external_id"),
        where=[(Course.source == source) & Course.external_id.in_(c) for c in chunks(ext)],
        update_columns=("code_module", "code_presentation", "name", "length_days"),
    )
    out.courses = {str(k[1]): v for k, v in ids.items()}
    course_ids = sorted(out.courses.values())
    sections = _store_sections(session, data, out)
    out.students = _store_students(session, data, out)
    _store_enrollments(session, data, out, sections)
    assessments = _store_assessments(session, data, out, course_ids)
    _store_results(session, data, out, assessments)
    _store_activity(session, data, out, course_ids)
    session.flush()
    return out


def _course_rows(data: CanonicalData) -> list[dict[str, Any]]:
    df = data.courses.drop_duplicates("course_id")
    known = set(df["course_id"].astype(str))
    extra = sorted(set(data.enrollments["course_id"].dropna().astype(str)) - known)
    rows = []
    for r in _records(df, ["course_id", "code_module", "code_presentation", "name", "length_days"]):
        rows.append(
            {
                "source": data.source,
                "external_id": str(r["course_id"]),
                "code_module": r["code_module"],
                "code_presentation": r["code_presentation"],
                "name": r["name"],
                "length_days": as_int(r["length_days"]),
            }
        )
    blank = {"code_module": None, "code_presentation": None, "length_days": None}
    rows += [{"source": data.source, "external_id": c, "name": c, **blank} for c in extra]
    return rows


def _store_sections(session: Session, data: CanonicalData, out: StoredIds) -> dict[tuple[int, str], int]:
    df = data.enrollments.dropna(subset=["section"]).drop_duplicates(["course_id", "section"])
    rows: list[dict[str, Any]] = [
        {"course_id": out.courses[str(r["course_id"])], "name": str(r["section"])}
        for r in _records(df, ["course_id", "section"])
    ]
    course_ids = sorted({int(r["course_id"]) for r in rows})
    ids, out.counts["section"] = upsert(
        session, Section, rows, key=("course_id", "name"), where=[Section.course_id.in_(course_ids)]
    )
    return {(int(k[0]), str(k[1])): v for k, v in ids.items()}


def _student_frame(data: CanonicalData) -> pd.DataFrame:
    frames = [data.enrollments[["student_id", "display_name"]]]
    for extra in (data.k12, data.summary):
        if extra is not None:
            frames.append(pd.DataFrame({"student_id": extra["student_id"].astype(str), "display_name": None}))
    df = pd.concat(frames, ignore_index=True).dropna(subset=["student_id"])
    df["student_id"] = df["student_id"].astype(str)
    # a name given anywhere wins over a missing one
    return df.sort_values("display_name", na_position="last").drop_duplicates("student_id")


def _store_students(session: Session, data: CanonicalData, out: StoredIds) -> dict[str, int]:
    df = _student_frame(data)
    rows = [
        {"source": data.source, "external_id": r["student_id"], "display_name": r["display_name"]}
        for r in _records(df, ["student_id", "display_name"])
    ]
    ext = [r["external_id"] for r in rows]
    ids, out.counts["student"] = upsert(
        session,
        Student,
        rows,
        key=("source", "external_id"),
        where=[(Student.source == data.source) & Student.external_id.in_(c) for c in chunks(ext)],
        update_columns=("display_name",),
    )
    return {str(k[1]): v for k, v in ids.items()}


ENROLLMENT_FIELDS: tuple[str, ...] = (
    "registration_day",
    "unregistration_day",
    "studied_credits",
    "num_prev_attempts",
    "highest_education",
    "final_result",
)


def _store_enrollments(
    session: Session, data: CanonicalData, out: StoredIds, sections: dict[tuple[int, str], int]
) -> None:
    df = data.enrollments.dropna(subset=["student_id", "course_id"])
    rows = []
    for r in _records(df, ["course_id", "student_id", "section", *ENROLLMENT_FIELDS]):
        course_id = out.courses[str(r["course_id"])]
        section = r.pop("section")
        r["num_prev_attempts"] = as_int(r["num_prev_attempts"])
        r.update(
            course_id=course_id,
            student_id=out.students[str(r["student_id"])],
            section_id=None if section is None else sections[(course_id, str(section))],
        )
        rows.append(r)
    course_ids = sorted(out.courses.values())
    _, out.counts["enrollment"] = upsert(
        session,
        Enrollment,
        rows,
        key=("student_id", "course_id"),
        where=[Enrollment.course_id.in_(course_ids)],
        update_columns=("section_id", *ENROLLMENT_FIELDS),
        need_ids=False,
    )


RESULT_FIELDS: tuple[str, ...] = ("submitted_day", "score_pct", "excused", "is_banked", "late")


def _without(fields: tuple[str, ...], *dropped: str) -> tuple[str, ...]:
    """``fields`` less ``dropped``. Sources without dates (a Canvas export) stand the export's day in for
    due and submission days; a later export must not move them later, so those keep their first value."""
    return tuple(f for f in fields if f not in dropped)


ASSESSMENT_FIELDS: tuple[str, ...] = ("name", "kind", "due_day", "weight", "points_possible", "position")


def _store_assessments(
    session: Session, data: CanonicalData, out: StoredIds, course_ids: list[int]
) -> dict[tuple[str, str], int]:
    """Returns ``{(canonical course_id, assessment_id): id}``."""
    rows = []
    for r in _records(data.assessments, ["course_id", "assessment_id", *ASSESSMENT_FIELDS]):
        r["course_id"] = out.courses[str(r["course_id"])]
        r["external_id"] = str(r.pop("assessment_id"))
        r["position"] = as_int(r["position"])
        rows.append(r)
    ids, out.counts["assessment"] = upsert(
        session,
        Assessment,
        rows,
        key=("course_id", "external_id"),
        where=[Assessment.course_id.in_(course_ids)],
        update_columns=ASSESSMENT_FIELDS if data.has_dates else _without(ASSESSMENT_FIELDS, "due_day"),
    )
    by_db_id = {v: k for k, v in out.courses.items()}
    return {(by_db_id[int(k[0])], str(k[1])): v for k, v in ids.items() if int(k[0]) in by_db_id}


def _store_results(
    session: Session, data: CanonicalData, out: StoredIds, assessments: dict[tuple[str, str], int]
) -> None:
    df = data.results.merge(data.assessments[["course_id", "assessment_id", "due_day"]], how="left")
    rows = []
    cols = [
        "course_id",
        "assessment_id",
        "student_id",
        "submitted_day",
        "score_pct",
        "excused",
        "is_banked",
        "due_day",
    ]
    for r in _records(df, cols):
        due, submitted = r.pop("due_day"), r["submitted_day"]
        rows.append(
            {
                "student_id": out.students[str(r["student_id"])],
                "assessment_id": assessments[(str(r["course_id"]), str(r["assessment_id"]))],
                "submitted_day": submitted,
                "score_pct": r["score_pct"],
                "excused": bool(r["excused"]) if r["excused"] is not None else False,
                "is_banked": bool(r["is_banked"]) if r["is_banked"] is not None else False,
                "late": due is not None and submitted is not None and submitted > due,
            }
        )
    wanted = sorted(set(assessments.values()))
    _, out.counts["assessment_result"] = upsert(
        session,
        AssessmentResult,
        rows,
        key=("student_id", "assessment_id"),
        where=[AssessmentResult.assessment_id.in_(c) for c in chunks(wanted)],
        update_columns=_without(RESULT_FIELDS, *(() if data.has_dates else ("submitted_day", "late"))),
        need_ids=False,
    )


def _store_activity(session: Session, data: CanonicalData, out: StoredIds, course_ids: list[int]) -> None:
    if data.activity is None or data.activity.empty:
        return
    df = data.activity.dropna(subset=["day", "clicks"]).copy()
    df["day"] = df["day"].astype(float).round().astype(int)
    df = df.groupby(["course_id", "student_id", "day"], as_index=False).agg(clicks=("clicks", "sum"))
    rows = [
        {
            "student_id": out.students[str(r["student_id"])],
            "course_id": out.courses[str(r["course_id"])],
            "day": int(r["day"]),
            "clicks": int(r["clicks"]),
        }
        for r in _records(df, ["course_id", "student_id", "day", "clicks"])
    ]
    _, out.counts["activity"] = upsert(
        session,
        Activity,
        rows,
        key=("student_id", "course_id", "day"),
        where=[Activity.course_id.in_(course_ids)],
        update_columns=("clicks",),
        need_ids=False,
    )
