"""The canonical records every source is turned into.

Every adapter (OULAD, Canvas export, generic CSV, K-12 CSV, later the LMS/SIS APIs) returns a
:class:`CanonicalData`: a few pandas DataFrames with the fixed columns below. The feature builder
and the database layer read only these, never a source's own format.

Conventions
-----------
* ``course_id`` and ``student_id`` are strings (the source's stable keys, never display names).
  OULAD courses are ``"<code_module>-<code_presentation>"``, e.g. ``"AAA-2013J"``.
* Days are counted from the course start (day 0), as floats; ``NaN`` means unknown.
* ``score_pct`` is the score as a percentage of the points possible (0–100; extra credit may pass 100).
* A row in ``results`` means the student handed the work in (or it was excused). Work that was due and
  has no row is *missing*; whether it was due by day t is decided by the feature builder.
* Student-group attributes (gender, age band, disability, deprivation band, region) sit in
  ``enrollments`` for fairness reports only; they are never model inputs by default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

COURSE_COLUMNS: dict[str, str] = {
    "course_id": "string",
    "code_module": "string",
    "code_presentation": "string",
    "name": "string",
    "length_days": "Float64",
}

ENROLLMENT_COLUMNS: dict[str, str] = {
    "course_id": "string",
    "student_id": "string",
    "display_name": "string",
    "section": "string",
    "registration_day": "Float64",
    "unregistration_day": "Float64",
    "studied_credits": "Float64",
    "num_prev_attempts": "Float64",
    "highest_education": "string",
    # student-group attributes: fairness reports only
    "gender": "string",
    "age_band": "string",
    "disability": "string",
    "imd_band": "string",
    "region": "string",
    # known outcome, for training and evaluation only (Distinction, Pass, Fail, Withdrawn)
    "final_result": "string",
}

ASSESSMENT_COLUMNS: dict[str, str] = {
    "course_id": "string",
    "assessment_id": "string",
    "name": "string",
    "kind": "string",  # TMA, CMA, Exam (OULAD); assignment (gradebooks)
    "due_day": "Float64",
    "weight": "Float64",
    "points_possible": "Float64",
    "position": "Int64",  # order within the course, 0-based
}

RESULT_COLUMNS: dict[str, str] = {
    "course_id": "string",
    "assessment_id": "string",
    "student_id": "string",
    "submitted_day": "Float64",
    "score_pct": "Float64",
    "excused": "boolean",
    "is_banked": "boolean",
}

ACTIVITY_COLUMNS: dict[str, str] = {
    "course_id": "string",
    "student_id": "string",
    "day": "Float64",
    "clicks": "Float64",
}

PRE_COURSE_COLUMNS: dict[str, str] = {
    "course_id": "string",
    "student_id": "string",
    "pre_course_clicks": "Float64",
}

# "sex" and "age" are the K-12 (UCI) spellings of gender and age.
GROUP_ATTRIBUTES: tuple[str, ...] = ("gender", "age_band", "disability", "imd_band", "region", "sex", "age")
OUTCOMES: tuple[str, ...] = ("Distinction", "Pass", "Fail", "Withdrawn")
AT_RISK_OUTCOMES: frozenset[str] = frozenset({"Fail", "Withdrawn"})


_EMPTY: dict[int, pd.DataFrame] = {}


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    """An empty DataFrame with the given canonical columns and dtypes (a fresh copy each call)."""
    template = _EMPTY.get(id(columns))
    if template is None:
        template = pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in columns.items()})
        _EMPTY[id(columns)] = template
    return template.copy()


def _is_conformed(df: pd.DataFrame, columns: dict[str, Any]) -> bool:
    return list(df.columns) == list(columns) and all(
        str(df[name].dtype) == str(pd.api.types.pandas_dtype(dtype)) for name, dtype in columns.items()
    )


def conform(df: pd.DataFrame, columns: dict[str, Any]) -> pd.DataFrame:
    """Return ``df`` with exactly the canonical ``columns`` (missing ones added as NA), in order and typed."""
    if df.empty and (len(df.columns) == 0 or _is_conformed(df, columns)):
        return empty_frame(columns)
    out = pd.DataFrame(index=df.index)
    for name, dtype in columns.items():
        if name in df.columns:
            out[name] = df[name].astype(dtype)
        else:
            out[name] = pd.Series(pd.NA, index=df.index, dtype=dtype)
    return out.reset_index(drop=True)


@dataclass
class CanonicalData:
    """Canonical records from one source.

    Attributes:
        source: ``oulad``, ``canvas``, ``generic`` or ``k12``.
        courses, enrollments, assessments, results: see the module docstring.
        activity: daily activity (clicks) per student, or ``None`` when the source has none.
        pre_course: activity before the course start, or ``None``.
        as_of_day: the day the data describes, when the source states it (a Canvas export does not
            carry dates: the user gives it).
        k12: for K-12 sources, one row per student with the UCI-style columns (``student_id`` first).
        summary: for a generic one-row-per-student file, the per-student summary columns it gave
            (``student_id`` first), e.g. ``early_avg_score``.
        has_dates: whether submission and due days are real dates (OULAD) or stand-ins (Canvas).
        has_context: whether registration, credit load and prior attempts are present.
    """

    source: str
    courses: pd.DataFrame = field(default_factory=lambda: empty_frame(COURSE_COLUMNS))
    enrollments: pd.DataFrame = field(default_factory=lambda: empty_frame(ENROLLMENT_COLUMNS))
    assessments: pd.DataFrame = field(default_factory=lambda: empty_frame(ASSESSMENT_COLUMNS))
    results: pd.DataFrame = field(default_factory=lambda: empty_frame(RESULT_COLUMNS))
    activity: pd.DataFrame | None = None
    pre_course: pd.DataFrame | None = None
    as_of_day: int | None = None
    k12: pd.DataFrame | None = None
    summary: pd.DataFrame | None = None
    has_dates: bool = False
    has_context: bool = False

    def __post_init__(self) -> None:
        self.courses = conform(self.courses, COURSE_COLUMNS)
        self.enrollments = conform(self.enrollments, ENROLLMENT_COLUMNS)
        self.assessments = conform(self.assessments, ASSESSMENT_COLUMNS)
        self.results = conform(self.results, RESULT_COLUMNS)
        if self.activity is not None:
            self.activity = conform(self.activity, ACTIVITY_COLUMNS)
        if self.pre_course is not None:
            self.pre_course = conform(self.pre_course, PRE_COURSE_COLUMNS)

    @property
    def n_students(self) -> int:
        """Number of distinct students."""
        if self.k12 is not None:
            return len(self.k12)
        if self.summary is not None:
            return len(self.summary)
        return int(self.enrollments["student_id"].nunique())
