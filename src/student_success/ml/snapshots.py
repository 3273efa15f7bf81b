"""Training rows: feature snapshots of every enrolment at many days of the term, with known outcomes.

One model per variant serves every day: the as-of day is an input, and training stacks snapshots
taken every ``step`` days. Splits group by enrolment so no student leaks across folds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from student_success.features.asof import KEY, build_features
from student_success.ingest.canonical import AT_RISK_OUTCOMES, OUTCOMES, CanonicalData

DEFAULT_SNAPSHOT_DAYS: tuple[int, ...] = tuple(range(0, 246, 14))


def build_snapshots(
    data: CanonicalData,
    *,
    days: Iterable[int] = DEFAULT_SNAPSHOT_DAYS,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Stack as-of-day features at each day, with outcome columns for training and evaluation.

    Returns:
        Features plus ``final_result``, ``at_risk`` (1 for Fail or Withdrawn), ``outcome`` (class
        index into ``OUTCOMES``) and ``code_presentation``.
    """
    outcome = data.enrollments[[*KEY, "final_result"]]
    pres = data.courses[["course_id", "code_presentation"]]
    frames = []
    for day in days:
        frames.append(build_features(data, as_of_day=day))
        if progress is not None:
            progress(day)
    df = pd.concat(frames, ignore_index=True)
    df = df.merge(outcome, on=KEY, how="left").merge(pres, on="course_id", how="left")
    df = df[df["final_result"].isin(OUTCOMES)].reset_index(drop=True)
    df["at_risk"] = df["final_result"].isin(AT_RISK_OUTCOMES).astype(int)
    df["outcome"] = df["final_result"].map({name: i for i, name in enumerate(OUTCOMES)}).astype(int)
    return df


def enrolment_groups(df: pd.DataFrame) -> np.ndarray:
    """Integer group id per row: one per enrolment (course, student)."""
    codes, _ = pd.factorize(df["course_id"].astype(str) + "|" + df["student_id"].astype(str))
    return np.asarray(codes)
