"""Canvas gradebook export adapter: exact values and every bad-input case."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from student_success.errors import RowError, ValidationFailed
from student_success.ingest.canvas import course_from_filename, display_name, read_canvas_export

FILE = "2024-03-15T1403_Grades-BIO_101.csv"

BASIC = """\
Student,ID,SIS User ID,SIS Login ID,Section,Notes,Homework 1 (101),Quiz 1 (102),Essay (103),\
Homework Current Score,Current Score,Current Grade
    Points Possible,,,,,,10,20,50,(read only),(read only),(read only)
"Okafor, Ada",1001,S1,aokafor,Section 1,likes labs,8.5,EX,,85,85,B
"Nguyen, Minh",1002,S2,mnguyen,Section 2,,N/A,15,,,75,C
"Rossi, Marco",1003,S3,mrossi,Section 1,,10,20,,100,100,A
"Student, Test",9999,,,Section 1,,1,1,,10,10,F
"""


def write(tmp_path: Path, text: str, name: str = FILE, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def errors_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[RowError]:
    return exc.value.errors


def score(data: pd.DataFrame, student: str, assessment: str) -> float:
    row = data[(data["student_id"] == student) & (data["assessment_id"] == assessment)]
    assert len(row) == 1
    return float(row["score_pct"].iloc[0]) if not pd.isna(row["score_pct"].iloc[0]) else math.nan


def test_basic_export_exact_values(tmp_path: Path) -> None:
    data = read_canvas_export(write(tmp_path, BASIC), as_of_day=30)
    assert data.source == "canvas"
    assert data.as_of_day == 30
    assert (data.has_dates, data.has_context) == (False, False)
    assert data.courses["course_id"].tolist() == ["BIO_101"]
    a = data.assessments
    assert a["assessment_id"].tolist() == ["101", "102", "103"]
    assert a["name"].tolist() == ["Homework 1", "Quiz 1", "Essay"]
    assert a["points_possible"].tolist() == [10.0, 20.0, 50.0]
    assert a["position"].tolist() == [0, 1, 2]
    assert a["kind"].tolist() == ["assignment"] * 3
    assert a["due_day"].tolist()[:2] == [30.0, 30.0]
    assert pd.isna(a["due_day"].iloc[2])  # nobody has a score for the essay yet

    r = data.results
    assert len(r) == 5  # 8.5, EX, 15, 10, 20; N/A and empty give no row; Test Student skipped
    assert score(r, "1001", "101") == 85.0
    assert score(r, "1002", "102") == 75.0
    assert score(r, "1003", "102") == 100.0
    assert int(r["excused"].sum()) == 1
    ex = r[r["excused"]]
    assert (ex["student_id"].iloc[0], ex["assessment_id"].iloc[0]) == ("1001", "102")
    assert pd.isna(ex["score_pct"].iloc[0])
    assert r["submitted_day"].tolist() == [30.0] * 5
    assert not r[(r["student_id"] == "1002") & (r["assessment_id"] == "101")].shape[0]

    e = data.enrollments
    assert e["student_id"].tolist() == ["1001", "1002", "1003"]
    assert e["display_name"].tolist() == ["Ada Okafor", "Minh Nguyen", "Marco Rossi"]
    assert e["section"].tolist() == ["Section 1", "Section 2", "Section 1"]
    assert data.n_students == 3


def test_course_id_argument_and_bytes_input() -> None:
    data = read_canvas_export(BASIC.encode(), as_of_day=5, filename="gradebook.csv", course_id="C-9")
    assert data.courses["course_id"].tolist() == ["C-9"]
    assert set(data.results["course_id"]) == {"C-9"}


def test_course_from_filename_and_display_name() -> None:
    assert course_from_filename("2024-03-15T1403_Grades-BIO_101.csv") == "BIO_101"
    assert course_from_filename("my export.csv") == "my export"
    assert display_name("Okafor, Ada") == "Ada Okafor"
    assert display_name("Cher") == "Cher"


def test_zero_points_possible_gives_nan_but_submitted(tmp_path: Path) -> None:
    text = 'Student,ID,Section,Bonus (7)\n    Points Possible,,,0\n"A, B",1,S,3\n'
    data = read_canvas_export(write(tmp_path, text), as_of_day=10)
    assert len(data.results) == 1
    assert pd.isna(data.results["score_pct"].iloc[0])
    assert not bool(data.results["excused"].iloc[0])
    assert data.assessments["due_day"].tolist() == [10.0]


def test_semicolon_decimal_comma_and_bom(tmp_path: Path) -> None:
    text = (
        "\ufeffStudent;ID;SIS User ID;SIS Login ID;Section;Tarea 1 (11);Current Score\n"
        "    Points Possible;;;;;12,5;(read only)\n"
        '"Okafor, Ada";1001;S1;ao;Sec A;10,625;85\n'
    )
    data = read_canvas_export(write(tmp_path, text, "export.csv"), as_of_day=3)
    assert data.assessments["points_possible"].tolist() == [12.5]
    assert data.results["score_pct"].tolist() == [85.0]
    assert data.enrollments["display_name"].tolist() == ["Ada Okafor"]


@pytest.mark.parametrize("marker", ["(sólo lectura)", "(lecture seule)", "(schreibgeschützt)", "(read only)"])
def test_localised_read_only_marker(tmp_path: Path, marker: str) -> None:
    text = (
        "Student,ID,SIS User ID,SIS Login ID,Section,HW (1),Current Score (2024),Unposted Final Score\n"
        f"    Points Possible,,,,,10,{marker},{marker}\n"
        '"Okafor, Ada",1001,S1,ao,Sec,9,90,90\n'
    )
    data = read_canvas_export(write(tmp_path, text, "export.csv", encoding="cp1252"), as_of_day=3)
    assert data.assessments["assessment_id"].tolist() == ["1"]
    assert data.results["score_pct"].tolist() == [90.0]


def test_manual_posting_row_and_optional_columns(tmp_path: Path) -> None:
    text = (
        "Student,ID,SIS User ID,SIS Login ID,Integration ID,Root Account,Section,"
        "HW (1),Quiz (2),Current Score\n"
        ",,,,,,,,Manual Posting,\n"
        "    Points Possible,,,,,,,10,20,(read only)\n"
        '"Okafor, Ada",1001,S1,ao,I1,school.instructure.com,Sec,7,20,90\n'
    )
    data = read_canvas_export(write(tmp_path, text), as_of_day=3)
    assert data.assessments["assessment_id"].tolist() == ["1", "2"]
    assert sorted(data.results["score_pct"].tolist()) == [70.0, 100.0]


@pytest.mark.parametrize("name", ["Student, Test", "Test Student"])
def test_test_student_row_is_skipped(tmp_path: Path, name: str) -> None:
    text = f'Student,ID,Section,HW (1)\n    Points Possible,,,10\n"A, B",1,S,5\n"{name}",2,S,5\n'
    data = read_canvas_export(write(tmp_path, text), as_of_day=3)
    assert data.enrollments["student_id"].tolist() == ["1"]
    assert len(data.results) == 1


def test_formula_protected_names(tmp_path: Path) -> None:
    text = 'Student,ID,Section,HW (1)\n    Points Possible,,,10\n"=""=cmd""",1,S,5\n"=""=Lee, Ann""",2,S,6\n'
    data = read_canvas_export(write(tmp_path, text), as_of_day=3)
    assert data.enrollments["display_name"].tolist() == ["=cmd", "Ann =Lee"]


