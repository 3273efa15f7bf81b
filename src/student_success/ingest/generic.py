"""Generic CSV → canonical records.

Two shapes are read:

* **per student** (one row per student): an id column, optional name/section/course, and summary
  columns such as ``early_avg_score`` (see ``SUMMARY_COLUMN_MAP``) → ``CanonicalData.summary``;
* **long** (one row per student and assessment), recognised by an assessment column: student id,
  assessment, score, optional points possible, due/submitted day, excused → assessments and results.

Headers are matched by synonyms ignoring case, spaces and underscores; an explicit mapping
``{"canonical_name": "their header"}`` overrides them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from student_success.errors import RowError
from student_success.ingest.canonical import RESULT_COLUMNS, CanonicalData
from student_success.ingest.csvfile import (
    DEFAULT_LIMITS,
    CsvLimits,
    CsvTable,
    fail,
    find_column,
    number_cell,
    raise_if,
    read_csv_table,
    source_name,
)

# fmt: off
STUDENT_ID_SYNONYMS: tuple[str, ...] = (
    "id_student", "student_id", "student id", "id", "sis_id", "learner_id",
)

IDENTITY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "student_id": STUDENT_ID_SYNONYMS,
    "name": ("name", "student_name", "display_name", "full_name", "student"),
    "section": ("section", "section_name", "class_section", "class"),
    "course_id": ("course_id", "course", "course_code", "code_module"),
}

SUMMARY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "early_avg_score": (
        "early_avg_score", "avg_score", "average_score", "mean_score", "average", "avg_grade",
    ),
    "early_total_clicks": ("early_total_clicks", "total_clicks", "clicks", "sum_click", "vle_clicks"),
    "studied_credits": ("studied_credits", "credits", "credit_load"),
    "num_of_prev_attempts": (
        "num_of_prev_attempts", "num_prev_attempts", "prev_attempts", "previous_attempts",
    ),
    "early_missing_count": ("early_missing_count", "missing_count", "n_missing", "missing"),
    "early_submitted_count": ("early_submitted_count", "submitted_count", "n_submitted"),
    "as_of_day": ("as_of_day", "as_of"),
}

LONG_SYNONYMS: dict[str, tuple[str, ...]] = {
    "assessment_id": ("assessment_id", "id_assessment", "assignment_id"),
    "assessment_name": ("assessment", "assessment_name", "assignment", "assignment_name", "title"),
    "score": ("score", "grade", "mark", "points", "points_earned"),
    "points_possible": ("points_possible", "max_score", "max_points", "out_of", "total_points"),
    "due_day": ("due_day", "due", "date", "deadline_day"),
    "submitted_day": ("submitted_day", "date_submitted", "submission_day"),
    "excused": ("excused", "is_excused"),
    "weight": ("weight",),
}
# fmt: on

CANONICAL_NAMES: frozenset[str] = (
    frozenset(IDENTITY_SYNONYMS) | frozenset(SUMMARY_SYNONYMS) | frozenset(LONG_SYNONYMS)
)
_TRUE = frozenset({"1", "true", "yes", "y", "x", "ex", "excused"})
_FALSE = frozenset({"", "0", "false", "no", "n"})
_NONNEGATIVE_SUMMARY = tuple(c for c in SUMMARY_SYNONYMS if c != "as_of_day")


def _is_long(header: list[str], explicit: dict[str, str]) -> bool:
    if "assessment_id" in explicit or "assessment_name" in explicit:
        return True
    return any(find_column(header, LONG_SYNONYMS[k]) for k in ("assessment_id", "assessment_name"))


def detect_generic_mapping(header: list[str], *, mapping: dict[str, str] | None = None) -> dict[str, str]:
    """Which of ``header``'s columns feeds each canonical name.

    Args:
        header: the file's header cells.
        mapping: explicit ``{"canonical_name": "their header"}`` entries; they win over synonyms.

    Returns:
        ``{"canonical_name": "their header"}`` for every column found. The file is in the long
        format exactly when ``assessment_id`` or ``assessment_name`` is in the result.
    """
    explicit = dict(mapping or {})
    taken = set(explicit.values())
    free = [h for h in header if h not in taken]
    synonyms = dict(IDENTITY_SYNONYMS)
    synonyms.update(LONG_SYNONYMS if _is_long(header, explicit) else SUMMARY_SYNONYMS)
    found: dict[str, str] = {}
    for canonical, names in synonyms.items():
        if canonical in explicit:
            continue
        column = find_column(free, names)
        if column is not None:
            found[canonical] = column
            free.remove(column)
    found.update(explicit)
    return found


def load_mapping(path: Path | str) -> dict[str, str]:
    """Read a mapping file: a JSON object ``{"canonical_name": "their header", ...}``.

    Raises:
        ValidationFailed: the file is not such an object.
    """
    file = Path(path).name
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise fail(file, f"cannot read the mapping file as JSON: {exc}") from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise fail(file, 'the mapping must be a JSON object of strings: {"canonical_name": "their header"}')
    return data


def _check_mapping(table: CsvTable, mapping: dict[str, str]) -> None:
    errors: list[RowError] = []
    for canonical, theirs in mapping.items():
        if canonical not in CANONICAL_NAMES:
            accepted = ", ".join(sorted(CANONICAL_NAMES))
            errors.append(
                table.error(None, theirs, f"unknown canonical name {canonical!r}; accepted: {accepted}")
            )
        elif theirs not in table.header:
            errors.append(
                table.error(
                    None,
                    theirs,
                    f"the mapping names this column for {canonical!r} but the file has no "
                    f"such column; found {', '.join(table.header)}",
                )
            )
    raise_if(errors)


def read_generic_csv(
    path: Path | str | bytes,
    *,
    mapping: dict[str, str] | None = None,
    as_of_day: int | None = None,
    filename: str | None = None,
    limits: CsvLimits = DEFAULT_LIMITS,
) -> CanonicalData:
    """Read a generic CSV, per student or long (one row per student and assessment).

    Args:
        path: the file, or its content as bytes.
        mapping: explicit ``{"canonical_name": "their header"}``; overrides the synonyms.
        as_of_day: the day of the term the data describes, when known.
        filename: the name used in messages and as the default course id.
        limits: size, row and column limits.

    Returns:
        Canonical data with ``source="generic"``.

    Raises:
        ValidationFailed: every problem found, each with its line and column.
    """
    file = source_name(path, filename)
    table = read_csv_table(path, filename=file, limits=limits)
    if mapping:
        _check_mapping(table, mapping)
    cols = detect_generic_mapping(table.header, mapping=mapping)
    if "student_id" not in cols:
        raise fail(
            file,
            f"no student id column; found: {', '.join(table.header)}; "
            f"accepted: {', '.join(STUDENT_ID_SYNONYMS)} (or give a mapping)",
        )
    if not table.rows:
        raise fail(file, "the file has a header but no data rows")
    course = Path(file).stem
    if "assessment_id" in cols or "assessment_name" in cols:
        return _read_long(table, cols, course, as_of_day)
    return _read_per_student(table, cols, course, as_of_day)


def _text(table: CsvTable, i: int, cols: dict[str, str], name: str) -> str:
    return table.cell(i, cols.get(name))


def _student(table: CsvTable, i: int, cols: dict[str, str], errors: list[RowError]) -> str | None:
    sid = _text(table, i, cols, "student_id")
    if not sid:
        errors.append(table.error(i, cols["student_id"], "missing student ID"))
        return None
    return sid


def _nonnegative(
    table: CsvTable, i: int, cols: dict[str, str], name: str, errors: list[RowError], *, pct: bool = False
) -> float | None:
    column = cols.get(name)
    return None if column is None else number_cell(table, i, column, errors, allow_percent=pct, low=0)


def _read_per_student(
    table: CsvTable, cols: dict[str, str], course: str, as_of_day: int | None
) -> CanonicalData:
    present = [c for c in SUMMARY_SYNONYMS if c in cols]
    if not present:
        raise fail(
            table.file,
            "no summary columns and no assessment column; expected some of: "
            f"{', '.join(SUMMARY_SYNONYMS)}; found: {', '.join(table.header)}",
        )
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    summary: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    for i in range(len(table.rows)):
        sid = _student(table, i, cols, errors)
        if sid is None:
            continue
        if sid in first_line:
            errors.append(table.duplicate(i, cols["student_id"], f"student {sid}", first_line[sid], sid))
            continue
        first_line[sid] = table.lines[i]
        values: dict[str, Any] = {"student_id": sid}
        for name in present:
            if name in _NONNEGATIVE_SUMMARY:
                got = _nonnegative(table, i, cols, name, errors, pct=name == "early_avg_score")
            else:
                got = number_cell(table, i, cols[name], errors)
            values[name] = math.nan if got is None else got
        summary.append(values)
        people.append(_person(table, i, cols, sid, course))
    raise_if(errors)
    frame = pd.DataFrame(summary, columns=["student_id", *present]).astype(
        {"student_id": "string", **dict.fromkeys(present, "float64")}
    )
    return _per_student_data(frame, people, present, as_of_day)


def _person(table: CsvTable, i: int, cols: dict[str, str], sid: str, course: str) -> dict[str, Any]:
    return {
        "course_id": _text(table, i, cols, "course_id") or course,
        "student_id": sid,
        "display_name": _text(table, i, cols, "name") or pd.NA,
        "section": _text(table, i, cols, "section") or pd.NA,
    }


def _per_student_data(
    frame: pd.DataFrame, people: list[dict[str, Any]], present: list[str], as_of_day: int | None
) -> CanonicalData:
    enrollments = pd.DataFrame(people, columns=["course_id", "student_id", "display_name", "section"])
    if "studied_credits" in frame:
        enrollments["studied_credits"] = frame["studied_credits"].to_numpy()
    if "num_of_prev_attempts" in frame:
        enrollments["num_prev_attempts"] = frame["num_of_prev_attempts"].to_numpy()
    day = as_of_day
    if day is None and "as_of_day" in frame:
        days = frame["as_of_day"].dropna().unique()
        if len(days) == 1 and float(days[0]).is_integer():
            day = int(days[0])
    return CanonicalData(
        source="generic",
        courses=_courses(enrollments),
        enrollments=enrollments,
        summary=frame,
        as_of_day=day,
        has_dates=False,
        has_context={"studied_credits", "num_of_prev_attempts"} <= set(present),
    )


def _courses(enrollments: pd.DataFrame) -> pd.DataFrame:
    ids = list(dict.fromkeys(enrollments["course_id"].tolist()))
    return pd.DataFrame({"course_id": ids, "name": ids})


def _excused(table: CsvTable, i: int, cols: dict[str, str], errors: list[RowError]) -> bool:
    value = _text(table, i, cols, "excused")
    if value.casefold() in _TRUE:
        return True
    if value.casefold() not in _FALSE:
        errors.append(table.error(i, cols["excused"], "expected yes/no, true/false, 1/0 or empty", value))
    return False


def _score(
    table: CsvTable, i: int, cols: dict[str, str], errors: list[RowError]
) -> tuple[float | None, bool]:
    """``(score_pct, excused)`` of one long-format row."""
    excused = _excused(table, i, cols, errors)
    if _text(table, i, cols, "score").upper() == "EX":
        return None, True
    score = _nonnegative(table, i, cols, "score", errors, pct=True)
    if score is None or excused:
        return None, excused
    points = _nonnegative(table, i, cols, "points_possible", errors)
    if points is None:
        return score, excused
    return (100.0 * score / points if points > 0 else math.nan), excused


def _read_long(table: CsvTable, cols: dict[str, str], course: str, as_of_day: int | None) -> CanonicalData:
    if "score" not in cols:
        raise fail(
            table.file,
            f"no score column; accepted: {', '.join(LONG_SYNONYMS['score'])}; "
            f"found: {', '.join(table.header)}",
        )
    errors: list[RowError] = []
    seen: dict[tuple[str, str, str], int] = {}
    people: dict[tuple[str, str], dict[str, Any]] = {}
    tasks: dict[tuple[str, str], dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    aid_col = cols.get("assessment_id") or cols["assessment_name"]
    for i in range(len(table.rows)):
        sid = _student(table, i, cols, errors)
        aid = _text(table, i, cols, "assessment_id") or _text(table, i, cols, "assessment_name")
        if not aid:
            errors.append(table.error(i, aid_col, "missing assessment"))
        if sid is None or not aid:
            continue
        person = _person(table, i, cols, sid, course)
        key = (person["course_id"], sid, aid)
        if key in seen:
            errors.append(
                table.duplicate(i, aid_col, f"result for student {sid} and assessment {aid}", seen[key], aid)
            )
            continue
        seen[key] = table.lines[i]
        people.setdefault(key[:2], person)
        _note_task(tasks, table, i, cols, (key[0], aid), errors)
        result = _result(table, i, cols, errors)
        if result is not None:
            results.append({"course_id": key[0], "assessment_id": aid, "student_id": sid, **result})
    raise_if(errors)
    return _long_data(cols, people, tasks, results, as_of_day)


def _note_task(
    tasks: dict[tuple[str, str], dict[str, Any]],
    table: CsvTable,
    i: int,
    cols: dict[str, str],
    key: tuple[str, str],
    errors: list[RowError],
) -> None:
    if key not in tasks:
        position = sum(k[0] == key[0] for k in tasks)
        tasks[key] = {
            "course_id": key[0],
            "assessment_id": key[1],
            "kind": "assignment",
            "position": position,
        }
    task = tasks[key]
    task.setdefault("name", _text(table, i, cols, "assessment_name") or key[1])
    for name in ("due_day", "points_possible", "weight"):
        column = cols.get(name)
        if column is None:
            continue
        low = -math.inf if name == "due_day" else 0.0
        value = number_cell(table, i, column, errors, low=low)
        if value is not None and math.isnan(task.get(name, math.nan)):
            task[name] = value


def _result(table: CsvTable, i: int, cols: dict[str, str], errors: list[RowError]) -> dict[str, Any] | None:
    pct, excused = _score(table, i, cols, errors)
    submitted = number_cell(table, i, cols["submitted_day"], errors) if "submitted_day" in cols else None
    if pct is None and not excused and submitted is None:
        return None  # no work handed in
    return {
        "score_pct": math.nan if pct is None else pct,
        "excused": excused,
        "submitted_day": math.nan if submitted is None else submitted,
        "is_banked": False,
    }


def _long_data(
    cols: dict[str, str],
    people: dict[tuple[str, str], dict[str, Any]],
    tasks: dict[tuple[str, str], dict[str, Any]],
    results: list[dict[str, Any]],
    as_of_day: int | None,
) -> CanonicalData:
    res = pd.DataFrame(results, columns=list(RESULT_COLUMNS))
    if "submitted_day" not in cols and as_of_day is not None:
        res["submitted_day"] = float(as_of_day)
    assessments = pd.DataFrame(list(tasks.values()))
    if "due_day" not in cols:
        graded = set(zip(res["course_id"], res["assessment_id"], strict=True))
        assessments["due_day"] = [
            float(as_of_day) if as_of_day is not None and (c, a) in graded else math.nan
            for c, a in zip(assessments["course_id"], assessments["assessment_id"], strict=True)
        ]
    enrollments = pd.DataFrame(list(people.values()))
    return CanonicalData(
        source="generic",
        courses=_courses(enrollments),
        enrollments=enrollments,
        assessments=assessments,
        results=res,
        as_of_day=as_of_day,
        has_dates="due_day" in cols and "submitted_day" in cols,
        has_context=False,
    )
