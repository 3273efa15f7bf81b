"""Generic CSV adapter and the shared defensive CSV reader."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from student_success.errors import RowError, ValidationFailed
from student_success.features.catalog import SUMMARY_COLUMN_MAP
from student_success.ingest.csvfile import (
    CsvLimits,
    normalize_header,
    parse_number,
    read_csv_table,
)
from student_success.ingest.generic import (
    SUMMARY_SYNONYMS,
    detect_generic_mapping,
    load_mapping,
    read_generic_csv,
)


def write(tmp_path: Path, text: str, name: str = "students.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


# --- per-student format -------------------------------------------------------------------------


PER_STUDENT = """\
Student ID,Name,Section,Average Score,Credits,Clicks,prev_attempts
s1,Ada Okafor,A,85,60,1200,0
s2,Minh Nguyen,B,,120,40,2
"""


def test_summary_columns_cover_the_catalog() -> None:
    assert set(SUMMARY_COLUMN_MAP) <= set(SUMMARY_SYNONYMS)


def test_detect_mapping_per_student() -> None:
    header = PER_STUDENT.splitlines()[0].split(",")
    assert detect_generic_mapping(header) == {
        "student_id": "Student ID",
        "name": "Name",
        "section": "Section",
        "early_avg_score": "Average Score",
        "early_total_clicks": "Clicks",
        "studied_credits": "Credits",
        "num_of_prev_attempts": "prev_attempts",
    }


def test_per_student_exact_values(tmp_path: Path) -> None:
    data = read_generic_csv(write(tmp_path, PER_STUDENT), as_of_day=28)
    assert data.source == "generic"
    assert data.as_of_day == 28
    assert data.has_context is True
    s = data.summary
    assert s is not None
    assert list(s.columns) == [
        "student_id",
        "early_avg_score",
        "early_total_clicks",
        "studied_credits",
        "num_of_prev_attempts",
    ]
    assert s["student_id"].tolist() == ["s1", "s2"]
    assert s["early_avg_score"].iloc[0] == 85.0
    assert math.isnan(s["early_avg_score"].iloc[1])
    assert s["early_total_clicks"].tolist() == [1200.0, 40.0]
    assert str(s["studied_credits"].dtype) == "float64"
    e = data.enrollments
    assert e["course_id"].tolist() == ["students", "students"]
    assert e["display_name"].tolist() == ["Ada Okafor", "Minh Nguyen"]
    assert e["section"].tolist() == ["A", "B"]
    assert e["studied_credits"].tolist() == [60.0, 120.0]
    assert e["num_prev_attempts"].tolist() == [0.0, 2.0]
    assert data.courses["course_id"].tolist() == ["students"]
    assert data.n_students == 2


def test_as_of_day_column_and_course_column(tmp_path: Path) -> None:
    text = "id_student,course,early_avg_score,as_of_day\n1,BIO,70,14\n2,CHEM,80,14\n"
    data = read_generic_csv(write(tmp_path, text))
    assert data.as_of_day == 14
    assert data.summary is not None
    assert data.summary["as_of_day"].tolist() == [14.0, 14.0]
    assert data.courses["course_id"].tolist() == ["BIO", "CHEM"]
    assert data.has_context is False


def test_semicolon_and_decimal_comma(tmp_path: Path) -> None:
    text = "id;avg_score;total_clicks\n7;85,5;10\n"
    data = read_generic_csv(write(tmp_path, text))
    assert data.summary is not None
    assert data.summary["early_avg_score"].tolist() == [85.5]


def test_explicit_mapping_overrides_synonyms(tmp_path: Path) -> None:
    text = "Learner,id,Pts,Load\nL1,99,72,60\n"
    mapping = {"student_id": "Learner", "early_avg_score": "Pts", "studied_credits": "Load"}
    assert detect_generic_mapping(text.splitlines()[0].split(","), mapping=mapping) == mapping
    data = read_generic_csv(write(tmp_path, text), mapping=mapping)
    assert data.summary is not None
    assert data.summary.to_dict("list") == {
        "student_id": ["L1"],
        "early_avg_score": [72.0],
        "studied_credits": [60.0],
    }


def test_mapping_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "Learner,Pts\nL1,72\n")
    with pytest.raises(ValidationFailed) as exc:
        read_generic_csv(path, mapping={"student_id": "Nope", "score_avg": "Pts"})
    first, second = exc.value.errors
    assert (first.column, first.line) == ("Nope", None)
    assert first.message.startswith("the mapping names this column for 'student_id' but the file has no such")
    assert second.column == "Pts"
    assert second.message.startswith("unknown canonical name 'score_avg'; accepted:")


def test_load_mapping(tmp_path: Path) -> None:
    good = tmp_path / "map.json"
    good.write_text(json.dumps({"student_id": "Learner"}), encoding="utf-8")
    assert load_mapping(good) == {"student_id": "Learner"}
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="JSON object of strings"):
        load_mapping(bad)


def test_missing_id_column_lists_headers_and_synonyms(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as exc:
        read_generic_csv(write(tmp_path, "who,avg_score\nx,1\n"))
    (error,) = exc.value.errors
    assert error == RowError(
        "students.csv",
        None,
        None,
        "no student id column; found: who, avg_score; "
        "accepted: id_student, student_id, student id, id, sis_id, learner_id (or give a mapping)",
    )


def test_text_and_negative_values_in_per_student(tmp_path: Path) -> None:
    text = "id,avg_score,credits\n1,abc,60\n2,-5,60\n3,80,lots\n"
    with pytest.raises(ValidationFailed) as exc:
        read_generic_csv(write(tmp_path, text))
    assert exc.value.errors == [
        RowError("students.csv", 2, "avg_score", "expected a number", "abc"),
        RowError("students.csv", 3, "avg_score", "out of range: expected 0 or more", "-5"),
        RowError("students.csv", 4, "credits", "expected a number", "lots"),
    ]


def test_duplicate_student_rows(tmp_path: Path) -> None:
    text = "id,avg_score\n1,50\n2,60\n1,70\n"
    with pytest.raises(ValidationFailed) as exc:
        read_generic_csv(write(tmp_path, text))
    assert exc.value.errors == [RowError("students.csv", 4, "id", "duplicate student 1: also on line 2", "1")]


def test_no_usable_columns(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="no summary columns and no assessment column"):
        read_generic_csv(write(tmp_path, "id,colour\n1,red\n"))


# --- long format --------------------------------------------------------------------------------

LONG = """\
id_student,assessment,score,points_possible,due_day,submitted_day,excused,course,section
1,Quiz 1,17,20,10,9,,BIO,A
1,Essay,,50,20,,yes,BIO,A
2,Quiz 1,85%,,10,12,no,BIO,B
2,Essay,,50,20,,,BIO,B
"""


def test_long_format_exact_values(tmp_path: Path) -> None:
    data = read_generic_csv(write(tmp_path, LONG))
    assert data.has_dates is True
    a = data.assessments
    assert a["assessment_id"].tolist() == ["Quiz 1", "Essay"]
    assert a["due_day"].tolist() == [10.0, 20.0]
    assert a["points_possible"].tolist() == [20.0, 50.0]
    assert a["position"].tolist() == [0, 1]
    r = data.results
    assert r["student_id"].tolist() == ["1", "1", "2"]
    assert r["assessment_id"].tolist() == ["Quiz 1", "Essay", "Quiz 1"]
    assert r["score_pct"].iloc[0] == 85.0
    assert pd.isna(r["score_pct"].iloc[1])
    assert r["excused"].tolist() == [False, True, False]
    assert r["score_pct"].iloc[2] == 85.0  # no points possible: the score is a percentage
    assert r["submitted_day"].iloc[0] == 9.0
    e = data.enrollments
    assert e["student_id"].tolist() == ["1", "2"]
    assert e["section"].tolist() == ["A", "B"]
    assert set(e["course_id"]) == {"BIO"}


def test_long_format_without_dates_uses_as_of_day(tmp_path: Path) -> None:
    text = "student_id,assignment,grade\n1,HW1,90\n1,HW2,\n2,HW1,EX\n"
    data = read_generic_csv(write(tmp_path, text), as_of_day=21)
    assert data.has_dates is False
    assert data.assessments["assessment_id"].tolist() == ["HW1", "HW2"]
    assert data.assessments["due_day"].iloc[0] == 21.0
    assert pd.isna(data.assessments["due_day"].iloc[1])
    assert data.results["submitted_day"].tolist() == [21.0, 21.0]
    assert data.results["excused"].tolist() == [False, True]


def test_long_format_errors(tmp_path: Path) -> None:
    text = "id,assessment,score,excused\n1,Q1,-3,\n1,Q1,5,\n2,Q1,five,maybe\n3,,5,\n"
    with pytest.raises(ValidationFailed) as exc:
        read_generic_csv(write(tmp_path, text, "long.csv"))
    assert exc.value.errors == [
        RowError("long.csv", 2, "score", "out of range: expected 0 or more", "-3"),
        RowError(
            "long.csv",
            3,
            "assessment",
            "duplicate result for student 1 and assessment Q1: also on line 2",
            "Q1",
        ),
        RowError("long.csv", 4, "excused", "expected yes/no, true/false, 1/0 or empty", "maybe"),
        RowError("long.csv", 4, "score", "expected a number", "five"),
        RowError("long.csv", 5, "assessment", "missing assessment"),
    ]


def test_long_format_needs_a_score_column(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="no score column"):
        read_generic_csv(write(tmp_path, "id,assessment\n1,Q1\n"))


# --- shared CSV reader ----------------------------------------------------------------------------


def test_parse_number() -> None:
    assert parse_number(" 85 ") == 85.0
    assert parse_number("85,5", decimal_comma=True) == 85.5
    assert parse_number("") is None
    assert parse_number("85%", allow_percent=True) == 85.0
    for bad in ("85,5", "nan", "inf", "1e", "12 apples", "85%"):
        with pytest.raises(ValueError):
            parse_number(bad)


def test_normalize_header() -> None:
    assert normalize_header("\ufeff Student_ID ") == normalize_header("student id") == "studentid"


def test_wrong_delimiter(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as exc:
        read_csv_table(write(tmp_path, "id|avg_score\n1|50\n", "pipes.csv"))
    (error,) = exc.value.errors
    assert error.file == "pipes.csv"
    assert error.message.startswith("wrong delimiter")
    assert error.value == "id|avg_score"


def test_tab_delimiter_and_line_numbers_skip_blank_lines(tmp_path: Path) -> None:
    table = read_csv_table(write(tmp_path, "id\tscore\n\n1\t5\n2\t6\n"))
    assert table.delimiter == "\t"
    assert table.header == ["id", "score"]
    assert table.rows == [["1", "5"], ["2", "6"]]
    assert table.lines == [3, 4]


def test_cp1252_fallback_is_noted(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("id,name\n1,García\n".encode("cp1252"))
    table = read_csv_table(path)
    assert table.rows == [["1", "García"]]
    assert table.encoding == "cp1252"
    assert table.notes == ["the file is not UTF-8; read as cp1252"]


def test_limits(tmp_path: Path) -> None:
    path = write(tmp_path, "a,b,c\n1,2,3\n4,5,6\n")
    with pytest.raises(ValidationFailed, match="larger than the limit of 10 bytes"):
        read_csv_table(path, limits=CsvLimits(max_bytes=10))
    with pytest.raises(ValidationFailed, match="more than 1 rows"):
        read_csv_table(path, limits=CsvLimits(max_rows=1))
    with pytest.raises(ValidationFailed, match="3 columns; the limit is 2"):
        read_csv_table(path, limits=CsvLimits(max_columns=2))


def test_extra_cells_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as exc:
        read_csv_table(write(tmp_path, "a,b\n1,2,3\n1,2,,\n"))
    assert exc.value.errors == [
        RowError("students.csv", 2, None, "this row has 3 cells but the header has 2", "3")
    ]
    with pytest.raises(ValidationFailed, match="the file is empty"):
        read_csv_table(b"\n\n", filename="e.csv")
