"""As-of-day features: what was known on day t of the course, and nothing later.

Every function here is pure (DataFrames in, DataFrame out). A record dated after day t — an
assessment due after t, a submission after t, activity after t, a withdrawal after t — never changes
the features at t; ``tests/unit/test_features_leakage.py`` proves it with hypothesis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from student_success.features.catalog import ACTIVITY_FEATURES, FULL_FEATURES, HIGHER_EDUCATION_LEVELS
from student_success.ingest.canonical import CanonicalData

KEY = ["course_id", "student_id"]
EXCLUDED_KINDS = frozenset({"Exam"})  # end-of-course exams are the outcome, not an early signal


def active_enrollments(data: CanonicalData, *, as_of_day: int) -> pd.DataFrame:
    """Enrolments registered on day t: not yet withdrawn (a withdrawal on or before t is known), and
    already registered (a student who registers after day t is not in the class yet)."""
    enr = data.enrollments
    gone = enr["unregistration_day"].notna() & (enr["unregistration_day"] <= as_of_day)
    not_yet = enr["registration_day"].notna() & (enr["registration_day"] > as_of_day)
    keep = ~(gone.to_numpy(dtype=bool) | not_yet.to_numpy(dtype=bool))
    return enr.loc[keep].reset_index(drop=True)


def _due_work(data: CanonicalData, enrollments: pd.DataFrame, *, as_of_day: int) -> pd.DataFrame:
    """The gradebook as it stood on day t: one row per (enrolment, assessment) that was due by t or
    that the student had already handed in by t (early work), with the result as known on day t.

    ``is_due`` marks work due by t; only that can be missing. End-of-course exams are left out.
    """
    a = data.assessments[~data.assessments["kind"].isin(EXCLUDED_KINDS).fillna(False)]
    a = a[["course_id", "assessment_id", "due_day", "weight", "position"]]
    due = a[(a["due_day"] <= as_of_day).fillna(False)]
    work = enrollments[KEY].merge(due, on="course_id", how="inner")
    r = data.results
    # an undated result (the source gives no submission day) is known whenever the file is read
    known = r[(r["submitted_day"] <= as_of_day).fillna(True)]
    known = known[["course_id", "assessment_id", "student_id", "submitted_day", "score_pct", "excused"]]
    known = known.merge(enrollments[KEY], on=KEY, how="inner")
    work = work.merge(known, on=["course_id", "assessment_id", "student_id"], how="left")
    work["is_due"] = True
    early = known.merge(a[~a["assessment_id"].isin(due["assessment_id"])], on=["course_id", "assessment_id"])
    if not early.empty:
        early = early.assign(is_due=False)
        work = pd.concat([work, early[work.columns]], ignore_index=True)
    work["excused"] = work["excused"].fillna(False).astype(bool)
    work["handed_in"] = work["submitted_day"].notna() & ~work["excused"]
    return work


def _slope(group: pd.DataFrame) -> float:
    x = group["order"].to_numpy(dtype=float)
    y = group["score_pct"].to_numpy(dtype=float)
    if len(x) < 2 or np.ptp(x) == 0:
        return float("nan")
    return float(np.polyfit(x, y, 1)[0])


def _score_trend(scored: pd.DataFrame) -> pd.Series:
    """Least-squares slope of score against the order of the work (points per assessment)."""
    if scored.empty:
        return pd.Series(dtype=float)
    s = scored.sort_values([*KEY, "position"]).copy()
    s["order"] = s.groupby(KEY).cumcount().astype(float)
    # closed form per group: cov(x, y) / var(x)
    g = s.groupby(KEY)
    n = g["order"].transform("size")
    mx = g["order"].transform("mean")
    my = g["score_pct"].transform("mean")
    s["dxdy"] = (s["order"] - mx) * (s["score_pct"] - my)
    s["dx2"] = (s["order"] - mx) ** 2
    agg = s.assign(n=n).groupby(KEY)[["dxdy", "dx2", "n"]].agg({"dxdy": "sum", "dx2": "sum", "n": "first"})
    slope = agg["dxdy"] / agg["dx2"].where(agg["dx2"] > 0)
    return slope.where(agg["n"] >= 2)


def gradebook_features(
    data: CanonicalData, *, as_of_day: int, enrollments: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Features a gradebook alone supports, plus the dated ones when the source has real dates.

    Args:
        data: canonical records.
        as_of_day: day t; only records dated on or before t are used.
        enrollments: the enrolments to describe (default: those still registered on day t).

    Returns:
        One row per enrolment (columns ``course_id, student_id`` then features).
    """
    enr = active_enrollments(data, as_of_day=as_of_day) if enrollments is None else enrollments
    out = enr[KEY].copy().reset_index(drop=True)
    out["as_of_day"] = float(as_of_day)
    work = _due_work(data, enr, as_of_day=as_of_day)
    work["due_excused"] = work["excused"] & work["is_due"]
    work["due_missing"] = work["is_due"] & ~work["handed_in"] & ~work["excused"]
    g = work.groupby(KEY)
    counts = pd.DataFrame(
        {
            "n_due": g["is_due"].sum(),
            "n_submitted": g["handed_in"].sum(),
            "n_excused": g["due_excused"].sum(),
            "n_missing": g["due_missing"].sum(),
        }
    )
    scored = work[work["handed_in"] & work["score_pct"].notna()].copy()
    scored["score_pct"] = scored["score_pct"].astype(float)

    sg = scored.sort_values([*KEY, "position"]).groupby(KEY)["score_pct"]
    scores = pd.DataFrame(
        {
            "score_mean": sg.mean(),
            "score_min": sg.min(),
            "score_std": sg.std(ddof=0).where(sg.count() >= 2),
            "score_last": sg.last(),
        }
    )
    scores["score_trend"] = _score_trend(scored)
    out = out.merge(counts.reset_index(), on=KEY, how="left").merge(scores.reset_index(), on=KEY, how="left")
    for col in ("n_due", "n_submitted", "n_excused", "n_missing"):
        out[col] = out[col].fillna(0).astype(float)
    gradable = out["n_due"] - out["n_excused"]
    out["missing_share"] = (out["n_missing"] / gradable.where(gradable > 0)).astype(float)
    by_course = out.groupby("course_id")
    out["score_vs_class"] = out["score_mean"] - by_course["score_mean"].transform("median")
    out["missing_vs_class"] = out["n_missing"] - by_course["n_missing"].transform("median")
    if data.has_dates:
        out = out.merge(_dated_features(work, as_of_day=as_of_day), on=KEY, how="left")
        out["n_late"] = out["n_late"].fillna(0.0)
    return out


