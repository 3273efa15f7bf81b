"""Plain sentences for each feature, the factor lists built from TreeSHAP contributions, and probabilities."""

from __future__ import annotations

import math

import pytest

from student_success.features.catalog import FEATURES, K12_FEATURES
from student_success.ingest.canonical import GROUP_ATTRIBUTES
from student_success.ml.sentences import describe_factor, explain_prediction, plain_probability

NAN = float("nan")

ROW: dict[str, float | None] = {"n_due": 5, "n_missing": 3, "as_of_day": 30}
CLASS: dict[str, float | None] = {
    "n_missing": 0,
    "score_mean": 71.2,
    "clicks_total": 2300,
    "studied_credits": 60,
    "studytime": 2,
    "G1": 11,
    "absences": 4,
    "missing_share": 0.1,
    "mean_days_early": 4,
    "days_since_last_submission": 5,
    "score_std": NAN,  # an unknown class median is left out
}

# One value per feature, and exactly what a teacher reads.
EXPECTED: dict[str, tuple[float, str]] = {
    "as_of_day": (30, "Day 30 of the term: 5 assessments due so far"),
    "n_due": (5, "5 assessments due so far"),
    "n_submitted": (2, "Handed in 2 of the 5 assessments due so far"),
    "n_missing": (3, "3 of the 5 assessments due so far are missing (class median: 0)"),
    "n_excused": (1, "1 assessment excused"),
    "missing_share": (0.6, "60 % of the work due so far is missing (class median: 10 %)"),
    "score_mean": (48.4, "Average score 48 % (class median: 71 %)"),
    "score_min": (22, "Lowest score 22 %"),
    "score_std": (25.3, "Scores vary by about 25 points from one assessment to the next"),
    "score_last": (35, "Most recent score 35 %"),
    "score_trend": (-6.2, "Scores are falling: about 6 points lower with each assessment"),
    "score_vs_class": (-23, "Average score 23 points below the class median"),
    "missing_vs_class": (3, "3 more missing assessments than is typical in the class"),
    "weighted_score": (41, "Weighted score so far 41 %, counting missing work as 0"),
    "n_late": (2, "Handed in 2 assessments late"),
    "mean_days_early": (
        -2,
        "Hands work in 2 days after the deadline, on average (class median: 4 days early)",
    ),
    "days_since_last_submission": (12, "12 days since the last hand-in (class median: 5 days)"),
    "registration_day": (12, "Registered 12 days after the course started"),
    "studied_credits": (120, "Studying 120 credits this term (a heavy load; class median: 60)"),
    "num_prev_attempts": (1, "1 previous attempt at this course"),
    "highest_education_level": (1, "Prior education: below A level"),
    "pre_course_clicks": (0, "No online activity before the course started"),
    "clicks_total": (1240, "1,240 clicks online so far (class median: 2,300)"),
    "clicks_last_14d": (85, "85 clicks online in the last 14 days"),
    "active_days": (12, "Active online on 12 days so far"),
    "clicks_vs_class": (-1100, "About 1,100 fewer clicks online than is typical in the class"),
    "G1": (8, "First-period grade 8 of 20 (class median: 11)"),
    "absences": (12, "12 absences so far (class median: 4)"),
    "failures": (2, "2 past class failures"),
    "studytime": (1, "Weekly study time: less than 2 hours (class median: 2 to 5 hours)"),
    "schoolsup": (1, "Gets extra educational support from school"),
    "famsup": (0, "No educational support from family"),
    "paid": (0, "No extra paid classes"),
    "activities": (1, "Takes part in extra-curricular activities"),
    "higher": (0, "Does not plan to go on to higher education"),
    "goout": (5, "Going out with friends: very high (5 on a 1–5 scale)"),
    "freetime": (4, "Free time after school: high (4 on a 1–5 scale)"),
    "traveltime": (4, "Travel time to school: over 1 hour"),
    "Dalc": (2, "Workday alcohol use: low (2 on a 1–5 scale)"),
    "Walc": (4, "Weekend alcohol use: high (4 on a 1–5 scale)"),
    "health": (2, "Current health: poor (2 on a 1–5 scale)"),
}


def describe(feature: str, value: float | None, row: dict[str, float | None] | None = None) -> str:
    return describe_factor(feature, value, features=ROW if row is None else row, class_context=CLASS)


def test_every_catalogue_feature_has_an_expected_sentence() -> None:
    assert set(EXPECTED) == set(FEATURES) | set(K12_FEATURES)


@pytest.mark.parametrize("feature", sorted(EXPECTED))
def test_sentence_for_each_feature(feature: str) -> None:
    value, sentence = EXPECTED[feature]
    assert describe(feature, value) == sentence


