"""As-of-day features: exact values on a tiny hand-computed data set.

The data set (day t = 25):

Course C1 — assessments A1 (TMA, due 5, weight 20), A2 (CMA, due 10, weight 30), A3 (TMA, due 20,
weight 50) and EX (Exam, due 22: never a feature). Students s1, s2, s3 are registered on day 25
(s2 withdraws on day 30, after t); s4 withdrew on day 25 and is excluded, so its (perfect) work must not
move the class medians.

Course C2 — assessments B1 (TMA, due 15, weight 100) and B2 (TMA, due 60: not yet due). Students s1
(the same person as in C1, a different enrolment) and s5, who has handed nothing in.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from student_success.features.asof import (
    active_enrollments,
    activity_features,
    build_features,
    context_features,
    gradebook_features,
)
from student_success.features.catalog import (
    ACTIVITY_FEATURES,
    CONTEXT_FEATURES,
    DATED_FEATURES,
    FULL_FEATURES,
    GRADEBOOK_FEATURES,
)
from student_success.ingest.canonical import CanonicalData

T = 25
NA = None

COURSES = pd.DataFrame(
    {
        "course_id": ["C1", "C2"],
        "code_module": ["C1", "C2"],
        "code_presentation": ["2024A", "2024A"],
        "name": ["Course one", "Course two"],
        "length_days": [100.0, 100.0],
    }
)

ENROLLMENTS = pd.DataFrame(
    [
        # course, student, registration, unregistration, credits, previous attempts, education
        ("C1", "s1", -10.0, NA, 60.0, 0.0, "HE Qualification"),
        ("C1", "s2", -5.0, 30.0, 120.0, 1.0, "A Level or Equivalent"),
        ("C1", "s3", 2.0, NA, 30.0, 0.0, "Lower Than A Level"),
        ("C1", "s4", -20.0, 25.0, 60.0, 0.0, "No Formal quals"),
        ("C2", "s1", 0.0, NA, 60.0, 2.0, "Post Graduate Qualification"),
        ("C2", "s5", -3.0, NA, 90.0, 0.0, NA),
    ],
    columns=[
        "course_id",
        "student_id",
        "registration_day",
        "unregistration_day",
        "studied_credits",
        "num_prev_attempts",
        "highest_education",
    ],
)

ASSESSMENTS = pd.DataFrame(
    [
        ("C1", "A1", "TMA", 5.0, 20.0, 0),
        ("C1", "A2", "CMA", 10.0, 30.0, 1),
        ("C1", "A3", "TMA", 20.0, 50.0, 2),
        ("C1", "EX", "Exam", 22.0, 100.0, 3),
        ("C2", "B1", "TMA", 15.0, 100.0, 0),
        ("C2", "B2", "TMA", 60.0, 100.0, 1),
    ],
    columns=["course_id", "assessment_id", "kind", "due_day", "weight", "position"],
)

RESULTS = pd.DataFrame(
    [
        # course, assessment, student, submitted day, score, excused
        ("C1", "A1", "s1", 4.0, 80.0, False),  # 1 day early
        ("C1", "A2", "s1", 12.0, 60.0, False),  # 2 days late
        ("C1", "A3", "s1", 20.0, 90.0, False),  # on the due day
        ("C1", "EX", "s1", 22.0, 10.0, False),  # exam: ignored
        ("C1", "A1", "s2", 3.0, 70.0, False),  # 2 days early
        ("C1", "A2", "s2", 10.0, NA, True),  # excused
        ("C1", "A3", "s2", 24.0, 50.0, False),  # 4 days late
        # s3: A1 missing (no row)
        ("C1", "A2", "s3", 10.0, 40.0, False),  # on the due day
        ("C1", "A3", "s3", 27.0, 100.0, False),  # handed in after t: still missing on day 25
        ("C1", "A1", "s4", 5.0, 100.0, False),  # s4 withdrew on day 25: excluded
        ("C2", "B1", "s1", 15.0, 55.0, False),
        ("C2", "B2", "s1", 26.0, 99.0, False),  # not yet due, and handed in after t
        # s5: nothing
    ],
    columns=["course_id", "assessment_id", "student_id", "submitted_day", "score_pct", "excused"],
)

ACTIVITY = pd.DataFrame(
    [
        ("C1", "s1", -3.0, 7.0),  # before the start: still "up to day t"
        ("C1", "s1", 5.0, 10.0),
        ("C1", "s1", 11.0, 4.0),  # day 11 = t - 14: outside the last 14 days
        ("C1", "s1", 12.0, 6.0),  # day 12: first day inside
        ("C1", "s1", 12.0, 1.0),  # a second row on the same day: one active day
        ("C1", "s1", 25.0, 3.0),  # day t itself counts
        ("C1", "s1", 26.0, 100.0),  # after t: ignored
        ("C1", "s2", 20.0, 20.0),
        ("C1", "s4", 10.0, 500.0),  # withdrawn student: not in the class median
        ("C2", "s1", 0.0, 5.0),
        ("C2", "s5", 24.0, 8.0),
        ("C2", "s5", 30.0, 50.0),  # after t
    ],
    columns=["course_id", "student_id", "day", "clicks"],
)

PRE_COURSE = pd.DataFrame(
    [
        ("C1", "s1", 12.0),
        ("C1", "s2", 0.0),
        # C1/s3 absent: the feature builder leaves it unknown (the OULAD adapter fills 0)
        ("C1", "s4", 99.0),
        ("C2", "s1", 40.0),
        ("C2", "s5", 3.0),
    ],
    columns=["course_id", "student_id", "pre_course_clicks"],
)


def make_data(
    *, has_dates: bool = True, has_context: bool = True, with_activity: bool = True
) -> CanonicalData:
    return CanonicalData(
        source="test",
        courses=COURSES.copy(),
        enrollments=ENROLLMENTS.copy(),
        assessments=ASSESSMENTS.copy(),
        results=RESULTS.copy(),
        activity=ACTIVITY.copy() if with_activity else None,
        pre_course=PRE_COURSE.copy() if has_context else None,
        has_dates=has_dates,
        has_context=has_context,
    )


NAN = math.nan

# Every feature for every enrolment still registered on day 25, computed by hand.
EXPECTED: dict[tuple[str, str], dict[str, float]] = {
    ("C1", "s1"): {
        "as_of_day": 25.0,
        "n_due": 3.0,  # A1, A2, A3 (EX is an exam)
        "n_submitted": 3.0,
        "n_missing": 0.0,
        "n_excused": 0.0,
        "missing_share": 0.0,
        "score_mean": 230 / 3,  # 80, 60, 90
        "score_min": 60.0,
        "score_std": math.sqrt(1400 / 9),  # population std of 80, 60, 90
        "score_last": 90.0,
        "score_trend": 5.0,  # slope of (0, 80), (1, 60), (2, 90)
        "score_vs_class": 230 / 3 - 60.0,  # class median of 76.67, 60, 40 is 60
        "missing_vs_class": 0.0,  # class median of 0, 0, 2 is 0
        "weighted_score": 79.0,  # (80*20 + 60*30 + 90*50) / 100
        "n_late": 1.0,  # A2
        "mean_days_early": -1 / 3,  # (1 - 2 + 0) / 3
        "days_since_last_submission": 5.0,  # 25 - 20
        "registration_day": -10.0,
        "studied_credits": 60.0,
        "num_prev_attempts": 0.0,
        "highest_education_level": 3.0,
        "pre_course_clicks": 12.0,
        "clicks_total": 31.0,  # 7 + 10 + 4 + 6 + 1 + 3
        "clicks_last_14d": 10.0,  # days 12, 12, 25
        "active_days": 5.0,  # -3, 5, 11, 12, 25
        "clicks_vs_class": 11.0,  # class median of 31, 20, 0 is 20
    },
    ("C1", "s2"): {
        "as_of_day": 25.0,
        "n_due": 3.0,
        "n_submitted": 2.0,
        "n_missing": 0.0,
        "n_excused": 1.0,
        "missing_share": 0.0,  # 0 of the 2 gradable
        "score_mean": 60.0,  # 70, 50
        "score_min": 50.0,
        "score_std": 10.0,
        "score_last": 50.0,
        "score_trend": -20.0,  # slope of (0, 70), (1, 50)
        "score_vs_class": 0.0,
        "missing_vs_class": 0.0,
        "weighted_score": 3900 / 70,  # (70*20 + 50*50) / (20 + 50): excused A2 left out
        "n_late": 1.0,  # A3
        "mean_days_early": -1.0,  # (2 - 4) / 2
        "days_since_last_submission": 1.0,  # 25 - 24
        "registration_day": -5.0,
        "studied_credits": 120.0,
        "num_prev_attempts": 1.0,
        "highest_education_level": 2.0,
        "pre_course_clicks": 0.0,
        "clicks_total": 20.0,
        "clicks_last_14d": 20.0,
        "active_days": 1.0,
        "clicks_vs_class": 0.0,
    },
    ("C1", "s3"): {
        "as_of_day": 25.0,
        "n_due": 3.0,
        "n_submitted": 1.0,  # A2 only: A3 comes on day 27
        "n_missing": 2.0,  # A1 and A3
        "n_excused": 0.0,
        "missing_share": 2 / 3,
        "score_mean": 40.0,
        "score_min": 40.0,
        "score_std": NAN,  # one score: no spread
        "score_last": 40.0,
        "score_trend": NAN,  # one score: no trend
        "score_vs_class": -20.0,
        "missing_vs_class": 2.0,
        "weighted_score": 12.0,  # (0*20 + 40*30 + 0*50) / 100
        "n_late": 0.0,
        "mean_days_early": 0.0,
        "days_since_last_submission": 15.0,  # 25 - 10
        "registration_day": 2.0,
        "studied_credits": 30.0,
        "num_prev_attempts": 0.0,
        "highest_education_level": 1.0,
        "pre_course_clicks": NAN,
        "clicks_total": 0.0,
        "clicks_last_14d": 0.0,
        "active_days": 0.0,
        "clicks_vs_class": -20.0,
    },
    ("C2", "s1"): {
        "as_of_day": 25.0,
        "n_due": 1.0,  # B1 (B2 is due on day 60)
        "n_submitted": 1.0,
        "n_missing": 0.0,
        "n_excused": 0.0,
        "missing_share": 0.0,
        "score_mean": 55.0,
        "score_min": 55.0,
        "score_std": NAN,
        "score_last": 55.0,
        "score_trend": NAN,
        "score_vs_class": 0.0,  # median of 55 and (unknown) is 55
        "missing_vs_class": -0.5,  # median of 0 and 1 is 0.5
        "weighted_score": 55.0,
        "n_late": 0.0,
        "mean_days_early": 0.0,
        "days_since_last_submission": 10.0,
        "registration_day": 0.0,
        "studied_credits": 60.0,
        "num_prev_attempts": 2.0,
        "highest_education_level": 4.0,
        "pre_course_clicks": 40.0,
        "clicks_total": 5.0,
        "clicks_last_14d": 0.0,
        "active_days": 1.0,
        "clicks_vs_class": -1.5,  # median of 5 and 8 is 6.5
    },
    ("C2", "s5"): {
        "as_of_day": 25.0,
        "n_due": 1.0,
        "n_submitted": 0.0,
        "n_missing": 1.0,
        "n_excused": 0.0,
        "missing_share": 1.0,
        "score_mean": NAN,
        "score_min": NAN,
        "score_std": NAN,
        "score_last": NAN,
        "score_trend": NAN,
        "score_vs_class": NAN,
        "missing_vs_class": 0.5,
        "weighted_score": 0.0,  # the missing B1 counts as 0
        "n_late": 0.0,
        "mean_days_early": NAN,
        "days_since_last_submission": NAN,
        "registration_day": -3.0,
        "studied_credits": 90.0,
        "num_prev_attempts": 0.0,
        "highest_education_level": NAN,  # education unknown
        "pre_course_clicks": 3.0,
        "clicks_total": 8.0,
        "clicks_last_14d": 8.0,
        "active_days": 1.0,
        "clicks_vs_class": 1.5,
    },
}

# Values that are not exact in binary floating point; everything else is compared with ==.
INEXACT = frozenset(
    {
        ("C1", "s1", "score_mean"),
        ("C1", "s1", "score_std"),
        ("C1", "s1", "score_trend"),
        ("C1", "s1", "score_vs_class"),
        ("C1", "s1", "mean_days_early"),
        ("C1", "s2", "weighted_score"),
        ("C1", "s3", "missing_share"),
    }
)


def rows(features: pd.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    """``{(course_id, student_id): {feature: value}}``; fails on duplicate enrolments."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for record in features.to_dict("records"):
        key = (str(record["course_id"]), str(record["student_id"]))
        assert key not in out, f"duplicate row for {key}"
        out[key] = {str(name): value for name, value in record.items()}
    return out


