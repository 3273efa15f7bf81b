"""Group error rates, the deprivation and age bands, on tiny inputs with hand-computed answers."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from student_success.ml.fairness import (
    LEAST_DEPRIVED,
    MIDDLE_DEPRIVATION,
    MOST_DEPRIVED,
    age_band,
    deprivation_band,
    fairness_groups,
    group_report,
)

Y = [1, 1, 0, 0, 1, 0]
P = [0.9, 0.2, 0.7, 0.1, 0.6, 0.3]


def test_group_report_exact() -> None:
    groups = pd.DataFrame({"gender": ["F", "F", "F", "M", "M", None]}, index=[10, 11, 12, 13, 14, 15])
    rows = group_report(Y, P, groups, threshold=0.5)
    assert rows == [
        {
            "attribute": "gender",
            "group": "F",
            "n": 3,
            "positives": 2,
            "flagged": 2,
            "fnr": 0.5,  # missed 0.2
            "fpr": 1.0,  # flagged 0.7
            "precision": 0.5,
            "mean_predicted": 0.6,
            "observed_rate": 0.6667,
            "small_sample": True,
        },
        {
            "attribute": "gender",
            "group": "M",
            "n": 2,
            "positives": 1,
            "flagged": 1,
            "fnr": 0.0,
            "fpr": 0.0,
            "precision": 1.0,
            "mean_predicted": 0.35,
            "observed_rate": 0.5,
            "small_sample": True,
        },
        {
            "attribute": "gender",
            "group": "unknown",
            "n": 1,
            "positives": 0,
            "flagged": 0,
            "fnr": None,  # no at-risk students
            "fpr": 0.0,
            "precision": None,  # nobody flagged
            "mean_predicted": 0.3,
            "observed_rate": 0.0,
            "small_sample": True,
        },
    ]
    json.dumps(rows, allow_nan=False)


def test_group_report_several_columns_and_na_kinds() -> None:
    groups = pd.DataFrame(
        {
            "disability": pd.Series(["Y", "N", "N", "N", pd.NA, "Y"], dtype="string"),
            "deprivation_band": [
                MIDDLE_DEPRIVATION,
                MOST_DEPRIVED,
                LEAST_DEPRIVED,
                "unknown",
                MOST_DEPRIVED,
                "",
            ],
        }
    )
    rows = group_report(Y, P, groups, threshold=0.5)
    assert [(r["attribute"], r["group"], r["n"]) for r in rows] == [
        ("disability", "N", 3),
        ("disability", "Y", 2),
        ("disability", "unknown", 1),
        ("deprivation_band", MOST_DEPRIVED, 2),
        ("deprivation_band", MIDDLE_DEPRIVATION, 1),
        ("deprivation_band", LEAST_DEPRIVED, 1),
        ("deprivation_band", "unknown", 2),
    ]
    most = rows[3]  # rows 1 and 4: y 1, 1; p 0.2 (missed), 0.6 (caught)
    assert (most["fnr"], most["fpr"], most["precision"]) == (0.5, None, 1.0)


def test_small_sample_flag_at_30() -> None:
    groups = pd.DataFrame({"g": ["a"] * 30 + ["b"] * 29})
    y = [0, 1] * 29 + [0]
    p = [0.5] * 59
    rows = group_report(y, p, groups, threshold=0.5)
    assert [(r["group"], r["n"], r["small_sample"]) for r in rows] == [("a", 30, False), ("b", 29, True)]


def test_group_report_length_mismatch_raises() -> None:
    with pytest.raises(ValueError):
        group_report(Y, P, pd.DataFrame({"gender": ["F"]}), threshold=0.5)


@pytest.mark.parametrize(
    ("imd", "band"),
    [
        ("0-10%", MOST_DEPRIVED),
        ("10-20", MOST_DEPRIVED),  # publisher's typo, no %
        ("10-20%", MOST_DEPRIVED),
        ("20-30%", MOST_DEPRIVED),
        ("30-40%", MIDDLE_DEPRIVATION),
        ("40-50%", MIDDLE_DEPRIVATION),
        ("50-60%", MIDDLE_DEPRIVATION),
        ("60-70%", MIDDLE_DEPRIVATION),
        ("70-80%", LEAST_DEPRIVED),
        ("80-90%", LEAST_DEPRIVED),
        ("90-100%", LEAST_DEPRIVED),
        (" 90–100 % ", LEAST_DEPRIVED),
        (None, "unknown"),
        (pd.NA, "unknown"),
        (float("nan"), "unknown"),
        ("", "unknown"),
        ("rich", "unknown"),
        ("0-30%", "unknown"),
    ],
)
def test_deprivation_band(imd: object, band: str) -> None:
    assert deprivation_band(imd) == band


def test_deprivation_labels() -> None:
    assert MOST_DEPRIVED == "most deprived (0–30 %)"
    assert MIDDLE_DEPRIVATION == "middle (30–70 %)"
    assert LEAST_DEPRIVED == "least deprived (70–100 %)"


@pytest.mark.parametrize(
    ("age", "band"),
    [
        ("0-35", "under 35"),
        ("35-55", "35–55"),
        ("55<=", "55 and over"),
        (15, "16 and under"),
        (16.0, "16 and under"),
        (17, "17–18"),
        ("18", "17–18"),
        (22, "19 and over"),
        (None, "unknown"),
        (float("nan"), "unknown"),
    ],
)
def test_age_band(age: object, band: str) -> None:
    assert age_band(age) == band


def test_fairness_groups_from_enrolments() -> None:
    enrolments = pd.DataFrame(
        {
            "student_id": ["1", "2", "3"],
            "gender": pd.Series(["F", "M", pd.NA], dtype="string"),
            "age_band": ["55<=", "0-35", "35-55"],
            "imd_band": pd.Series(["10-20", pd.NA, "90-100%"], dtype="string"),
            "final_result": ["Pass", "Fail", "Pass"],
        }
    )
    groups = fairness_groups(enrolments)
    assert list(groups.columns) == ["gender", "age_band", "deprivation_band"]
    assert groups.to_dict("list") == {
        "gender": ["F", "M", "unknown"],
        "age_band": ["55 and over", "under 35", "35–55"],
        "deprivation_band": [MOST_DEPRIVED, "unknown", LEAST_DEPRIVED],
    }
    rows = group_report([0, 1, 0], [0.2, 0.8, 0.1], groups[["age_band"]], threshold=0.5)
    assert [r["group"] for r in rows] == ["under 35", "35–55", "55 and over"]


def test_fairness_groups_k12() -> None:
    groups = fairness_groups(pd.DataFrame({"sex": ["F", "M"], "age": [15, 19]}))
    assert groups.to_dict("list") == {"sex": ["F", "M"], "age_band": ["16 and under", "19 and over"]}
