"""Canvas gradebook CSV export (Gradebook → Export) → canonical records.

The layout is described in ``spec/integrations/canvas.md`` section 5. A Canvas export carries no
dates, so the caller states ``as_of_day`` (the day of the term the export was taken): graded work
counts as due and handed in on that day, and work nobody has a score for yet counts as not yet due.

Canvas writes numbers with at most 2 decimals in the user's locale and never with thousands
separators, so a single comma in a number is always a decimal comma, whatever the delimiter.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from student_success.errors import RowError, ValidationFailed
from student_success.ingest.canonical import CanonicalData
from student_success.ingest.csvfile import (
    DEFAULT_LIMITS,
    CsvLimits,
    CsvTable,
    fail,
    find_column,
    parse_number,
    raise_if,
    read_csv_table,
    source_name,
)

IDENTITY_COLUMNS: tuple[str, ...] = (
    "Student",
    "LastName",
    "FirstName",
    "ID",
    "SIS User ID",
    "SIS Login ID",
    "Integration ID",
    "Root Account",
    "Section",
)
TEST_STUDENT_NAMES: frozenset[str] = frozenset({"student, test", "test student", "test, student"})
SCORE_EXPECTED = "expected a number, EX, N/A or empty"
_ASSIGNMENT = re.compile(r"(?P<title>.*?)\s*\((?P<id>\d+)\)")
# Computed columns; with a grading-period filter they get a " (<period>)" suffix, which may be all digits.
_COMPUTED = re.compile(
    r".*\b(Current|Final|Unposted Current|Unposted Final|Override) (Points|Score|Grade|Status)",
)
_GRADES_FILENAME = re.compile(r"_Grades-(?P<course>.+)$")


@dataclass(frozen=True)
class _Assignment:
    column: int
    header: str
    assessment_id: str
    name: str
    points: float
    position: int


@dataclass(frozen=True)
class _Layout:
    """Where things are in this particular export."""

    name: int | None
    last_name: int | None
    first_name: int | None
    student_id: int
    sis_user_id: int | None
    section: int | None
    first_graded: int  # first column after the identity columns


def course_from_filename(file: str) -> str:
    """The course id Canvas puts in an export's name (``2024-03-15T1403_Grades-BIO_101.csv`` → ``BIO_101``).

    Falls back to the file's stem.
    """
    stem = Path(file).stem
    match = _GRADES_FILENAME.search(stem)
    return match.group("course") if match else stem


def unwrap_formula(cell: str) -> str:
    """Undo Canvas's protection of cells beginning with ``=``: ``="=cmd"`` → ``=cmd``."""
    s = cell.strip()
    if len(s) >= 3 and s.startswith('="') and s.endswith('"'):
        return s[2:-1]
    return s


def display_name(sortable: str) -> str:
    """``"Okafor, Ada"`` → ``"Ada Okafor"``; names without a comma are returned as they are."""
    last, sep, first = sortable.partition(",")
    if not sep or not first.strip():
        return sortable.strip()
    return f"{first.strip()} {last.strip()}"


def _layout(table: CsvTable) -> _Layout:
    cols = {name: find_column(table.header, [name]) for name in IDENTITY_COLUMNS}
    missing = [n for n in ("ID",) if cols[n] is None]
    if cols["Student"] is None and (cols["LastName"] is None or cols["FirstName"] is None):
        missing.insert(0, "Student")
    if missing:
        raise fail(
            table.file,
            f"not a Canvas gradebook export: missing column(s) {', '.join(missing)}; "
            f"found {', '.join(table.header[:8])}",
        )

    def pos(name: str) -> int | None:
        header = cols[name]
        return None if header is None else table.header.index(header)

    present = [p for p in (pos(n) for n in IDENTITY_COLUMNS) if p is not None]
    student_id = pos("ID")
    assert student_id is not None
    return _Layout(
        name=pos("Student"),
        last_name=pos("LastName"),
        first_name=pos("FirstName"),
        student_id=student_id,
        sis_user_id=pos("SIS User ID"),
        section=pos("Section"),
        first_graded=max(present) + 1,
    )