def test_empty_id_falls_back_to_sis_user_id(tmp_path: Path) -> None:
    text = 'Student,ID,SIS User ID,Section,HW (1)\n    Points Possible,,,,10\n"A, B",,S-77,S,5\n'
    data = read_canvas_export(write(tmp_path, text), as_of_day=3)
    assert data.enrollments["student_id"].tolist() == ["S-77"]


def test_last_name_first_name_columns(tmp_path: Path) -> None:
    text = "LastName,FirstName,ID,Section,HW (1)\n    Points Possible,,,,10\nOkafor,Ada,1,S,5\n"
    data = read_canvas_export(write(tmp_path, text), as_of_day=3)
    assert data.enrollments["display_name"].tolist() == ["Ada Okafor"]
    assert data.results["score_pct"].tolist() == [50.0]


def test_physical_line_numbers_survive_multiline_cells(tmp_path: Path) -> None:
    text = (
        "Student,ID,Section,Notes,HW (1)\n"
        "    Points Possible,,,,10\n"
        '"A, B",1,S,"two\nlines",5\n'
        '"C, D",2,S,,lots\n'
    )
    with pytest.raises(ValidationFailed) as exc:
        read_canvas_export(write(tmp_path, text), as_of_day=3)
    assert errors_of(exc) == [
        RowError(FILE, 5, "HW (1)", "expected a number, EX, N/A or empty", "lots"),
    ]


