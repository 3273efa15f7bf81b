"""Realistic synthetic example files: a Canvas gradebook export and a generic per-student CSV.

Everything is fake but shaped like the real thing: Canvas's header, ``Points Possible`` row,
read-only total columns, ``EX`` and missing work, and a trailing Test Student row. The output is
deterministic for a given seed (``numpy.random.default_rng``).
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

LAST_NAMES: tuple[str, ...] = (
    "Okafor", "Nguyen", "García", "Kowalski", "Haddad", "Schmidt", "Tanaka", "Mensah", "O'Brien", "Rossi",
    "Ivanova", "Singh", "Johansson", "Mwangi", "Da Silva", "Kim", "Fischer", "Popescu", "Hernández", "Yilmaz",
    "Novak", "Chen", "Adeyemi", "Dubois", "Murphy", "Kaur", "Petrov", "Alvarez", "Nakamura", "Walker",
)  # fmt: skip
FIRST_NAMES: tuple[str, ...] = (
    "Ada", "Minh", "Lucía", "Piotr", "Layla", "Jonas", "Yui", "Kwame", "Siobhan", "Marco",
    "Daria", "Arjun", "Elin", "Wanjiru", "Thiago", "Ji-woo", "Lena", "Andrei", "Sofía", "Emre",
    "Tereza", "Wei", "Tobi", "Camille", "Liam", "Harpreet", "Nikolai", "Mateo", "Haruto", "Grace",
)  # fmt: skip

# kind name, assignment group, points possible
ASSIGNMENT_KINDS: tuple[tuple[str, str, float], ...] = (
    ("Homework", "Homework", 10.0),
    ("Quiz", "Quizzes", 20.0),
    ("Lab Report", "Labs", 25.0),
)
PROFILES: dict[str, tuple[float, float, float, float]] = {
    # share of students, mean score %, spread, chance a piece of work is missing
    "strong": (0.30, 91.0, 5.0, 0.02),
    "average": (0.45, 78.0, 9.0, 0.08),
    "struggling": (0.25, 58.0, 14.0, 0.30),
}
EXCUSED_RATE = 0.03
NOT_ASSIGNED_RATE = 0.01
LETTER_GRADES: tuple[tuple[float, str], ...] = (
    (94, "A"), (90, "A-"), (87, "B+"), (84, "B"), (80, "B-"), (77, "C+"),
    (74, "C"), (70, "C-"), (67, "D+"), (64, "D"), (61, "D-"), (0, "F"),
)  # fmt: skip
TOTAL_COLUMNS: tuple[str, ...] = (
    "Current Points", "Final Points", "Current Score", "Unposted Current Score", "Final Score",
    "Unposted Final Score",
)  # fmt: skip
GRADE_COLUMNS: tuple[str, ...] = (
    "Current Grade",
    "Unposted Current Grade",
    "Final Grade",
    "Unposted Final Grade",
)
READ_ONLY = "(read only)"


@dataclass(frozen=True)
class _Assignment:
    title: str
    group: str
    points: float
    canvas_id: int


@dataclass(frozen=True)
class _Student:
    sortable_name: str
    canvas_id: int
    sis_id: str
    login: str
    section: str
    profile: str


def _fmt(value: float, decimal_comma: bool) -> str:
    """A number as Canvas writes it: at most 2 decimals, no trailing zeros."""
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if decimal_comma else text


def _login(first: str, last: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", first[0] + last).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", ascii_name.lower())


def _students(rng: np.random.Generator, n: int) -> list[_Student]:
    pairs = [(f, la) for la in LAST_NAMES for f in FIRST_NAMES]
    if n > len(pairs):
        raise ValueError(f"at most {len(pairs)} synthetic students")
    chosen = rng.choice(len(pairs), size=n, replace=False)
    ids = rng.choice(900_000, size=n, replace=False) + 100_000
    names = list(PROFILES)
    profiles = rng.choice(len(names), size=n, p=[PROFILES[p][0] for p in names])
    sections = rng.integers(1, 3, size=n)
    people = []
    for k in range(n):
        first, last = pairs[int(chosen[k])]
        people.append(
            (f"{last}, {first}", int(ids[k]), _login(first, last), names[profiles[k]], int(sections[k]))
        )
    people.sort(key=lambda p: p[0].casefold())
    return [
        _Student(name, cid, f"S{2024001 + k}", login, f"Section {sec}", profile)
        for k, (name, cid, login, profile, sec) in enumerate(people)
    ]


def _assignments(rng: np.random.Generator, n: int) -> list[_Assignment]:
    base = int(rng.integers(40_000, 90_000))
    counts: dict[str, int] = {}
    out = []
    for k in range(n):
        kind, group, points = ASSIGNMENT_KINDS[k % len(ASSIGNMENT_KINDS)]
        counts[kind] = counts.get(kind, 0) + 1
        out.append(_Assignment(f"{kind} {counts[kind]}", group, points, base + 3 * k))
    return out


def _cell(rng: np.random.Generator, student: _Student, a: _Assignment, k: int) -> str | float:
    """One graded cell: a score in points, ``"EX"``, ``"N/A"`` or ``""`` (missing)."""
    _, mean, spread, p_missing = PROFILES[student.profile]
    roll = rng.random()
    if roll < NOT_ASSIGNED_RATE:
        return "N/A"
    if roll < NOT_ASSIGNED_RATE + EXCUSED_RATE:
        return "EX"
    if rng.random() < p_missing:
        return ""
    drift = -2.0 * k if student.profile == "struggling" else 0.0
    pct = float(np.clip(rng.normal(mean + drift, spread), 0.0, 100.0))
    return round(pct / 100.0 * a.points * 2) / 2


def _totals(
    cells: list[str | float], assignments: list[_Assignment], group: str | None
) -> list[float | None]:
    """Canvas's computed values for one assignment group, or the course when ``group`` is ``None``.

    Current Score counts graded work only; Final Score counts ungraded work as zero.
    """
    earned = possible_now = possible_final = 0.0
    for cell, a in zip(cells, assignments, strict=True):
        if (group is not None and a.group != group) or cell in ("EX", "N/A"):
            continue
        possible_final += a.points
        if isinstance(cell, float):
            earned += cell
            possible_now += a.points
    current = 100.0 * earned / possible_now if possible_now else None
    final = 100.0 * earned / possible_final if possible_final else None
    return [earned, earned, current, current, final, final]


def _letter(score: float | None) -> str:
    if score is None:
        return ""
    return next(letter for cutoff, letter in LETTER_GRADES if score >= cutoff)


def _student_row(
    student: _Student, cells: list[str | float], assignments: list[_Assignment], dc: bool
) -> list[str]:
    groups = list(dict.fromkeys(a.group for a in assignments))
    computed: list[float | None] = []
    for group in [*groups, None]:
        computed += _totals(cells, assignments, group)
    course_current, course_final = computed[-4], computed[-2]
    texts = ["" if v is None else _fmt(v, dc) for v in computed]
    grades = [_letter(course_current), _letter(course_current), _letter(course_final), _letter(course_final)]
    scores = [_fmt(c, dc) if isinstance(c, float) else c for c in cells]
    ident = [student.sortable_name, str(student.canvas_id), student.sis_id, student.login, student.section]
    return ident + scores + texts + grades


def _header(assignments: list[_Assignment]) -> list[str]:
    groups = list(dict.fromkeys(a.group for a in assignments))
    head = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    head += [f"{a.title} ({a.canvas_id})" for a in assignments]
    head += [f"{g} {t}" for g in groups for t in TOTAL_COLUMNS]
    return head + list(TOTAL_COLUMNS) + list(GRADE_COLUMNS)


def make_canvas_export(
    n_students: int = 30,
    *,
    seed: int = 7,
    n_assignments: int = 8,
    n_graded: int = 6,
    delimiter: str = ",",
    bom: bool = False,
    manual_posting: bool = False,
) -> str:
    """A synthetic Canvas gradebook export, exactly in Canvas's CSV layout.

    Args:
        n_students: number of (real) students; a Test Student row is appended after them.
        seed: random seed; the same seed gives the same text.
        n_assignments: number of assignment columns.
        n_graded: how many of them (the first ones) are graded so far; the rest have no scores.
        delimiter: ``,`` or ``;`` (then numbers use a decimal comma, as Canvas does for such locales).
        bom: start the text with a UTF-8 byte-order mark.
        manual_posting: add the ``Manual Posting`` row under the last assignment.

    Returns:
        The CSV text (``\\n`` line ends).
    """
    rng = np.random.default_rng(seed)
    students = _students(rng, n_students)
    assignments = _assignments(rng, n_assignments)
    dc = delimiter != ","
    width = len(_header(assignments))
    n_computed = width - 5 - n_assignments
    rows: list[list[str]] = [_header(assignments)]
    if manual_posting:
        rows.append([""] * (4 + n_assignments) + ["Manual Posting"] + [""] * n_computed)
    rows.append(["    Points Possible", "", "", "", ""] + [_fmt(a.points, dc) for a in assignments]
                + [READ_ONLY] * n_computed)  # fmt: skip
    for s in students:
        cells: list[str | float] = [
            _cell(rng, s, a, k) if k < n_graded else "" for k, a in enumerate(assignments)
        ]
        rows.append(_student_row(s, cells, assignments, dc))
    test = _Student("Student, Test", int(rng.integers(900_000, 999_999)), "", "", "Section 1", "average")
    rows.append(_student_row(test, [""] * n_assignments, assignments, dc))
    return _to_csv(rows, delimiter, bom)


def _to_csv(rows: list[list[str]], delimiter: str, bom: bool) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return ("\ufeff" if bom else "") + buffer.getvalue()


def make_generic_csv(n_students: int = 25, *, seed: int = 7) -> str:
    """A synthetic one-row-per-student CSV with the guide's summary columns.

    Columns: ``id_student, early_avg_score, early_total_clicks, studied_credits, num_of_prev_attempts``.
    Struggling students score lower, click less, carry heavier loads and have repeated the course
    more often; a few of them have no score yet (empty cell).

    Args:
        n_students: number of rows.
        seed: random seed; the same seed gives the same text.

    Returns:
        The CSV text (``\\n`` line ends).
    """
    rng = np.random.default_rng(seed)
    names = list(PROFILES)
    profiles = rng.choice(len(names), size=n_students, p=[PROFILES[p][0] for p in names])
    ids = np.sort(rng.choice(2_000_000, size=n_students, replace=False) + 100_000)
    rows = [
        ["id_student", "early_avg_score", "early_total_clicks", "studied_credits", "num_of_prev_attempts"]
    ]
    clicks_mean = {"strong": 900.0, "average": 500.0, "struggling": 160.0}
    for sid, p in zip(ids, profiles, strict=True):
        profile = names[p]
        _, mean, spread, p_missing = PROFILES[profile]
        score = float(np.clip(rng.normal(mean, spread), 0.0, 100.0))
        no_score = profile == "struggling" and rng.random() < p_missing / 2
        clicks = int(rng.lognormal(math.log(clicks_mean[profile]), 0.5))
        credits = int(rng.choice([30, 60, 60, 90, 120] if profile == "struggling" else [30, 60, 60, 60, 90]))
        attempts = int(rng.choice(3, p=[0.6, 0.3, 0.1] if profile == "struggling" else [0.9, 0.08, 0.02]))
        rows.append([str(sid), "" if no_score else f"{score:.1f}", str(clicks), str(credits), str(attempts)])
    return _to_csv(rows, ",", False)


def example_files() -> dict[str, str]:
    """The committed example files (name → text), as ``scripts/make_examples.py`` writes them."""
    return {
        "canvas_gradebook_export.csv": make_canvas_export(30, seed=7, n_assignments=8, n_graded=6),
        "generic_students.csv": make_generic_csv(25, seed=7),
    }
