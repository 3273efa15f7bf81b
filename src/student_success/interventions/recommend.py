"""Recommend support from a student's risk factors: pure rules, no database, deterministic order.

Each risk factor (as :func:`student_success.ml.sentences.explain_prediction` returns it) maps by its
feature to one kind of support in :data:`~student_success.interventions.catalogue.CATALOGUE`. The
highest-ranked factor gives a recommendation its reason; what can still change comes first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Literal, TypedDict

from student_success.features.catalog import K12_FEATURES
from student_success.interventions.catalogue import CATALOGUE
from student_success.ml.sentences import PROTECTED_FEATURES, describe_factor, is_changeable

Priority = Literal["high", "medium", "low"]
RISK_LEVELS: tuple[str, ...] = ("high", "medium", "low")
GUARDIAN_MIN_FACTORS = 2  # "several" risk factors at high risk → also contact the family (K-12)

# Feature → the kind of support that addresses it.
RULES: dict[str, str] = {
    **dict.fromkeys(
        ("n_missing", "n_submitted", "missing_share", "missing_vs_class"), "missing_work_recovery"
    ),
    **dict.fromkeys(
        ("score_mean", "score_min", "score_std", "score_last", "score_trend", "score_vs_class"), "tutoring"
    ),
    **dict.fromkeys(("weighted_score", "G1"), "tutoring"),
    **dict.fromkeys(
        (
            "clicks_total",
            "clicks_last_14d",
            "clicks_vs_class",
            "active_days",
            "pre_course_clicks",
            "absences",
        ),
        "engagement_outreach",
    ),
    **dict.fromkeys(("n_late", "mean_days_early", "days_since_last_submission", "studytime"), "study_skills"),
    "studied_credits": "course_load_review",
    **dict.fromkeys(
        ("num_prev_attempts", "failures", "Dalc", "Walc", "health", "goout"), "counselling_referral"
    ),
}

# A rule is skipped when the student's own count shows nothing to act on (e.g. no missing work),
# even if the model still weighed the feature towards risk: feature → the count to look at.
_ZERO_MEANS_NOTHING_TO_FIX: dict[str, str] = {
    "n_missing": "n_missing",
    "missing_share": "missing_share",
    "missing_vs_class": "n_missing",
    "n_late": "n_late",
    "num_prev_attempts": "num_prev_attempts",
    "failures": "failures",
    "absences": "absences",
}

_PRIORITY_ORDER: dict[str, int] = {"high": 0, "medium": 1, "low": 2}
_CLASS_MEDIAN = re.compile(r" \(class median: [^()]*\)$|; class median: [^()]*(?=\)$)")
_NO_CLEAR_REASON = (
    "No single reason stands out; a short conversation can show whether the student needs anything."
)


class Recommendation(TypedDict):
    """One recommended kind of support, ready to pre-fill an intervention plan."""

    key: str
    title: str
    tier: int
    reason: str
    evidence: str
    priority: Priority


def _number(x: float | None) -> float | None:
    """``x`` as a float (numpy and pandas numbers too), or ``None`` when missing."""
    try:
        f = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _as_reason(sentence: str) -> str:
    """A factor sentence as a reason: without the class median, ending with a full stop."""
    text = _CLASS_MEDIAN.sub("", sentence.strip()).rstrip(".")
    return text + "."


def _lower_first(text: str) -> str:
    # Keep acronyms and names ("G1", "A level") as they are.
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


def _item(key: str, reason: str, priority: Priority) -> Recommendation:
    t = CATALOGUE[key]
    return {
        "key": t.key,
        "title": t.title,
        "tier": t.tier,
        "reason": reason,
        "evidence": t.evidence,
        "priority": priority,
    }


def _priority(risk_level: str, changeable: bool) -> Priority:
    if risk_level == "high":
        return "high" if changeable else "medium"
    return "medium" if changeable else "low"


def recommend_interventions(
    risk_factors: Sequence[Mapping[str, object]],
    *,
    risk_level: str,
    features: Mapping[str, float | None],
    max_items: int = 3,
) -> list[Recommendation]:
    """Map a student's risk factors to ranked kinds of support.

    Rules, in order:

    * ``risk_level == "low"`` → no recommendations.
    * Each factor maps by its feature through :data:`RULES`; a rule is skipped when the student's own
      count is 0 (nothing missing, no absences …). Duplicates keep the reason of the highest-ranked
      factor (the factors' own order: changeable first, then by contribution).
    * At high risk, a K-12 student with at least :data:`GUARDIAN_MIN_FACTORS` risk factors also gets
      ``guardian_contact``, and it keeps a place within ``max_items``.
    * Nothing mapped at medium or high risk → ``early_check_in`` (priority ``"low"`` at medium risk,
      ``"high"`` at high risk), with the top factor as its reason when there is one.

    Priority: at high risk, support for a changeable factor is ``"high"`` and for context
    ``"medium"``; at medium risk ``"medium"`` and ``"low"``. The list is sorted by priority, then by
    the rank of the factor behind it.

    Args:
        risk_factors: ``explain_prediction(...)["risk_factors"]``: dicts with ``feature`` and
            ideally ``sentence`` and ``changeable`` (recomputed from ``features`` when absent).
        risk_level: ``"high"``, ``"medium"`` or ``"low"``.
        features: the student's feature row.
        max_items: at most this many recommendations.

    Returns:
        Dicts with ``key``, ``title``, ``tier``, ``reason`` (a plain sentence about the factor),
        ``evidence`` and ``priority``.

    Raises:
        ValueError: if ``risk_level`` is not one of :data:`RISK_LEVELS`.
    """
    if risk_level not in RISK_LEVELS:
        raise ValueError(f"risk_level must be one of {', '.join(RISK_LEVELS)}; got {risk_level!r}")
    if risk_level == "low" or max_items <= 0:
        return []

    reasons: list[tuple[str, str]] = []  # (feature, reason) for every usable factor, in rank order
    picked: dict[str, Recommendation] = {}
    for factor in risk_factors:
        feature = str(factor.get("feature", ""))
        if not feature or feature in PROTECTED_FEATURES:
            continue
        sentence = factor.get("sentence")
        if not isinstance(sentence, str) or not sentence:
            sentence = describe_factor(feature, features.get(feature), features=features, class_context={})
        reasons.append((feature, _as_reason(sentence)))
        key = RULES.get(feature)
        count_name = _ZERO_MEANS_NOTHING_TO_FIX.get(feature)
        if key is None or key in picked or (count_name and _number(features.get(count_name)) == 0):
            continue
        changeable = factor.get("changeable")
        if not isinstance(changeable, bool):
            changeable = is_changeable(feature)
        picked[key] = _item(key, reasons[-1][1], _priority(risk_level, changeable))

    ranked = sorted(picked.values(), key=lambda r: _PRIORITY_ORDER[r["priority"]])  # stable: keeps rank
    is_k12 = any(f in K12_FEATURES for f, _ in reasons) or any(f in K12_FEATURES for f in features)
    if risk_level == "high" and is_k12 and len(reasons) >= GUARDIAN_MIN_FACTORS and max_items >= 2:
        listed = "; ".join(_lower_first(reason.rstrip(".")) for _, reason in reasons)
        guardian = _item("guardian_contact", f"Several concerns at once: {listed}.", "high")
        ranked = [*ranked[: max_items - 1], guardian]
        ranked.sort(key=lambda r: _PRIORITY_ORDER[r["priority"]])
    if not ranked:
        reason = reasons[0][1] if reasons else _NO_CLEAR_REASON
        return [_item("early_check_in", reason, "high" if risk_level == "high" else "low")]
    return ranked[:max_items]