def test_text_in_score_cell_exact_error(tmp_path: Path) -> None:
    text = BASIC.replace("8.5,EX", "eight,EX")
    with pytest.raises(ValidationFailed) as exc:
        read_canvas_export(write(tmp_path, text), as_of_day=30)
    assert errors_of(exc) == [
        RowError(FILE, 3, "Homework 1 (101)", "expected a number, EX, N/A or empty", "eight"),
    ]
    assert "line 3, column 'Homework 1 (101)'" in str(exc.value)


def test_all_errors_collected_including_duplicate_ids(tmp_path: Path) -> None:
    text = 'Student,ID,Section,HW (1),Quiz (2)\n    Points Possible,,,10,-5\n"A, B",1,S,x,1\n"C, D",1,S,5,1\n'
    with pytest.raises(ValidationFailed) as exc:
        read_canvas_export(write(tmp_path, text, "g.csv"), as_of_day=3)
    assert errors_of(exc) == [
        RowError("g.csv", 2, "Quiz (2)", "points possible must not be negative", "-5"),
        RowError("g.csv", 3, "HW (1)", "expected a number, EX, N/A or empty", "x"),
        RowError("g.csv", 4, "ID", "duplicate student ID 1: also on line 3", "1"),
    ]


def test_negative_score_is_an_error(tmp_path: Path) -> None:
    text = 'Student,ID,Section,HW (1)\n    Points Possible,,,10\n"A, B",1,S,-2\n'
    with pytest.raises(ValidationFailed) as exc:
        read_canvas_export(write(tmp_path, text, "g.csv"), as_of_day=3)
    assert errors_of(exc) == [RowError("g.csv", 3, "HW (1)", "a score must not be negative", "-2")]


@pytest.mark.parametrize(
    ("header", "missing"),
    [("Name,ID,Section,HW (1)", "Student"), ("Student,Key,Section,HW (1)", "ID")],
)
def test_missing_identity_columns(tmp_path: Path, header: str, missing: str) -> None:
    text = f'{header}\n    Points Possible,,,10\n"A, B",1,S,5\n'
    with pytest.raises(ValidationFailed) as exc:
        read_canvas_export(write(tmp_path, text, "g.csv"), as_of_day=3)
    (error,) = errors_of(exc)
    assert (error.file, error.line) == ("g.csv", None)
    assert error.message.startswith(f"not a Canvas gradebook export: missing column(s) {missing};")


def test_missing_points_possible_row(tmp_path: Path) -> None:
    text = 'Student,ID,Section,HW (1)\n"A, B",1,S,5\n'
    with pytest.raises(ValidationFailed) as exc:
        read_canvas_export(write(tmp_path, text, "g.csv"), as_of_day=3)
    (error,) = errors_of(exc)
    assert error.line is None
    assert error.message.startswith("no 'Points Possible' row")


def test_as_of_day_must_be_a_non_negative_int(tmp_path: Path) -> None:
    path = write(tmp_path, BASIC)
    with pytest.raises(ValidationFailed, match="as_of_day must be 0 or more"):
        read_canvas_export(path, as_of_day=-1)
    with pytest.raises(ValidationFailed, match="carries no dates"):
        read_canvas_export(path, as_of_day=None)  # type: ignore[arg-type]


def test_no_student_rows(tmp_path: Path) -> None:
    text = 'Student,ID,Section,HW (1)\n    Points Possible,,,10\n"Student, Test",9,S,\n'
    with pytest.raises(ValidationFailed, match="no student rows"):
        read_canvas_export(write(tmp_path, text), as_of_day=3)


def test_decimal_comma_with_comma_delimiter_and_period_totals(tmp_path: Path) -> None:
    text = (
        "Student,ID,Section,HW (1),Override Score (2024),Current Score (2024)\n"
        '    Points Possible,,,"12,5",,(read only)\n'
        '"Okafor, Ada",1001,Sec,"10,625",90,85\n'
    )
    data = read_canvas_export(write(tmp_path, text), as_of_day=3)
    assert data.assessments["assessment_id"].tolist() == ["1"]
    assert data.results["score_pct"].tolist() == [85.0]