def test_brief_example_is_exact() -> None:
    got = describe_factor(
        "n_missing", 3, features={"n_due": 5, "n_missing": 3}, class_context={"n_missing": 0}
    )
    assert got == "3 of the 5 assessments due so far are missing (class median: 0)"


@pytest.mark.parametrize(
    ("feature", "value", "row", "sentence"),
    [
        ("n_missing", 1, {"n_due": 5}, "1 of the 5 assessments due so far is missing (class median: 0)"),
        ("n_missing", 0, {"n_due": 5}, "None of the 5 assessments due so far are missing (class median: 0)"),
        ("n_missing", 1, {"n_due": 1}, "The only assessment due so far is missing (class median: 0)"),
        ("n_missing", 2, {}, "2 assessments missing so far (class median: 0)"),
        ("n_submitted", 0, {"n_due": 4}, "Handed in none of the 4 assessments due so far"),
        ("n_submitted", 3, {}, "Handed in 3 assessments so far"),
        ("as_of_day", 30, {"n_due": 1}, "Day 30 of the term: little graded work yet"),
        ("as_of_day", 10, {"n_due": 0}, "Day 10 of the term: no graded work due yet"),
        ("as_of_day", 30, {}, "Day 30 of the term"),
        ("as_of_day", -3, {}, "3 days before the course starts"),
        ("score_trend", 4.4, {}, "Scores are rising: about 4 points higher with each assessment"),
        ("score_trend", -0.6, {}, "Scores are falling: about 1 point lower with each assessment"),
        ("score_trend", 0.3, {}, "Scores are steady from one assessment to the next"),
        ("score_vs_class", 2.5, {}, "Average score 3 points above the class median"),
        ("missing_vs_class", -1, {}, "1 fewer missing assessment than is typical in the class"),
        ("registration_day", -20, {}, "Registered 20 days before the course started"),
        ("registration_day", 0, {}, "Registered on the day the course started"),
        ("studied_credits", 30, {}, "Studying 30 credits this term (class median: 60)"),
        ("num_prev_attempts", 0, {}, "First attempt at this course"),
        ("num_prev_attempts", 2, {}, "2 previous attempts at this course"),
        (
            "mean_days_early",
            3,
            {},
            "Hands work in 3 days before the deadline, on average (class median: 4 days early)",
        ),
        ("days_since_last_submission", 1, {}, "1 day since the last hand-in (class median: 5 days)"),
        ("pre_course_clicks", 45, {}, "45 clicks online before the course started"),
        ("clicks_last_14d", 0, {}, "No online activity in the last 14 days"),
        ("absences", 1, {}, "1 absence so far (class median: 4)"),
        ("failures", 0, {}, "No past class failures"),
        ("n_late", 0, {}, "No work handed in late"),
        ("missing_share", 40, {}, "40 % of the work due so far is missing (class median: 10 %)"),
        ("score_mean", 0.4812 * 100, {}, "Average score 48 % (class median: 71 %)"),
        ("score_mean", 47.5, {}, "Average score 48 % (class median: 71 %)"),
        ("studytime", 9, {}, "Weekly study time (1: <2 h … 4: >10 h): 9 (class median: 2)"),
    ],
)
def test_sentence_variants(feature: str, value: float, row: dict[str, float | None], sentence: str) -> None:
    assert describe(feature, value, row) == sentence


@pytest.mark.parametrize(
    ("feature", "sentence"),
    [
        ("score_mean", "No scored work yet"),
        ("score_last", "No scored work yet"),
        ("score_trend", "Not enough scored work yet to see a trend"),
        ("weighted_score", "No weighted work due yet"),
        ("days_since_last_submission", "Nothing handed in yet"),
        ("n_missing", "Missing assessments not known"),
        ("G1", "First-period grade not known"),
        ("goout", "Going out with friends not known"),
        ("higher", "Plans for higher education not known"),
    ],
)
@pytest.mark.parametrize("missing", [None, NAN])
def test_missing_values_are_said_plainly(feature: str, sentence: str, missing: float | None) -> None:
    assert describe(feature, missing) == sentence


def test_every_feature_survives_a_missing_value() -> None:
    for feature in [*FEATURES, *K12_FEATURES]:
        sentence = describe(feature, NAN, {})
        assert sentence and "nan" not in sentence.lower()


def test_no_raw_fractions_in_sentences() -> None:
    assert describe("score_mean", 48.12345) == "Average score 48 % (class median: 71 %)"
    assert "0.4812" not in describe("missing_share", 0.4812)


def test_unknown_feature_falls_back_to_its_name() -> None:
    assert describe("study_hours", 3.4) == "Study hours: 3"


def test_group_attributes_are_never_described() -> None:
    for name in [*GROUP_ATTRIBUTES, "sex", "age"]:
        with pytest.raises(ValueError, match="never given as a reason"):
            describe(name, 1)