def assert_feature(key: tuple[str, str], name: str, actual: Any, expected: float) -> None:
    where = f"{key} {name}"
    if math.isnan(expected):
        assert pd.isna(actual), f"{where}: expected NaN, got {actual!r}"
        return
    assert not pd.isna(actual), f"{where}: expected {expected!r}, got NaN"
    if (*key, name) in INEXACT:
        assert actual == pytest.approx(expected, rel=1e-12, abs=1e-12), where
    else:
        assert actual == expected, f"{where}: expected {expected!r}, got {actual!r}"


@pytest.fixture
def features() -> pd.DataFrame:
    return build_features(make_data(), as_of_day=T)


# --- shape -------------------------------------------------------------------------------------


def test_columns_are_key_then_every_feature_in_catalog_order(features: pd.DataFrame) -> None:
    assert list(features.columns) == [
        "course_id",
        "student_id",
        *FULL_FEATURES,
        *ACTIVITY_FEATURES,
        "code_module",
    ]


def test_code_module_comes_from_the_course(features: pd.DataFrame) -> None:
    modules = {key: r["code_module"] for key, r in rows(features).items()}
    assert modules == {
        ("C1", "s1"): "C1",
        ("C1", "s2"): "C1",
        ("C1", "s3"): "C1",
        ("C2", "s1"): "C2",
        ("C2", "s5"): "C2",
    }


