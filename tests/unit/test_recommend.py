"""Recommendation rules: factor → kind of support, dedupe, priorities, guardian contact, fallbacks."""

from __future__ import annotations

import pytest

from student_success.interventions.catalogue import CATALOGUE, InterventionType
from student_success.interventions.recommend import recommend_interventions
from student_success.ml.sentences import explain_prediction


def factor(feature: str, sentence: str, changeable: bool) -> dict[str, object]:
    return {
        "feature": feature,
        "sentence": sentence,
        "contribution": 0.1,
        "changeable": changeable,
        "kind": "changeable" if changeable else "context",
    }


def rec(key: str, reason: str, priority: str) -> dict[str, object]:
    t = CATALOGUE[key]
    return {
        "key": key,
        "title": t.title,
        "tier": t.tier,
        "reason": reason,
        "evidence": t.evidence,
        "priority": priority,
    }


OULAD_FACTORS = [
    factor("n_missing", "3 of the 5 assessments due so far are missing (class median: 0)", True),
    factor("num_prev_attempts", "1 previous attempt at this course", False),
    factor("studied_credits", "Studying 120 credits this term (a heavy load; class median: 60)", False),
]
OULAD_ROW: dict[str, float | None] = {
    "n_due": 5,
    "n_missing": 3,
    "num_prev_attempts": 1,
    "studied_credits": 120,
}


def test_catalogue_has_the_required_types() -> None:
    required = {
        "missing_work_recovery",
        "tutoring",
        "engagement_outreach",
        "study_skills",
        "counselling_referral",
        "guardian_contact",
        "course_load_review",
        "early_check_in",
    }
    assert required <= set(CATALOGUE)
    for key, t in CATALOGUE.items():
        assert isinstance(t, InterventionType) and t.key == key
        assert t.tier in (1, 2, 3) and t.duration_weeks > 0
        assert t.title and t.description.endswith(".") and t.evidence.endswith(".")
    assert CATALOGUE["early_check_in"].tier == 1
    assert "Nickow" in CATALOGUE["tutoring"].evidence


def test_catalogue_entries_are_frozen() -> None:
    with pytest.raises(AttributeError):
        CATALOGUE["tutoring"].tier = 1  # type: ignore[misc]


def test_high_risk_maps_each_factor_changeable_first() -> None:
    got = recommend_interventions(OULAD_FACTORS, risk_level="high", features=OULAD_ROW)
    assert got == [
        rec("missing_work_recovery", "3 of the 5 assessments due so far are missing.", "high"),
        rec("counselling_referral", "1 previous attempt at this course.", "medium"),
        rec("course_load_review", "Studying 120 credits this term (a heavy load).", "medium"),
    ]


def test_medium_risk_lowers_priorities() -> None:
    got = recommend_interventions(OULAD_FACTORS, risk_level="medium", features=OULAD_ROW, max_items=2)
    assert [(r["key"], r["priority"]) for r in got] == [
        ("missing_work_recovery", "medium"),
        ("counselling_referral", "low"),
    ]


def test_low_risk_gets_nothing() -> None:
    assert recommend_interventions(OULAD_FACTORS, risk_level="low", features=OULAD_ROW) == []


def test_unknown_risk_level_is_refused() -> None:
    with pytest.raises(ValueError, match="risk_level"):
        recommend_interventions(OULAD_FACTORS, risk_level="severe", features=OULAD_ROW)


def test_duplicates_keep_the_highest_ranked_reason() -> None:
    factors = [
        factor("score_trend", "Scores are falling: about 6 points lower with each assessment", True),
        factor("score_mean", "Average score 48 % (class median: 71 %)", True),
        factor("clicks_last_14d", "No online activity in the last 14 days", True),
    ]
    got = recommend_interventions(factors, risk_level="high", features={"score_mean": 48})
    assert got == [
        rec("tutoring", "Scores are falling: about 6 points lower with each assessment.", "high"),
        rec("engagement_outreach", "No online activity in the last 14 days.", "high"),
    ]


def test_medium_risk_with_nothing_mapped_gets_an_early_check_in() -> None:
    factors = [factor("registration_day", "Registered 12 days after the course started", False)]
    got = recommend_interventions(factors, risk_level="medium", features={"registration_day": 12})
    assert got == [rec("early_check_in", "Registered 12 days after the course started.", "low")]


def test_no_factors_at_all_still_gets_a_check_in() -> None:
    got = recommend_interventions([], risk_level="medium", features={})
    assert got == [
        rec(
            "early_check_in",
            "No single reason stands out; a short conversation can show whether the student needs anything.",
            "low",
        )
    ]