def _is_points_row(row: list[str]) -> bool:
    first = row[0]
    return bool(first.strip()) and (first.startswith(" ") or first.strip().casefold() == "points possible")


def _first_student_row(table: CsvTable, layout: _Layout) -> tuple[int, int]:
    """``(points_row, first_student_row)`` indexes; skips an optional Manual Posting row."""
    for i in range(min(2, len(table.rows))):
        if _is_points_row(table.rows[i]):
            before_ok = all(
                not table.rows[j][0].strip() and not table.rows[j][layout.student_id].strip()
                for j in range(i)
            )
            if before_ok:
                return i, i + 1
    raise fail(
        table.file,
        "no 'Points Possible' row: a Canvas export has it right under the header "
        "(after an optional 'Manual Posting' row)",
    )


def _assignments(
    table: CsvTable, layout: _Layout, points_row: int, errors: list[RowError]
) -> list[_Assignment]:
    found: list[_Assignment] = []
    seen: dict[str, str] = {}
    for col in range(layout.first_graded, len(table.header)):
        header = table.header[col]
        match = _ASSIGNMENT.fullmatch(header)
        cell = table.rows[points_row][col]
        try:
            points = parse_number(cell, decimal_comma=True)
        except ValueError:
            continue  # "(read only)" in any language: a computed or read-only column
        if match is None or (points is None and _COMPUTED.fullmatch(match.group("title"))):
            continue  # a custom column, or a computed one whose Points Possible cell is empty
        if points is not None and points < 0:
            errors.append(table.error(points_row, header, "points possible must not be negative", cell))
            continue
        aid = match.group("id")
        if aid in seen:
            errors.append(
                table.error(None, header, f"assignment id {aid} appears twice (also in '{seen[aid]}')")
            )
            continue
        seen[aid] = header
        name = match.group("title") or header
        found.append(_Assignment(col, header, aid, name, math.nan if points is None else points, len(found)))
    return found


def _student_name(row: list[str], layout: _Layout) -> str:
    if layout.name is not None:
        return unwrap_formula(row[layout.name])
    assert layout.last_name is not None and layout.first_name is not None
    return f"{unwrap_formula(row[layout.last_name])}, {unwrap_formula(row[layout.first_name])}"


def _student_id(table: CsvTable, i: int, layout: _Layout, errors: list[RowError]) -> str | None:
    row = table.rows[i]
    sid = unwrap_formula(row[layout.student_id])
    if not sid and layout.sis_user_id is not None:
        sid = unwrap_formula(row[layout.sis_user_id])
    if not sid:
        errors.append(
            table.error(i, table.header[layout.student_id], "missing student ID (and no SIS User ID)")
        )
        return None
    return sid


def _score(table: CsvTable, i: int, a: _Assignment, errors: list[RowError]) -> tuple[float, bool] | None:
    """``(score_pct, excused)`` for one cell, or ``None`` when there is no result."""
    cell = table.rows[i][a.column].strip()
    upper = cell.upper()
    if not cell or upper == "N/A":
        return None
    if upper == "EX":
        return math.nan, True
    try:
        score = parse_number(cell, decimal_comma=True)
    except ValueError:
        errors.append(table.error(i, a.header, SCORE_EXPECTED, cell))
        return None
    assert score is not None
    if score < 0:
        errors.append(table.error(i, a.header, "a score must not be negative", cell))
        return None
    pct = 100.0 * score / a.points if a.points > 0 else math.nan
    return pct, False