def test_one_row_per_enrolment_still_registered(features: pd.DataFrame) -> None:
    assert sorted(rows(features)) == sorted(EXPECTED)
    assert len(features) == len(EXPECTED)


def test_feature_columns_are_plain_floats(features: pd.DataFrame) -> None:
    for col in (*FULL_FEATURES, *ACTIVITY_FEATURES):
        assert features[col].dtype == np.float64, col


# --- exact values ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=lambda k: "-".join(k))
def test_every_feature_has_the_hand_computed_value(features: pd.DataFrame, key: tuple[str, str]) -> None:
    got = rows(features)[key]
    expected = EXPECTED[key]
    assert set(expected) == set(FULL_FEATURES) | set(ACTIVITY_FEATURES)
    for name, value in expected.items():
        assert_feature(key, name, got[name], value)


def test_exam_results_and_exam_due_dates_are_ignored() -> None:
    data = make_data()
    base = build_features(data, as_of_day=T)
    # give s2 and s3 a (perfect) exam result too: nothing may change
    extra = pd.DataFrame(
        [("C1", "EX", "s2", 21.0, 100.0, False), ("C1", "EX", "s3", 22.0, 0.0, False)],
        columns=["course_id", "assessment_id", "student_id", "submitted_day", "score_pct", "excused"],
    )
    data.results = pd.concat([data.results, extra], ignore_index=True)
    after = build_features(data, as_of_day=T)
    pd.testing.assert_frame_equal(base, after)
    # and with no exam at all the features are the same
    no_exam = make_data()
    no_exam.assessments = no_exam.assessments[no_exam.assessments["kind"] != "Exam"].reset_index(drop=True)
    pd.testing.assert_frame_equal(base, build_features(no_exam, as_of_day=T))


