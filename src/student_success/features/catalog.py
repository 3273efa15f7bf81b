"""Names and meanings of every model feature, and which feature profile (variant) uses which.

A feature is *changeable* when the student or staff can still move it (work, scores, engagement,
attendance) and *context* otherwise (credit load, prior attempts, the day of the term). Explanations
say changeable reasons first.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeatureInfo:
    """What one feature means to a person."""

    name: str
    label: str
    changeable: bool
    unit: str = ""  # "%", "days", "clicks", "" (count or plain number)


FEATURES: dict[str, FeatureInfo] = {
    f.name: f
    for f in [
        # --- gradebook: only what a Canvas gradebook export gives ---
        FeatureInfo("as_of_day", "day of the term", changeable=False, unit="days"),
        FeatureInfo("n_due", "assessments due so far", changeable=False),
        FeatureInfo("n_submitted", "assessments handed in", changeable=True),
        FeatureInfo("n_missing", "missing assessments", changeable=True),
        FeatureInfo("n_excused", "excused assessments", changeable=False),
        FeatureInfo("missing_share", "share of due work missing", changeable=True, unit="%"),
        FeatureInfo("score_mean", "average score", changeable=True, unit="%"),
        FeatureInfo("score_min", "lowest score", changeable=True, unit="%"),
        FeatureInfo("score_std", "spread of scores", changeable=True, unit="%"),
        FeatureInfo("score_last", "most recent score", changeable=True, unit="%"),
        FeatureInfo("score_trend", "score trend", changeable=True, unit="%"),
        FeatureInfo("score_vs_class", "average score compared with the class", changeable=True, unit="%"),
        FeatureInfo("missing_vs_class", "missing work compared with the class", changeable=True),
        # --- full: everything in OULAD ---
        FeatureInfo(
            "weighted_score", "weighted score so far (missing work counts as 0)", changeable=True, unit="%"
        ),
        FeatureInfo("n_late", "assessments handed in late", changeable=True),
        FeatureInfo(
            "mean_days_early", "days handed in before the deadline, on average", changeable=True, unit="days"
        ),
        FeatureInfo(
            "days_since_last_submission", "days since the last hand-in", changeable=True, unit="days"
        ),
        FeatureInfo(
            "registration_day",
            "registration day (before the start is negative)",
            changeable=False,
            unit="days",
        ),
        FeatureInfo("studied_credits", "credit load", changeable=False),
        FeatureInfo("num_prev_attempts", "previous attempts at this course", changeable=False),
        FeatureInfo("highest_education_level", "prior education level", changeable=False),
        FeatureInfo(
            "pre_course_clicks", "online activity before the course started", changeable=True, unit="clicks"
        ),
        FeatureInfo("clicks_total", "online activity so far", changeable=True, unit="clicks"),
        FeatureInfo("clicks_last_14d", "online activity in the last 14 days", changeable=True, unit="clicks"),
        FeatureInfo("active_days", "days with online activity", changeable=True, unit="days"),
        FeatureInfo(
            "clicks_vs_class", "online activity compared with the class", changeable=True, unit="clicks"
        ),
    ]
}

GRADEBOOK_FEATURES: tuple[str, ...] = (
    "as_of_day",
    "n_due",
    "n_submitted",
    "n_missing",
    "n_excused",
    "missing_share",
    "score_mean",
    "score_min",
    "score_std",
    "score_last",
    "score_trend",
    "score_vs_class",
    "missing_vs_class",
)

DATED_FEATURES: tuple[str, ...] = (
    "weighted_score",
    "n_late",
    "mean_days_early",
    "days_since_last_submission",
)

CONTEXT_FEATURES: tuple[str, ...] = (
    "registration_day",
    "studied_credits",
    "num_prev_attempts",
    "highest_education_level",
    "pre_course_clicks",
)

ACTIVITY_FEATURES: tuple[str, ...] = ("clicks_total", "clicks_last_14d", "active_days", "clicks_vs_class")

FULL_FEATURES: tuple[str, ...] = GRADEBOOK_FEATURES + DATED_FEATURES + CONTEXT_FEATURES

# The guide's one-row-per-student summary columns and the feature each one feeds.
SUMMARY_COLUMN_MAP: dict[str, str] = {
    "early_avg_score": "score_mean",
    "studied_credits": "studied_credits",
    "num_of_prev_attempts": "num_prev_attempts",
    "early_missing_count": "n_missing",
    "early_submitted_count": "n_submitted",
    "early_total_clicks": "clicks_total",
}
SUMMARY_FEATURES: tuple[str, ...] = ("as_of_day", "score_mean", "studied_credits", "num_prev_attempts")

# K-12 (UCI student performance shape): column name -> meaning. Period-1 grade only (never G2, G3).
K12_FEATURES: dict[str, FeatureInfo] = {
    f.name: f
    for f in [
        FeatureInfo("G1", "first-period grade (0–20)", changeable=True),
        FeatureInfo("absences", "absences", changeable=True),
        FeatureInfo("failures", "past class failures", changeable=False),
        FeatureInfo("studytime", "weekly study time (1: <2 h … 4: >10 h)", changeable=True),
        FeatureInfo("schoolsup", "extra educational support from school", changeable=True),
        FeatureInfo("famsup", "family educational support", changeable=True),
        FeatureInfo("paid", "extra paid classes", changeable=True),
        FeatureInfo("activities", "extra-curricular activities", changeable=True),
        FeatureInfo("higher", "wants to take higher education", changeable=False),
        FeatureInfo("goout", "going out with friends (1 very low … 5 very high)", changeable=True),
        FeatureInfo("freetime", "free time after school (1 … 5)", changeable=False),
        FeatureInfo("traveltime", "home-to-school travel time (1: <15 min … 4: >1 h)", changeable=False),
        FeatureInfo("Dalc", "workday alcohol use (1 … 5)", changeable=True),
        FeatureInfo("Walc", "weekend alcohol use (1 … 5)", changeable=True),
        FeatureInfo("health", "current health status (1 … 5)", changeable=False),
    ]
}

HIGHER_EDUCATION_LEVELS: dict[str, int] = {
    "No Formal quals": 0,
    "Lower Than A Level": 1,
    "A Level or Equivalent": 2,
    "HE Qualification": 3,
    "Post Graduate Qualification": 4,
}


# +1 where a higher value is better for the student, -1 where it is worse; features without a clear
# direction (the day of the term, credit load, excused work) are absent. Explanations use it so that a
# reason reads as one: a score above the class median is never listed as raising the risk.
HIGHER_IS_BETTER: tuple[str, ...] = (
    "n_submitted", "score_mean", "score_min", "score_last", "score_trend", "score_vs_class",
    "weighted_score", "mean_days_early", "pre_course_clicks", "clicks_total", "clicks_last_14d",
    "active_days", "clicks_vs_class", "G1", "studytime",
)  # fmt: skip
HIGHER_IS_WORSE: tuple[str, ...] = (
    "n_missing", "missing_share", "missing_vs_class", "n_late", "days_since_last_submission",
    "num_prev_attempts", "absences", "failures",
)  # fmt: skip
FEATURE_DIRECTION: dict[str, int] = {
    **dict.fromkeys(HIGHER_IS_BETTER, 1),
    **dict.fromkeys(HIGHER_IS_WORSE, -1),
}
