"""K-12 CSV in the UCI student performance shape → canonical records.

The UCI files (``student-mat.csv``, ``student-por.csv``) are ``;``-separated with quoted strings and
have no id column: each student is then named after the line it is on (``row-<line>``). Yes/no
columns become 1/0. ``G3`` (the final grade) is kept as the training target when present.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from student_success.errors import RowError
from student_success.features.catalog import K12_FEATURES
from student_success.ingest.canonical import CanonicalData
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
from student_success.ingest.generic import STUDENT_ID_SYNONYMS

REQUIRED_COLUMNS: tuple[str, ...] = ("G1", "absences", "failures")
TARGET_COLUMN = "G3"
BINARY_COLUMNS: frozenset[str] = frozenset({"schoolsup", "famsup", "paid", "activities", "higher"})
RANGES: dict[str, tuple[float, float]] = {
    "G1": (0, 20),
    "G3": (0, 20),
    "absences": (0, math.inf),
    "failures": (0, math.inf),
    "studytime": (1, 4),
    "traveltime": (1, 4),
    "goout": (1, 5),
    "freetime": (1, 5),
    "Dalc": (1, 5),
    "Walc": (1, 5),
    "health": (1, 5),
}
UCI_FILES: dict[str, str] = {"mat": "student-mat.csv", "por": "student-por.csv"}
_YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0"})
_SUBJECT_IN_NAME = re.compile(r"student-(?P<subject>mat|por)\b", re.IGNORECASE)


def _yes_no(table: CsvTable, i: int, column: str, errors: list[RowError]) -> float:
    value = table.cell(i, column)
    key = value.casefold()
    if not key:
        return math.nan
    if key in _YES:
        return 1.0
    if key in _NO:
        return 0.0
    errors.append(table.error(i, column, "expected yes or no", value))
    return math.nan


def _number(table: CsvTable, i: int, name: str, column: str, errors: list[RowError]) -> float:
    low, high = RANGES.get(name, (-math.inf, math.inf))
    value = number_cell(table, i, column, errors, low=low, high=high)
    return math.nan if value is None else value


def _columns(table: CsvTable) -> dict[str, str]:
    wanted = [*K12_FEATURES, TARGET_COLUMN]
    cols = {name: find_column(table.header, [name]) for name in wanted}
    found = {name: col for name, col in cols.items() if col is not None}
    missing = [name for name in REQUIRED_COLUMNS if name not in found]
    if missing:
        raise fail(
            table.file,
            f"missing required column(s) {', '.join(missing)}; found: {', '.join(table.header)}",
        )
    return found


def _subject(table: CsvTable, i: int, subject_col: str | None, default: str | None) -> str | None:
    if subject_col is not None:
        return table.cell(i, subject_col) or default
    return default


def _read_rows(table: CsvTable, cols: dict[str, str]) -> list[dict[str, Any]]:
    id_col = find_column(table.header, STUDENT_ID_SYNONYMS)
    subject_col = find_column(table.header, ["subject"])
    match = _SUBJECT_IN_NAME.search(table.file)
    default_subject = match.group("subject").lower() if match else None
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    records: list[dict[str, Any]] = []
    for i, line in enumerate(table.lines):
        sid = table.cell(i, id_col) if id_col else f"row-{line}"
        if not sid:
            errors.append(table.error(i, id_col, "missing student ID"))
            continue
        if sid in first_line:
            errors.append(
                table.error(i, id_col, f"duplicate student {sid}: also on line {first_line[sid]}", sid)
            )
            continue
        first_line[sid] = line
        record: dict[str, Any] = {"student_id": sid}
        for name, column in cols.items():
            reader = _yes_no if name in BINARY_COLUMNS else None
            record[name] = (
                reader(table, i, column, errors) if reader else _number(table, i, name, column, errors)
            )
        subject = _subject(table, i, subject_col, default_subject)
        if subject is not None:
            record["subject"] = subject
        records.append(record)
    raise_if(errors)
    return records


def read_k12_csv(
    path: Path | str | bytes, *, filename: str | None = None, limits: CsvLimits = DEFAULT_LIMITS
) -> CanonicalData:
    """Read a K-12 CSV shaped like the UCI student performance files.

    Args:
        path: the file, or its content as bytes.
        filename: the name used in messages (and to recognise ``student-mat``/``student-por``).
        limits: size, row and column limits.

    Returns:
        Canonical data with ``source="k12"`` and ``k12``: ``student_id``, the ``K12_FEATURES``
        columns present (floats; yes/no → 1/0), ``G3`` when present, ``subject`` when known.

    Raises:
        ValidationFailed: missing ``G1``/``absences``/``failures``, text in a numeric column, values
            out of range, duplicate student ids.
    """
    file = source_name(path, filename)
    table = read_csv_table(path, filename=file, limits=limits)
    if not table.rows:
        raise fail(file, "the file has a header but no data rows")
    cols = _columns(table)
    records = _read_rows(table, cols)
    names = [n for n in (*K12_FEATURES, TARGET_COLUMN) if n in cols]
    has_subject = any("subject" in r for r in records)
    frame = pd.DataFrame(records, columns=["student_id", *names, *(["subject"] if has_subject else [])])
    frame = frame.astype({"student_id": "string", **dict.fromkeys(names, "float64")})
    if has_subject:
        frame["subject"] = frame["subject"].astype("string")
    course = Path(file).stem
    enrollments = pd.DataFrame({"course_id": course, "student_id": frame["student_id"]})
    return CanonicalData(
        source="k12",
        courses=pd.DataFrame({"course_id": [course], "name": [course]}),
        enrollments=enrollments,
        k12=frame,
        has_dates=False,
        has_context=False,
    )


def load_uci_dataset(dataset_dir: Path | str) -> pd.DataFrame:
    """Read both UCI files (mathematics and Portuguese) for training.

    Args:
        dataset_dir: the folder holding ``student-mat.csv`` and ``student-por.csv``.

    Returns:
        One row per student and subject: ``student_id`` (``"mat-row-2"``, …), the ``K12_FEATURES``
        columns, ``G3`` and ``subject`` (``"mat"`` or ``"por"``).

    Raises:
        ValidationFailed: a file is missing or malformed.
    """
    frames = []
    for subject, name in UCI_FILES.items():
        data = read_k12_csv(Path(dataset_dir) / name)
        assert data.k12 is not None
        frame = data.k12.copy()
        frame["subject"] = pd.Series(subject, index=frame.index, dtype="string")
        frame["student_id"] = subject + "-" + frame["student_id"]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