# --- who is scored -----------------------------------------------------------------------------


def test_active_enrollments_excludes_withdrawal_on_or_before_t() -> None:
    data = make_data()

    def ids(t: int) -> list[tuple[str, str]]:
        active = active_enrollments(data, as_of_day=t)
        return sorted(zip(active["course_id"], active["student_id"], strict=True))

    # s4 withdraws on day 25: still registered on day 24, gone on day 25
    assert ("C1", "s4") in ids(24)
    assert ("C1", "s4") not in ids(25)
    # s2 withdraws on day 30: registered on day 29, gone on day 30
    assert ("C1", "s2") in ids(29)
    assert ("C1", "s2") not in ids(30)
    assert ids(30) == [("C1", "s1"), ("C1", "s3"), ("C2", "s1"), ("C2", "s5")]


def test_withdrawn_student_does_not_move_class_medians() -> None:
    # with s4 included explicitly, the medians change — proof that the default leaves it out
    data = make_data()
    with_s4 = build_features(data, as_of_day=T, enrollments=data.enrollments)
    r = rows(with_s4)
    assert ("C1", "s4") in r
    # C1 score means 76.67, 60, 40, 100 → median 68.33; missing 0, 0, 2, 2 → median 1;
    # clicks 31, 20, 0, 500 → median 25.5
    assert r[("C1", "s2")]["score_vs_class"] == pytest.approx(60.0 - (230 / 3 + 60.0) / 2)
    assert r[("C1", "s1")]["missing_vs_class"] == -1.0
    assert r[("C1", "s2")]["clicks_vs_class"] == -5.5
    assert r[("C1", "s4")]["n_missing"] == 2.0