def test_nothing_to_fix_is_not_recommended() -> None:
    # The model may weigh "0 missing" towards risk; a recovery plan for no missing work makes no sense.
    factors = [
        factor("n_missing", "None of the 5 assessments due so far are missing", True),
        factor("n_late", "Handed in 2 assessments late", True),
    ]
    got = recommend_interventions(
        factors, risk_level="high", features={"n_due": 5, "n_missing": 0, "n_late": 2}
    )
    assert got == [rec("study_skills", "Handed in 2 assessments late.", "high")]


K12_FACTORS = [
    factor("absences", "12 absences so far (class median: 4)", True),
    factor("G1", "First-period grade 8 of 20 (class median: 11)", True),
    factor("failures", "2 past class failures", False),
]
K12_ROW: dict[str, float | None] = {"absences": 12, "G1": 8, "failures": 2, "Dalc": 1}


def test_high_risk_k12_with_several_factors_adds_guardian_contact_within_max_items() -> None:
    got = recommend_interventions(K12_FACTORS, risk_level="high", features=K12_ROW)
    assert got == [
        rec("engagement_outreach", "12 absences so far.", "high"),
        rec("tutoring", "First-period grade 8 of 20.", "high"),
        rec(
            "guardian_contact",
            "Several concerns at once: 12 absences so far; first-period grade 8 of 20; "
            "2 past class failures.",
            "high",
        ),
    ]
    more = recommend_interventions(K12_FACTORS, risk_level="high", features=K12_ROW, max_items=5)
    assert [r["key"] for r in more] == [
        "engagement_outreach",
        "tutoring",
        "guardian_contact",
        "counselling_referral",
    ]


def test_guardian_contact_needs_high_risk_several_factors_and_k12() -> None:
    medium = recommend_interventions(K12_FACTORS, risk_level="medium", features=K12_ROW)
    assert "guardian_contact" not in [r["key"] for r in medium]
    one = recommend_interventions(K12_FACTORS[:1], risk_level="high", features=K12_ROW)
    assert [r["key"] for r in one] == ["engagement_outreach"]
    oulad = recommend_interventions(OULAD_FACTORS, risk_level="high", features=OULAD_ROW, max_items=5)
    assert "guardian_contact" not in [r["key"] for r in oulad]


def test_k12_wellbeing_factors_go_to_counselling() -> None:
    factors = [factor("Walc", "Weekend alcohol use: high (4 on a 1–5 scale)", True)]
    got = recommend_interventions(factors, risk_level="medium", features={"Walc": 4})
    assert got == [rec("counselling_referral", "Weekend alcohol use: high (4 on a 1–5 scale).", "medium")]


def test_group_attributes_are_never_reasons() -> None:
    factors = [factor("disability", "Disability: 1", False), *OULAD_FACTORS[:1]]
    got = recommend_interventions(factors, risk_level="high", features=OULAD_ROW)
    assert got == [rec("missing_work_recovery", "3 of the 5 assessments due so far are missing.", "high")]


def test_max_items_limits_and_order_is_deterministic() -> None:
    first = recommend_interventions(OULAD_FACTORS, risk_level="high", features=OULAD_ROW, max_items=1)
    assert [r["key"] for r in first] == ["missing_work_recovery"]
    assert recommend_interventions(OULAD_FACTORS, risk_level="high", features=OULAD_ROW, max_items=0) == []
    again = [recommend_interventions(OULAD_FACTORS, risk_level="high", features=OULAD_ROW) for _ in range(3)]
    assert again[0] == again[1] == again[2]


def test_bare_factors_are_described_from_the_feature_row() -> None:
    got = recommend_interventions(
        [{"feature": "n_missing"}], risk_level="high", features={"n_due": 4, "n_missing": 2}
    )
    assert got == [rec("missing_work_recovery", "2 of the 4 assessments due so far are missing.", "high")]


def test_end_to_end_from_contributions() -> None:
    row: dict[str, float | None] = {
        "as_of_day": 60,
        "n_due": 5,
        "n_missing": 3,
        "score_mean": 48,
        "gender": 1,
    }
    explained = explain_prediction(
        {"as_of_day": 1.0, "gender": 0.9, "score_mean": 0.4, "n_missing": 0.6}, row, {"score_mean": 71}
    )
    got = recommend_interventions(explained["risk_factors"], risk_level="high", features=row)
    assert got == [
        rec("missing_work_recovery", "3 of the 5 assessments due so far are missing.", "high"),
        rec("tutoring", "Average score 48 %.", "high"),
    ]