CONTRIBUTIONS = {
    "as_of_day": 0.9,  # the largest, but not a reason
    "gender": 0.8,  # a group attribute: never listed
    "num_prev_attempts": 0.5,
    "studied_credits": 0.35,
    "n_missing": 0.3,
    "score_mean": 0.2,
    "score_trend": 0.1,
    "clicks_total": -0.6,
    "registration_day": -0.4,
    "score_last": -0.05,
    "active_days": -0.01,
    "score_min": 0.0,  # no effect: in neither list
}
FEATURE_ROW: dict[str, float | None] = {
    "as_of_day": 30,
    "gender": 1,
    "n_due": 5,
    "n_missing": 3,
    "score_mean": 48.4,
    "score_trend": -6,
    "num_prev_attempts": 1,
    "studied_credits": 120,
    "clicks_total": 3100,
    "registration_day": -20,
    "score_last": 80,
    "active_days": 25,
    "score_min": NAN,
}


def test_explain_prediction_picks_top_n_then_puts_changeable_first() -> None:
    got = explain_prediction(CONTRIBUTIONS, FEATURE_ROW, {"n_missing": 0, "score_mean": 71})
    assert got == {
        "risk_factors": [
            {
                "feature": "n_missing",
                "sentence": "3 of the 5 assessments due so far are missing (class median: 0)",
                "contribution": 0.3,
                "changeable": True,
                "kind": "changeable",
            },
            {
                "feature": "num_prev_attempts",
                "sentence": "1 previous attempt at this course",
                "contribution": 0.5,
                "changeable": False,
                "kind": "context",
            },
            {
                "feature": "studied_credits",
                "sentence": "Studying 120 credits this term (a heavy load)",
                "contribution": 0.35,
                "changeable": False,
                "kind": "context",
            },
        ],
        "protective_factors": [
            {
                "feature": "clicks_total",
                "sentence": "3,100 clicks online so far",
                "contribution": -0.6,
                "changeable": True,
                "kind": "changeable",
            },
            {
                "feature": "score_last",
                "sentence": "Most recent score 80 %",
                "contribution": -0.05,
                "changeable": True,
                "kind": "changeable",
            },
            {
                "feature": "registration_day",
                "sentence": "Registered 20 days before the course started",
                "contribution": -0.4,
                "changeable": False,
                "kind": "context",
            },
        ],
    }


def test_explain_prediction_top_n_and_rounding() -> None:
    got = explain_prediction({"score_mean": 0.123456789, "n_late": 0.2, "score_last": -0.3}, {}, {}, top_n=1)
    assert [f["feature"] for f in got["risk_factors"]] == ["n_late"]
    assert got["risk_factors"][0]["sentence"] == "Assessments handed in late not known"
    assert [f["feature"] for f in got["protective_factors"]] == ["score_last"]
    assert got["protective_factors"][0]["sentence"] == "No scored work yet"
    small = explain_prediction({"score_mean": 0.123456789}, {"score_mean": 50}, {})
    assert small["risk_factors"][0]["contribution"] == 0.1235


def test_explain_prediction_never_lists_group_attributes_or_as_of_day() -> None:
    contributions = dict.fromkeys(GROUP_ATTRIBUTES, 5.0) | {"as_of_day": 4.0, "sex": -3.0, "age": 2.0}
    contributions |= {"bias": -2.0, "n_late": 0.1}
    got = explain_prediction(contributions, {"n_late": 1}, {}, top_n=10)
    assert [f["feature"] for f in got["risk_factors"]] == ["n_late"]
    assert got["protective_factors"] == []


def test_explain_prediction_skips_nan_contributions_and_breaks_ties_by_name() -> None:
    got = explain_prediction({"score_min": NAN, "score_last": 0.2, "score_mean": 0.2}, {}, {}, top_n=1)
    assert [f["feature"] for f in got["risk_factors"]] == ["score_last"]


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0, "Fewer than 1 in 10 students with a record like this did not pass."),
        (0.049, "Fewer than 1 in 10 students with a record like this did not pass."),
        (0.05, "About 1 in 10 students with a record like this did not pass."),
        (0.25, "About 3 in 10 students with a record like this did not pass."),
        (0.66, "About 7 in 10 students with a record like this did not pass."),
        (0.949, "About 9 in 10 students with a record like this did not pass."),
        (0.95, "More than 9 in 10 students with a record like this did not pass."),
        (1.0, "More than 9 in 10 students with a record like this did not pass."),
    ],
)
def test_plain_probability(p: float, text: str) -> None:
    assert plain_probability(p) == text


@pytest.mark.parametrize("p", [-0.1, 1.1, math.nan])
def test_plain_probability_rejects_non_probabilities(p: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        plain_probability(p)
