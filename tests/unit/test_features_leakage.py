"""No leakage: a record dated after day t never changes the features at day t.

Hypothesis draws small random canonical data sets (1–2 courses, 1–6 students, 1–5 assessments due
between day -10 and day 200, results, activity) and a day t in [0, 200], then alters, deletes or adds
records dated after t:

* results handed in after t: new score, new day (still after t), new excused flag — or deleted;
* activity after t: new clicks, new day (still after t) — or deleted;
* withdrawals after t: moved to another day after t, or removed (still registered);
* assessments due after t: new due day (still after t) and new weight; when nobody handed them in by
  day t, also a new kind or position, or deleted together with all their results (work handed in
  early is in the gradebook on day t, so its assessment is known then);
* new results handed in after t, new activity after t, a new assessment due after t.

``build_features(data, as_of_day=t)`` must be identical before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from student_success.features.asof import build_features
from student_success.features.catalog import HIGHER_EDUCATION_LEVELS
from student_success.ingest.canonical import CanonicalData

KEY = ["course_id", "student_id"]
KINDS = ("TMA", "CMA", "Exam")
EDUCATION: tuple[str | None, ...] = (*HIGHER_EDUCATION_LEVELS, None)

Row = dict[str, Any]

scores = st.one_of(
    st.none(),
    st.integers(0, 100).map(float),
    st.floats(0, 110, allow_nan=False, allow_infinity=False),
)


@dataclass
class Case:
    """One random data set and a day t, as plain rows so they are easy to alter."""

    t: int
    enrollments: list[Row]
    assessments: list[Row]
    results: list[Row]
    activity: list[Row] | None
    pre_course: list[Row] | None
    has_dates: bool
    has_context: bool


def to_data(
    case: Case,
    *,
    enrollments: list[Row] | None = None,
    assessments: list[Row] | None = None,
    results: list[Row] | None = None,
    activity: list[Row] | None = None,
) -> CanonicalData:
    act = case.activity if activity is None else activity
    return CanonicalData(
        source="test",
        enrollments=pd.DataFrame(case.enrollments if enrollments is None else enrollments),
        assessments=pd.DataFrame(case.assessments if assessments is None else assessments),
        results=pd.DataFrame(case.results if results is None else results),
        activity=None if act is None else pd.DataFrame(act),
        pre_course=None if case.pre_course is None else pd.DataFrame(case.pre_course),
        has_dates=case.has_dates,
        has_context=case.has_context,
    )


def features(data: CanonicalData, t: int) -> pd.DataFrame:
    return build_features(data, as_of_day=t).sort_values(KEY).reset_index(drop=True)


def after(day: float | None, t: int) -> bool:
    return day is not None and not pd.isna(day) and day > t


def later_days(t: int) -> st.SearchStrategy[float]:
    """Another day strictly after t (whole or fractional)."""
    return st.one_of(
        st.integers(t + 1, 300).map(float),
        st.floats(min_value=t, max_value=400, exclude_min=True, allow_nan=False, allow_infinity=False),
    )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    t = draw(st.integers(0, 200))
    enrollments: list[Row] = []
    assessments: list[Row] = []
    results: list[Row] = []
    activity: list[Row] = []
    pre_course: list[Row] = []
    for c in range(draw(st.integers(1, 2))):
        course = f"C{c}"
        students = [f"s{i}" for i in range(draw(st.integers(1, 6)))]
        for student in students:
            enrollments.append(
                {
                    "course_id": course,
                    "student_id": student,
                    "registration_day": float(draw(st.integers(-30, 30))),
                    "unregistration_day": draw(st.none() | st.integers(-10, 220).map(float)),
                    "studied_credits": draw(st.sampled_from([30.0, 60.0, 120.0])),
                    "num_prev_attempts": float(draw(st.integers(0, 3))),
                    "highest_education": draw(st.sampled_from(EDUCATION)),
                }
            )
            if draw(st.booleans()):
                pre_course.append(
                    {
                        "course_id": course,
                        "student_id": student,
                        "pre_course_clicks": float(draw(st.integers(0, 100))),
                    }
                )
        n_assessments = draw(st.integers(1, 5))
        positions = draw(st.permutations(range(n_assessments)))
        for a in range(n_assessments):
            assessment = f"{course}-A{a}"
            assessments.append(
                {
                    "course_id": course,
                    "assessment_id": assessment,
                    "name": assessment,
                    "kind": draw(st.sampled_from(KINDS)),
                    "due_day": float(draw(st.integers(-10, 200))),
                    "weight": draw(st.sampled_from([0.0, 10.0, 25.0, 50.0])),
                    "points_possible": 100.0,
                    "position": positions[a],
                }
            )
            for student in students:
                if draw(st.booleans()):
                    results.append(
                        {
                            "course_id": course,
                            "assessment_id": assessment,
                            "student_id": student,
                            "submitted_day": draw(st.none() | st.integers(-10, 220).map(float)),
                            "score_pct": draw(scores),
                            "excused": draw(st.booleans()),
                            "is_banked": False,
                        }
                    )
        for _ in range(draw(st.integers(0, 12))):
            activity.append(
                {
                    "course_id": course,
                    "student_id": draw(st.sampled_from(students)),
                    "day": float(draw(st.integers(-20, 220))),
                    "clicks": float(draw(st.integers(0, 50))),
                }
            )
    with_activity = draw(st.booleans())
    has_context = draw(st.booleans())
    return Case(
        t=t,
        enrollments=enrollments,
        assessments=assessments,
        results=results,
        activity=activity if with_activity else None,
        pre_course=pre_course if has_context else None,
        has_dates=draw(st.booleans()),
        has_context=has_context,
    )


def alter_the_future(data: st.DataObject, case: Case) -> CanonicalData:
    """A copy of ``case`` in which records dated after t are randomly altered, deleted or added."""
    draw = data.draw
    t = case.t
    later = later_days(t)

    # assessments due after t: keep, move, re-weigh, re-kind, re-order or delete (with their results).
    # One that a student already handed in by day t (early work, or an undated result) is in the
    # gradebook on day t: only its due day (still after t) and weight may change.
    known_by_t = {
        (r["course_id"], r["assessment_id"]) for r in case.results if not after(r["submitted_day"], t)
    }
    assessments: list[Row] = []
    deleted: set[tuple[str, str]] = set()
    for row in case.assessments:
        if not after(row["due_day"], t):
            assessments.append(row)
            continue
        if (row["course_id"], row["assessment_id"]) in known_by_t:
            allowed = ["keep", "move", "weight"]
        else:
            allowed = ["keep", "move", "weight", "kind", "position", "all", "delete"]
        action = draw(st.sampled_from(allowed))
        if action == "delete":
            deleted.add((row["course_id"], row["assessment_id"]))
            continue
        new = dict(row)
        if action in ("move", "all"):
            new["due_day"] = draw(later)
        if action in ("weight", "all"):
            new["weight"] = draw(st.floats(0, 100, allow_nan=False))
        if action in ("kind", "all"):
            new["kind"] = draw(st.sampled_from(KINDS))
        if action in ("position", "all"):
            new["position"] = draw(st.integers(0, 20))
        assessments.append(new)

    # results handed in after t: keep, change or delete
    results: list[Row] = []
    for row in case.results:
        if (row["course_id"], row["assessment_id"]) in deleted:
            continue
        if not after(row["submitted_day"], t):
            results.append(row)
            continue
        action = draw(st.sampled_from(["keep", "change", "delete"]))
        if action == "delete":
            continue
        if action == "change":
            row = {
                **row,
                "submitted_day": draw(later),
                "score_pct": draw(scores),
                "excused": draw(st.booleans()),
            }
        results.append(row)

    # withdrawals after t: keep, move to another day after t, or remove
    enrollments: list[Row] = []
    for row in case.enrollments:
        if after(row["unregistration_day"], t):
            action = draw(st.sampled_from(["keep", "move", "remove"]))
            if action == "move":
                row = {**row, "unregistration_day": draw(later)}
            elif action == "remove":
                row = {**row, "unregistration_day": None}
        enrollments.append(row)

    # insertions: results handed in after t, and one more assessment due after t with results
    by_course: dict[str, list[str]] = {}
    for e in case.enrollments:
        by_course.setdefault(e["course_id"], []).append(e["student_id"])
    courses = sorted(by_course)
    for _ in range(draw(st.integers(0, 3))):
        course = draw(st.sampled_from(courses))
        choices = [a["assessment_id"] for a in assessments if a["course_id"] == course]
        if not choices:
            continue
        results.append(
            {
                "course_id": course,
                "assessment_id": draw(st.sampled_from(choices)),
                "student_id": draw(st.sampled_from(by_course[course])),
                "submitted_day": draw(later),
                "score_pct": draw(scores),
                "excused": draw(st.booleans()),
                "is_banked": False,
            }
        )
    if draw(st.booleans()):
        course = draw(st.sampled_from(courses))
        assessments.append(
            {
                "course_id": course,
                "assessment_id": f"{course}-NEW",
                "name": "new",
                "kind": draw(st.sampled_from(KINDS)),
                "due_day": draw(later),
                "weight": 50.0,
                "points_possible": 100.0,
                "position": draw(st.integers(0, 20)),
            }
        )
        for student in by_course[course]:
            if draw(st.booleans()):
                results.append(
                    {
                        "course_id": course,
                        "assessment_id": f"{course}-NEW",
                        "student_id": student,
                        "submitted_day": draw(later),
                        "score_pct": draw(scores),
                        "excused": draw(st.booleans()),
                        "is_banked": False,
                    }
                )

    # activity after t: keep, change or delete; then add some
    activity: list[Row] | None = None
    if case.activity is not None:
        activity = []
        for row in case.activity:
            if not after(row["day"], t):
                activity.append(row)
                continue
            action = draw(st.sampled_from(["keep", "change", "delete"]))
            if action == "delete":
                continue
            if action == "change":
                row = {**row, "day": draw(later), "clicks": float(draw(st.integers(0, 1000)))}
            activity.append(row)
        for _ in range(draw(st.integers(0, 3))):
            course = draw(st.sampled_from(courses))
            activity.append(
                {
                    "course_id": course,
                    "student_id": draw(st.sampled_from(by_course[course])),
                    "day": draw(later),
                    "clicks": float(draw(st.integers(0, 1000))),
                }
            )

    return to_data(case, enrollments=enrollments, assessments=assessments, results=results, activity=activity)


def cut_at(case: Case) -> CanonicalData:
    """Only what was known on day t: every record dated after t deleted, withdrawals after t unknown."""
    t = case.t
    known_by_t = {
        (r["course_id"], r["assessment_id"]) for r in case.results if not after(r["submitted_day"], t)
    }
    future = {
        (a["course_id"], a["assessment_id"])
        for a in case.assessments
        if after(a["due_day"], t) and (a["course_id"], a["assessment_id"]) not in known_by_t
    }
    return to_data(
        case,
        enrollments=[
            {**e, "unregistration_day": None} if after(e["unregistration_day"], t) else e
            for e in case.enrollments
        ],
        assessments=[a for a in case.assessments if (a["course_id"], a["assessment_id"]) not in future],
        results=[
            r
            for r in case.results
            if (r["course_id"], r["assessment_id"]) not in future and not after(r["submitted_day"], t)
        ],
        activity=None if case.activity is None else [a for a in case.activity if not after(a["day"], t)],
    )


LEAKAGE_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@LEAKAGE_SETTINGS
@given(case=cases(), data=st.data())
def test_altering_the_future_leaves_features_unchanged(case: Case, data: st.DataObject) -> None:
    expected = features(to_data(case), case.t)
    altered = alter_the_future(data, case)
    pd.testing.assert_frame_equal(features(altered, case.t), expected)


@settings(LEAKAGE_SETTINGS, max_examples=75)
@given(case=cases())
def test_features_equal_those_of_the_data_cut_at_t(case: Case) -> None:
    expected = features(to_data(case), case.t)
    pd.testing.assert_frame_equal(features(cut_at(case), case.t), expected)


def test_generator_produces_future_records() -> None:
    """The property is not vacuous: the generated data does hold records dated after t."""
    seen = {"result": False, "assessment": False, "activity": False, "withdrawal": False}

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=cases())
    def look(case: Case) -> None:
        t = case.t
        seen["result"] |= any(after(r["submitted_day"], t) for r in case.results)
        seen["assessment"] |= any(after(a["due_day"], t) for a in case.assessments)
        seen["activity"] |= case.activity is not None and any(after(a["day"], t) for a in case.activity)
        seen["withdrawal"] |= any(after(e["unregistration_day"], t) for e in case.enrollments)

    look()
    assert all(seen.values()), seen
