"""OULAD adapter on the real published tables: exact counts, filters, defaults and bad input."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from student_success.errors import ValidationFailed
from student_success.ingest.canonical import (
    ASSESSMENT_COLUMNS,
    ENROLLMENT_COLUMNS,
    RESULT_COLUMNS,
    CanonicalData,
)
from student_success.ingest.oulad import REQUIRED_TABLES, read_oulad, read_student_vle

OULAD = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "oulad"
VLE_SAMPLE = OULAD / "samples" / "studentVle_sample_AAA_2013J.csv"

pytestmark = pytest.mark.skipif(not OULAD.is_dir(), reason=f"OULAD folder not found at {OULAD}")


@pytest.fixture(scope="module")
def oulad() -> CanonicalData:
    return read_oulad(OULAD)


def copy_tables(tmp_path: Path, *, derived: bool = False) -> Path:
    """A private copy of the required tables (and optionally ``derived/``) that a test may spoil."""
    folder = tmp_path / "oulad"
    folder.mkdir()
    for name in REQUIRED_TABLES:
        shutil.copyfile(OULAD / name, folder / name)
    if derived:
        shutil.copytree(OULAD / "derived", folder / "derived")
    return folder


def replace_last_field(path: Path, line: int, value: str) -> str:
    """Set the last field of 1-based physical ``line`` of a quoted CRLF CSV; returns the old line."""
    raw = path.read_bytes()
    lines = raw.split(b"\r\n")
    old = lines[line - 1].decode()
    fields = old.split(",")
    fields[-1] = f'"{value}"'
    lines[line - 1] = ",".join(fields).encode()
    path.write_bytes(b"\r\n".join(lines))
    return old


# --- the whole data set ------------------------------------------------------------------------


def test_exact_counts(oulad: CanonicalData) -> None:
    assert len(oulad.enrollments) == 32_593
    assert len(oulad.results) == 173_912
    assert len(oulad.assessments) == 206
    assert len(oulad.courses) == 22
    assert oulad.courses["course_id"].nunique() == 22
    assert oulad.source == "oulad"
    assert oulad.has_dates is True
    assert oulad.has_context is True
    assert oulad.activity is None  # studentVle.csv is not in the shared folder


def test_canonical_columns(oulad: CanonicalData) -> None:
    assert list(oulad.enrollments.columns) == list(ENROLLMENT_COLUMNS)
    assert list(oulad.assessments.columns) == list(ASSESSMENT_COLUMNS)
    assert list(oulad.results.columns) == list(RESULT_COLUMNS)


def test_course_ids_are_module_dash_presentation(oulad: CanonicalData) -> None:
    ids = set(oulad.courses["course_id"])
    assert "AAA-2013J" in ids
    assert "GGG-2014J" in ids
    assert all(re.fullmatch(r"[A-G]{3}-201[34][BJ]", i) for i in ids), ids
    for table in ("enrollments", "assessments", "results"):
        assert set(getattr(oulad, table)["course_id"]) <= ids, table


def test_first_enrolment_values(oulad: CanonicalData) -> None:
    enr = oulad.enrollments
    row = enr[(enr["course_id"] == "AAA-2013J") & (enr["student_id"] == "11391")]
    assert len(row) == 1
    r = row.iloc[0]
    assert r["registration_day"] == -159.0
    assert pd.isna(r["unregistration_day"])
    assert r["studied_credits"] == 240.0
    assert r["num_prev_attempts"] == 0.0
    assert r["highest_education"] == "HE Qualification"
    assert r["final_result"] == "Pass"


def test_first_assessment_and_result(oulad: CanonicalData) -> None:
    a = oulad.assessments
    first = a[a["assessment_id"] == "1752"].iloc[0]
    assert first["course_id"] == "AAA-2013J"
    assert first["kind"] == "TMA"
    assert first["due_day"] == 19.0
    assert first["weight"] == 10.0
    assert first["position"] == 0
    res = oulad.results
    r = res[(res["assessment_id"] == "1752") & (res["student_id"] == "11391")].iloc[0]
    assert r["course_id"] == "AAA-2013J"
    assert r["submitted_day"] == 18.0
    assert r["score_pct"] == 78.0
    assert not bool(r["is_banked"])
    assert not bool(r["excused"])


def test_results_without_score_stay_unknown(oulad: CanonicalData) -> None:
    # 173 rows of studentAssessment.csv have an empty score
    assert int(oulad.results["score_pct"].isna().sum()) == 173


def test_pre_course_clicks_default_to_zero_for_absent_enrolments(oulad: CanonicalData) -> None:
    pre = oulad.pre_course
    assert pre is not None
    assert len(pre) == 32_593  # one row per enrolment
    assert int(pre["pre_course_clicks"].isna().sum()) == 0

    def clicks(student: str) -> float:
        row = pre[(pre["course_id"] == "AAA-2013J") & (pre["student_id"] == student)]
        assert len(row) == 1
        return float(row["pre_course_clicks"].iloc[0])

    assert clicks("11391") == 98.0  # in the derived table
    assert clicks("106247") == 0.0  # absent from the derived table
    # 32,593 enrolments, 23,809 in the derived table: 8,784 filled with 0
    assert int((pre["pre_course_clicks"] == 0).sum()) >= 8_784


def test_without_derived_table_there_are_no_pre_course_clicks(tmp_path: Path) -> None:
    data = read_oulad(copy_tables(tmp_path))
    assert data.pre_course is None
    assert len(data.enrollments) == 32_593


# --- presentations filter ------------------------------------------------------------------------


def test_presentations_filter_2013J() -> None:
    data = read_oulad(OULAD, presentations=["2013J"])
    assert len(data.enrollments) == 8_845
    assert len(data.results) == 49_018
    assert len(data.assessments) == 53
    assert len(data.courses) == 6
    assert data.pre_course is not None
    assert len(data.pre_course) == 8_845
    for table in (data.courses, data.enrollments, data.assessments, data.results, data.pre_course):
        assert table["course_id"].str.endswith("-2013J").all()


def test_presentations_filter_two() -> None:
    data = read_oulad(OULAD, presentations=["2013B", "2014J"])
    assert len(data.enrollments) == 4_684 + 11_260
    assert len(data.results) == 33_824 + 52_174
    assert len(data.assessments) == 39 + 57
    assert len(data.courses) == 3 + 7


def test_unknown_presentation_is_named() -> None:
    with pytest.raises(ValidationFailed) as exc:
        read_oulad(OULAD, presentations=["2013J", "2099X"])
    errors = exc.value.errors
    assert len(errors) == 1
    assert errors[0].column == "code_presentation"
    assert errors[0].file.endswith("courses.csv")
    assert "2099X" in errors[0].message
    assert "2013J" not in errors[0].message.split("(found")[0]  # only the unknown one is blamed
    assert "2099X" in str(exc.value)


# --- bad input -----------------------------------------------------------------------------------


def test_text_score_is_reported_with_line_and_column(tmp_path: Path) -> None:
    folder = copy_tables(tmp_path)
    path = folder / "studentAssessment.csv"
    old = replace_last_field(path, 101, "abc")
    assert old.startswith('"1752",')  # a real data line was spoiled
    with pytest.raises(ValidationFailed) as exc:
        read_oulad(folder)
    errors = exc.value.errors
    assert len(errors) == 1
    e = errors[0]
    assert e.file == str(path)
    assert e.line == 101
    assert e.column == "score"
    assert e.value == "abc"
    assert e.message == "expected a number"
    assert f"{path}, line 101, column 'score'" in str(exc.value)


def test_text_in_filtered_table_keeps_its_file_line(tmp_path: Path) -> None:
    # studentInfo.csv line 20,000 lies in a 2014J block; the filter must not renumber lines
    folder = copy_tables(tmp_path)
    path = folder / "studentInfo.csv"
    line = next(
        i + 2
        for i, p in enumerate(pd.read_csv(OULAD / "studentInfo.csv")["code_presentation"])
        if i + 2 >= 20_000 and p == "2014J"
    )
    raw = path.read_bytes().split(b"\r\n")
    fields = raw[line - 1].decode().split(",")
    header = raw[0].decode().replace('"', "").split(",")
    fields[header.index("studied_credits")] = '"lots"'
    raw[line - 1] = ",".join(fields).encode()
    path.write_bytes(b"\r\n".join(raw))
    with pytest.raises(ValidationFailed) as exc:
        read_oulad(folder, presentations=["2014J"])
    assert [(e.line, e.column, e.value) for e in exc.value.errors] == [(line, "studied_credits", "lots")]
    # and a filter that drops that row does not complain
    assert len(read_oulad(folder, presentations=["2013J"]).enrollments) == 8_845


def test_missing_table_is_named(tmp_path: Path) -> None:
    folder = copy_tables(tmp_path)
    (folder / "assessments.csv").unlink()
    with pytest.raises(ValidationFailed) as exc:
        read_oulad(folder)
    errors = exc.value.errors
    assert len(errors) == 1
    assert errors[0].file == str(folder / "assessments.csv")
    assert errors[0].line is None
    assert "assessments.csv" in errors[0].message
    assert "assessments.csv" in str(exc.value)


def test_missing_column_is_named(tmp_path: Path) -> None:
    folder = copy_tables(tmp_path)
    path = folder / "courses.csv"
    path.write_text(path.read_text().replace("module_presentation_length", "length"))
    with pytest.raises(ValidationFailed) as exc:
        read_oulad(folder)
    assert [(e.line, e.column) for e in exc.value.errors] == [(1, "module_presentation_length")]


# --- clickstream ---------------------------------------------------------------------------------


def test_read_student_vle_in_chunks_equals_one_groupby() -> None:
    seen: list[int] = []
    got = read_student_vle(VLE_SAMPLE, chunk_rows=1000, progress=seen.append)
    assert seen == [1000, 2000, 3000, 4000, 5000]

    raw = pd.read_csv(VLE_SAMPLE)
    expected = raw.groupby(["code_module", "code_presentation", "id_student", "date"], as_index=False)[
        "sum_click"
    ].sum()
    assert len(got) == len(expected) == 705
    assert float(got["clicks"].sum()) == float(raw["sum_click"].sum()) == 20_298.0
    assert list(got.columns) == ["course_id", "student_id", "day", "clicks"]
    assert (got["course_id"] == "AAA-2013J").all()

    g = got.assign(student_id=got["student_id"].astype(int)).set_index(["student_id", "day"])["clicks"]
    e = expected.set_index(["id_student", "date"])["sum_click"]
    e.index = e.index.set_names(["student_id", "day"])
    e.index = e.index.set_levels(e.index.levels[1].astype(float), level=1)
    pd.testing.assert_series_equal(
        g.astype(float).sort_index(), e.astype(float).rename("clicks").sort_index(), check_index_type=False
    )
    # per student too
    per_student = got.groupby("student_id")["clicks"].sum()
    assert float(per_student["11391"]) == 180.0
    assert float(per_student["28400"]) == 64.0
    assert got["student_id"].nunique() == 295


def test_read_student_vle_presentation_filter() -> None:
    assert len(read_student_vle(VLE_SAMPLE, presentations=["2014J"], chunk_rows=1000)) == 0
    assert len(read_student_vle(VLE_SAMPLE, presentations=["2013J"], chunk_rows=1000)) == 705


def test_read_oulad_streams_student_vle_when_present(tmp_path: Path) -> None:
    folder = copy_tables(tmp_path)
    shutil.copyfile(VLE_SAMPLE, folder / "studentVle.csv")
    data = read_oulad(folder, presentations=["2013J"])
    assert data.activity is not None
    assert len(data.activity) == 705
    assert float(data.activity["clicks"].sum()) == 20_298.0
    assert read_oulad(folder, include_vle=False).activity is None