# --- sources without dates, context or activity -----------------------------------------------


def test_gradebook_source_gives_nan_dated_features() -> None:
    dated = build_features(make_data(), as_of_day=T)
    undated = build_features(make_data(has_dates=False), as_of_day=T)
    for col in DATED_FEATURES:
        assert undated[col].isna().all(), col
    same = ["course_id", "student_id", *GRADEBOOK_FEATURES, *CONTEXT_FEATURES, *ACTIVITY_FEATURES]
    pd.testing.assert_frame_equal(dated[same], undated[same])


def test_no_context_gives_nan_context_features() -> None:
    out = build_features(make_data(has_context=False), as_of_day=T)
    for col in CONTEXT_FEATURES:
        assert out[col].isna().all(), col
    assert rows(out)[("C1", "s1")]["weighted_score"] == 79.0


def test_no_activity_gives_nan_activity_features() -> None:
    out = build_features(make_data(with_activity=False), as_of_day=T)
    for col in ACTIVITY_FEATURES:
        assert out[col].isna().all(), col
    assert rows(out)[("C1", "s1")]["clicks_total"] != 0.0


# --- the parts on their own -------------------------------------------------------------------


def test_gradebook_features_alone() -> None:
    out = gradebook_features(make_data(has_dates=False), as_of_day=T)
    assert list(out.columns[:2]) == ["course_id", "student_id"]
    assert set(out.columns[2:]) == set(GRADEBOOK_FEATURES)  # build_features puts them in catalog order
    r = rows(out)
    assert sorted(r) == sorted(EXPECTED)
    for key, expected in EXPECTED.items():
        for name in GRADEBOOK_FEATURES:
            assert_feature(key, name, r[key][name], expected[name])