def _read_students(
    table: CsvTable,
    layout: _Layout,
    start: int,
    assignments: list[_Assignment],
    errors: list[RowError],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    students: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    for i in range(start, len(table.rows)):
        row = table.rows[i]
        name = _student_name(row, layout)
        if name.casefold() in TEST_STUDENT_NAMES:
            continue
        sid = _student_id(table, i, layout, errors)
        if sid is None:
            continue
        if sid in first_line:
            errors.append(
                table.error(
                    i,
                    table.header[layout.student_id],
                    f"duplicate student ID {sid}: also on line {first_line[sid]}",
                    sid,
                )
            )
            continue
        first_line[sid] = table.lines[i]
        section = row[layout.section].strip() if layout.section is not None else ""
        students.append({"student_id": sid, "display_name": display_name(name), "section": section or pd.NA})
        for a in assignments:
            got = _score(table, i, a, errors)
            if got is not None:
                results.append(
                    {
                        "assessment_id": a.assessment_id,
                        "student_id": sid,
                        "score_pct": got[0],
                        "excused": got[1],
                    }
                )
    return students, results


def _check_as_of_day(as_of_day: object, file: str) -> int:
    if as_of_day is None or isinstance(as_of_day, bool) or not isinstance(as_of_day, numbers.Integral):
        raise fail(
            file,
            "a Canvas export carries no dates: give as_of_day, the day of the term it was taken",
            value=None if as_of_day is None else repr(as_of_day),
        )
    if as_of_day < 0:
        raise fail(file, "as_of_day must be 0 or more (days since the course start)", value=str(as_of_day))
    return int(as_of_day)


def read_canvas_export(
    path_or_bytes: Path | str | bytes,
    *,
    as_of_day: int,
    filename: str | None = None,
    course_id: str | None = None,
    limits: CsvLimits = DEFAULT_LIMITS,
) -> CanonicalData:
    """Read a Canvas gradebook CSV export.

    Args:
        path_or_bytes: the export file, or its content.
        as_of_day: the day of the term (days since the course start) the export was taken.
        filename: the name used in messages and for the default course id.
        course_id: the course id; default: taken from the file name (``…_Grades-<course>.csv``).
        limits: size, row and column limits.

    Returns:
        Canonical data with ``source="canvas"``, ``has_dates=False``, ``has_context=False``.

    Raises:
        ValidationFailed: every problem found (missing columns, no Points Possible row, text in a
            score cell, duplicate student IDs, negative points), each with its line and column.
    """
    file = source_name(path_or_bytes, filename)
    day = _check_as_of_day(as_of_day, file)
    table = read_csv_table(path_or_bytes, filename=file, limits=limits)
    layout = _layout(table)
    points_row, start = _first_student_row(table, layout)
    errors: list[RowError] = []
    assignments = _assignments(table, layout, points_row, errors)
    students, results = _read_students(table, layout, start, assignments, errors)
    raise_if(errors)
    if not students:
        raise ValidationFailed([RowError(file, None, None, "the export has no student rows")])
    course = course_id or course_from_filename(file)
    return _build(course, day, assignments, students, results)


def _build(
    course: str,
    day: int,
    assignments: list[_Assignment],
    students: list[dict[str, Any]],
    results: list[dict[str, Any]],
) -> CanonicalData:
    graded = {r["assessment_id"] for r in results}
    assessments = pd.DataFrame(
        {
            "course_id": course,
            "assessment_id": [a.assessment_id for a in assignments],
            "name": [a.name for a in assignments],
            "kind": "assignment",
            "due_day": [float(day) if a.assessment_id in graded else math.nan for a in assignments],
            "points_possible": [a.points for a in assignments],
            "position": [a.position for a in assignments],
        },
        index=range(len(assignments)),
    )
    res = pd.DataFrame(results, columns=["assessment_id", "student_id", "score_pct", "excused"])
    res.insert(0, "course_id", course)
    res["submitted_day"] = float(day)
    res["is_banked"] = False
    enrollments = pd.DataFrame(students, columns=["student_id", "display_name", "section"])
    enrollments.insert(0, "course_id", course)
    courses = pd.DataFrame({"course_id": [course], "name": [course]})
    return CanonicalData(
        source="canvas",
        courses=courses,
        enrollments=enrollments,
        assessments=assessments,
        results=res,
        as_of_day=day,
        has_dates=False,
        has_context=False,
    )
