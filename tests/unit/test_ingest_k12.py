"""K-12 (UCI student performance shape) adapter."""

from __future__ import annotations

from pathlib import Path

import pytest

from student_success.errors import RowError, ValidationFailed
from student_success.features.catalog import K12_FEATURES
from student_success.ingest.k12 import load_uci_dataset, read_k12_csv

UCI = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "uci_student_performance"


def write(tmp_path: Path, text: str, name: str = "class.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_the_real_uci_mathematics_file() -> None:
    data = read_k12_csv(UCI / "student-mat.csv")
    assert data.source == "k12"
    k12 = data.k12
    assert k12 is not None
    assert len(k12) == 395
    assert data.n_students == 395
    assert list(k12.columns) == ["student_id", *K12_FEATURES, "G3", "subject"]
    first = k12.iloc[0]
    # "GP";"F";18;...;"yes" (schoolsup);"no" (famsup);...;absences 6;G1 "5";G2 "6";G3 6
    assert first["student_id"] == "row-2"
    assert (first["G1"], first["absences"], first["failures"], first["G3"]) == (5.0, 6.0, 0.0, 6.0)
    assert (first["schoolsup"], first["famsup"], first["higher"]) == (1.0, 0.0, 1.0)
    assert first["subject"] == "mat"
    assert k12["student_id"].iloc[-1] == "row-396"
    assert int((k12["G3"] < 10).sum()) == 130  # the README's failure count
    assert "G2" not in k12.columns


def test_load_uci_dataset() -> None:
    df = load_uci_dataset(UCI)
    assert len(df) == 395 + 649
    assert df["subject"].value_counts().to_dict() == {"por": 649, "mat": 395}
    assert df["student_id"].is_unique
    assert df["student_id"].iloc[0] == "mat-row-2"
    assert int((df["G3"] < 10).sum()) == 130 + 100


def test_id_column_subject_column_and_comma_delimiter(tmp_path: Path) -> None:
    text = "student_id,subject,G1,absences,failures,higher\nA7,math,12,3,0,no\nB8,,9,0,1,YES\n"
    data = read_k12_csv(write(tmp_path, text))
    k12 = data.k12
    assert k12 is not None
    assert list(k12.columns) == ["student_id", "G1", "absences", "failures", "higher", "subject"]
    assert k12.drop(columns="subject").to_dict("list") == {
        "student_id": ["A7", "B8"],
        "G1": [12.0, 9.0],
        "absences": [3.0, 0.0],
        "failures": [0.0, 1.0],
        "higher": [0.0, 1.0],
    }
    assert k12["subject"].iloc[0] == "math"
    assert k12["subject"].isna().iloc[1]
    assert data.enrollments["student_id"].tolist() == ["A7", "B8"]


def test_missing_required_columns(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as exc:
        read_k12_csv(write(tmp_path, "G1,age\n10,15\n"))
    (error,) = exc.value.errors
    assert error.line is None
    assert error.message == "missing required column(s) absences, failures; found: G1, age"


def test_bad_values_are_all_reported(tmp_path: Path) -> None:
    text = "G1;absences;failures;paid;goout\n25;2;0;yes;3\nten;1;0;maybe;9\n"
    with pytest.raises(ValidationFailed) as exc:
        read_k12_csv(write(tmp_path, text))
    assert exc.value.errors == [
        RowError("class.csv", 2, "G1", "out of range: expected 0 to 20", "25"),
        RowError("class.csv", 3, "G1", "expected a number", "ten"),
        RowError("class.csv", 3, "paid", "expected yes or no", "maybe"),
        RowError("class.csv", 3, "goout", "out of range: expected 1 to 5", "9"),
    ]


def test_duplicate_student_ids(tmp_path: Path) -> None:
    text = "id,G1,absences,failures\n1,10,0,0\n1,11,0,0\n"
    with pytest.raises(ValidationFailed) as exc:
        read_k12_csv(write(tmp_path, text))
    assert exc.value.errors == [RowError("class.csv", 3, "id", "duplicate student 1: also on line 2", "1")]