def _dated_features(work: pd.DataFrame, *, as_of_day: int) -> pd.DataFrame:
    """Timing features that need real due and submission days (OULAD, LMS APIs)."""
    w = work.copy()
    w["weight"] = w["weight"].astype(float).fillna(0.0)
    w["score0"] = w["score_pct"].astype(float).where(w["handed_in"], 0.0).fillna(0.0)
    w = w[~w["excused"]]
    w["ws"] = w["score0"] * w["weight"]
    g = w[w["is_due"]].groupby(KEY)
    wsum = g["weight"].sum()
    weighted = (g["ws"].sum() / wsum.where(wsum > 0)).fillna(g["score0"].mean())
    # timing against deadlines that have passed; early work for later deadlines counts as handed in
    sub = w[w["handed_in"]].copy()
    sub["late"] = sub["is_due"] & (sub["submitted_day"] > sub["due_day"])
    sub["early_by"] = (sub["due_day"] - sub["submitted_day"]).astype(float).where(sub["is_due"])
    sg = sub.groupby(KEY)
    res = pd.DataFrame({"weighted_score": weighted})
    res = res.join(
        pd.DataFrame(
            {
                "n_late": sg["late"].sum().astype(float),
                "mean_days_early": sg["early_by"].mean(),
                "days_since_last_submission": float(as_of_day) - sg["submitted_day"].max().astype(float),
            }
        ),
        how="outer",
    )
    return res.rename_axis(KEY).reset_index()