def test_context_features_map_highest_education() -> None:
    data = make_data()
    out = rows(context_features(data, data.enrollments))
    levels = {key: r["highest_education_level"] for key, r in out.items()}
    assert levels[("C1", "s4")] == 0.0  # No Formal quals
    assert levels[("C1", "s3")] == 1.0  # Lower Than A Level
    assert levels[("C1", "s2")] == 2.0  # A Level or Equivalent
    assert levels[("C1", "s1")] == 3.0  # HE Qualification
    assert levels[("C2", "s1")] == 4.0  # Post Graduate Qualification
    assert math.isnan(levels[("C2", "s5")])
    assert out[("C1", "s4")]["pre_course_clicks"] == 99.0


def test_context_unknown_education_text_is_nan() -> None:
    data = make_data()
    data.enrollments.loc[0, "highest_education"] = "Something else"
    out = rows(context_features(data, data.enrollments))
    assert math.isnan(out[("C1", "s1")]["highest_education_level"])


def test_activity_window_boundaries() -> None:
    data = make_data()
    enr = active_enrollments(data, as_of_day=T)
    r = rows(activity_features(data, enr, as_of_day=T))
    assert r[("C1", "s1")]["clicks_total"] == 31.0
    assert r[("C1", "s1")]["clicks_last_14d"] == 10.0
    # on day 26 the click on day 26 counts, and day 12 = 26 - 14 drops out of the window
    r26 = rows(activity_features(data, enr, as_of_day=26))
    assert r26[("C1", "s1")]["clicks_total"] == 131.0
    assert r26[("C1", "s1")]["clicks_last_14d"] == 103.0  # days 25, 26 (day 12 is now outside)
    assert r26[("C1", "s1")]["active_days"] == 6.0


def test_work_handed_in_early_is_in_the_gradebook_but_never_late_or_missing() -> None:
    """C2/s1 hands B2 (due 60) in on day 24: on day 25 it counts as handed in and scored."""
    results = pd.concat(
        [RESULTS, pd.DataFrame([("C2", "B2", "s5", 24.0, 30.0, False)], columns=RESULTS.columns)],
        ignore_index=True,
    )
    data = make_data()
    data = CanonicalData(
        source="test",
        courses=data.courses,
        enrollments=data.enrollments,
        assessments=data.assessments,
        results=results,
        has_dates=True,
        has_context=False,
    )
    row = build_features(data, as_of_day=T).set_index(["course_id", "student_id"]).loc[("C2", "s5")]
    assert row["n_due"] == 1.0  # B1 only
    assert row["n_submitted"] == 1.0  # the early B2
    assert row["n_missing"] == 1.0  # B1 is still missing
    assert row["score_mean"] == 30.0
    assert row["n_late"] == 0.0
    assert math.isnan(row["mean_days_early"])  # timing is measured against deadlines already passed
    assert row["days_since_last_submission"] == 1.0
    assert row["weighted_score"] == 0.0  # B1 (due, weight 100) counts as 0; B2 is not due yet


def test_a_student_who_registers_after_day_t_is_not_in_the_class_yet() -> None:
    enrollments = ENROLLMENTS.copy()
    enrollments.loc[enrollments["student_id"] == "s5", "registration_day"] = 40.0
    data = make_data()
    data.enrollments = CanonicalData(source="test", enrollments=enrollments).enrollments
    active = active_enrollments(data, as_of_day=T)
    assert sorted(zip(active["course_id"], active["student_id"], strict=True)) == [
        ("C1", "s1"),
        ("C1", "s2"),
        ("C1", "s3"),
        ("C2", "s1"),
    ]
    assert len(active_enrollments(data, as_of_day=40)) == 4  # s2 withdrew on day 30; s5 is in on day 40


def test_an_undated_result_counts_as_known_when_the_file_is_read() -> None:
    """Gradebooks without submission days (generic long CSV with an empty cell) still count the work."""
    results = RESULTS.copy()
    results.loc[(results["assessment_id"] == "A2") & (results["student_id"] == "s2"), "submitted_day"] = NA
    data = make_data()
    data.results = CanonicalData(source="test", results=results).results
    row = build_features(data, as_of_day=T).set_index(["course_id", "student_id"]).loc[("C1", "s2")]
    assert row["n_excused"] == 1.0
    assert row["n_missing"] == 0.0
