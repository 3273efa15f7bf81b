"""Synthetic example files: deterministic, realistic, readable by the adapters, committed as generated."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from student_success.ingest.canvas import read_canvas_export
from student_success.ingest.generic import read_generic_csv
from student_success.ingest.synthetic import example_files, make_canvas_export, make_generic_csv

ROOT = Path(__file__).resolve().parents[2]


def test_committed_examples_equal_the_generator_output() -> None:
    for name, text in example_files().items():
        assert (ROOT / "examples" / name).read_bytes() == text.encode("utf-8"), name


def test_deterministic_given_the_seed() -> None:
    assert make_canvas_export(seed=3) == make_canvas_export(seed=3)
    assert make_canvas_export(seed=3) != make_canvas_export(seed=4)
    assert make_generic_csv(seed=3) == make_generic_csv(seed=3)
    assert make_generic_csv(seed=3) != make_generic_csv(seed=4)


def test_canvas_export_layout() -> None:
    rows = list(csv.reader(io.StringIO(make_canvas_export(30, n_assignments=8, n_graded=6))))
    header, points = rows[0], rows[1]
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert header[-4:] == ["Current Grade", "Unposted Current Grade", "Final Grade", "Unposted Final Grade"]
    assert points[0] == "    Points Possible"
    assert points[5:13] == ["10", "20", "25", "10", "20", "25", "10", "20"]
    assert set(points[13:]) == {"(read only)"}
    assert rows[-1][0] == "Student, Test"
    students = rows[2:-1]
    assert len(students) == 30
    assert all(", " in r[0] for r in students)
    assert [r[0].casefold() for r in students] == sorted(r[0].casefold() for r in students)
    assert all(r[11] == "" and r[12] == "" for r in students)  # assignments 7 and 8 not graded yet


def test_canvas_example_reads_back() -> None:
    text = example_files()["canvas_gradebook_export.csv"]
    data = read_canvas_export(text.encode(), as_of_day=42, filename="canvas_gradebook_export.csv")
    assert data.n_students == 30
    assert len(data.assessments) == 8
    assert data.assessments["due_day"].notna().tolist() == [True] * 6 + [False] * 2
    assert data.courses["course_id"].tolist() == ["canvas_gradebook_export"]
    excused = int(data.results["excused"].sum())
    assert excused >= 1
    scored = data.results[~data.results["excused"]]
    assert scored["score_pct"].between(0, 100).all()
    assert len(data.results) < 30 * 6  # some work is missing or not assigned
    # a mix of strong, average and struggling students
    means = scored.groupby("student_id")["score_pct"].mean()
    assert means.max() >= 85 and means.min() < 65


def test_current_score_column_matches_the_scores() -> None:
    text = make_canvas_export(12, seed=11)
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    data = read_canvas_export(text.encode(), as_of_day=42, filename="x.csv")
    points = data.assessments.set_index("assessment_id")["points_possible"]
    scored = data.results[~data.results["excused"]].copy()
    scored["earned"] = scored["score_pct"] / 100 * scored["assessment_id"].map(points)
    scored["possible"] = scored["assessment_id"].map(points)
    sums = scored.groupby("student_id")[["earned", "possible"]].sum()
    current = dict(zip(raw["ID"], raw["Current Score"], strict=True))
    for sid, earned, possible in zip(sums.index, sums["earned"], sums["possible"], strict=True):
        assert abs(float(current[sid]) - 100 * earned / possible) < 0.01


def test_semicolon_bom_manual_posting_variant_reads_the_same() -> None:
    plain = read_canvas_export(make_canvas_export(10, seed=5).encode(), as_of_day=9, filename="a.csv")
    variant_text = make_canvas_export(10, seed=5, delimiter=";", bom=True, manual_posting=True)
    assert variant_text.startswith("\ufeffStudent;ID;")
    assert "\nManual Posting" not in variant_text and ";Manual Posting;" in variant_text
    variant = read_canvas_export(variant_text.encode("utf-8"), as_of_day=9, filename="a.csv")
    pd.testing.assert_frame_equal(plain.results, variant.results)
    pd.testing.assert_frame_equal(plain.enrollments, variant.enrollments)


def test_generic_example_reads_back() -> None:
    text = example_files()["generic_students.csv"]
    assert (
        text.splitlines()[0]
        == "id_student,early_avg_score,early_total_clicks,studied_credits,num_of_prev_attempts"
    )
    data = read_generic_csv(text.encode(), filename="generic_students.csv")
    assert data.summary is not None
    assert len(data.summary) == 25
    assert list(data.summary.columns) == [
        "student_id",
        "early_avg_score",
        "early_total_clicks",
        "studied_credits",
        "num_of_prev_attempts",
    ]
    assert data.summary["studied_credits"].isin([30.0, 60.0, 90.0, 120.0]).all()
    assert data.summary["num_of_prev_attempts"].isin([0.0, 1.0, 2.0]).all()
    assert data.summary["student_id"].is_unique