def context_features(data: CanonicalData, enrollments: pd.DataFrame) -> pd.DataFrame:
    """Registration timing, credit load, prior attempts, prior education, pre-course activity.

    These are known at the start of the course. Student-group attributes are deliberately absent.
    """
    out = enrollments[KEY].copy().reset_index(drop=True)
    e = enrollments.reset_index(drop=True)
    out["registration_day"] = e["registration_day"].astype(float)
    out["studied_credits"] = e["studied_credits"].astype(float)
    out["num_prev_attempts"] = e["num_prev_attempts"].astype(float)
    out["highest_education_level"] = e["highest_education"].map(HIGHER_EDUCATION_LEVELS).astype(float)
    if data.pre_course is not None:
        out = out.merge(data.pre_course, on=KEY, how="left")
        out["pre_course_clicks"] = out["pre_course_clicks"].astype(float)
    else:
        out["pre_course_clicks"] = np.nan
    return out


def activity_features(data: CanonicalData, enrollments: pd.DataFrame, *, as_of_day: int) -> pd.DataFrame:
    """Online activity up to and including day t (clicks, recent clicks, active days)."""
    out = enrollments[KEY].copy().reset_index(drop=True)
    if data.activity is None:
        for col in ACTIVITY_FEATURES:
            out[col] = np.nan
        return out
    act = data.activity[(data.activity["day"] <= as_of_day).fillna(False)].copy()
    act["clicks"] = act["clicks"].astype(float)
    act["recent"] = act["clicks"].where(act["day"] > as_of_day - 14, 0.0)
    g = act.groupby(KEY)
    agg = pd.DataFrame(
        {
            "clicks_total": g["clicks"].sum(),
            "clicks_last_14d": g["recent"].sum(),
            "active_days": g["day"].nunique().astype(float),
        }
    ).reset_index()
    out = out.merge(agg, on=KEY, how="left")
    for col in ("clicks_total", "clicks_last_14d", "active_days"):
        out[col] = out[col].fillna(0.0)
    out["clicks_vs_class"] = out["clicks_total"] - out.groupby("course_id")["clicks_total"].transform(
        "median"
    )
    return out


def build_features(
    data: CanonicalData, *, as_of_day: int, enrollments: pd.DataFrame | None = None
) -> pd.DataFrame:
    """All features the source supports on day t, one row per enrolment still registered.

    Columns a source cannot give (e.g. registration day from a Canvas export) are ``NaN``; the
    variant chooser (``ml.variants``) picks the richest model whose inputs are all present.

    Args:
        data: canonical records.
        as_of_day: day t of the course.
        enrollments: restrict to these enrolments (default: still registered on day t).

    Returns:
        ``course_id, student_id``, every feature of ``FULL_FEATURES`` and ``ACTIVITY_FEATURES``, and
        ``code_module`` (the course, for OULAD-style sources; NA otherwise).
    """
    enr = active_enrollments(data, as_of_day=as_of_day) if enrollments is None else enrollments
    enr = enr.reset_index(drop=True)
    out = gradebook_features(data, as_of_day=as_of_day, enrollments=enr)
    if data.has_context:
        out = out.merge(context_features(data, enr), on=KEY, how="left")
    if data.activity is not None:
        out = out.merge(activity_features(data, enr, as_of_day=as_of_day), on=KEY, how="left")
    for col in (*FULL_FEATURES, *ACTIVITY_FEATURES):
        if col not in out.columns:
            out[col] = np.nan
    modules = data.courses[["course_id", "code_module"]].drop_duplicates("course_id")
    out = out.merge(modules, on="course_id", how="left")
    cols = [*KEY, *FULL_FEATURES, *ACTIVITY_FEATURES, "code_module"]
    return out[cols]
