"""Plain-language reasons for a prediction: one feature value → one sentence a teacher can read.

Sentences carry the student's own numbers and, where known, the class median ("Average score 48 %
(class median: 71 %)"). :func:`explain_prediction` turns TreeSHAP contributions into the top risk and
protective factors, changeable reasons first, never naming a student-group attribute.

Feature scales, as :mod:`student_success.features.asof` builds them: scores and ``weighted_score`` are
0–100; ``score_trend`` is points per assessment; ``score_vs_class``, ``missing_vs_class`` and
``clicks_vs_class`` are the student's value minus the class median; ``missing_share`` is a share of 0–1
(values above 1 are read as already in percent); ``mean_days_early`` is positive when work comes in early.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypedDict

from student_success.features.catalog import FEATURES, K12_FEATURES, FeatureInfo
from student_success.ingest.canonical import GROUP_ATTRIBUTES

# Never a reason: the canonical group attributes plus the UCI K-12 file's own sex and age columns.
PROTECTED_FEATURES: frozenset[str] = frozenset(GROUP_ATTRIBUTES) | {"sex", "age"}
# Inputs that are not reasons: the day of the term, and a baseline term if a caller passes one along.
NOT_REASONS: frozenset[str] = frozenset({"as_of_day", "bias", "base_value", "expected_value"})
HEAVY_CREDIT_LOAD = 120  # Open University: 120 credits a year is full-time study

_EDUCATION = {
    0: "no formal qualifications",
    1: "below A level",
    2: "A level or equivalent",
    3: "a higher-education qualification",
    4: "a postgraduate qualification",
}
_STUDYTIME = {1: "less than 2 hours", 2: "2 to 5 hours", 3: "5 to 10 hours", 4: "more than 10 hours"}
_TRAVELTIME = {1: "under 15 minutes", 2: "15 to 30 minutes", 3: "30 minutes to 1 hour", 4: "over 1 hour"}
_LEVELS = {1: "very low", 2: "low", 3: "moderate", 4: "high", 5: "very high"}
_HEALTH = {1: "very poor", 2: "poor", 3: "fair", 4: "good", 5: "very good"}
_SCALES: dict[str, tuple[str, dict[int, str]]] = {
    "goout": ("Going out with friends", _LEVELS),
    "freetime": ("Free time after school", _LEVELS),
    "Dalc": ("Workday alcohol use", _LEVELS),
    "Walc": ("Weekend alcohol use", _LEVELS),
    "health": ("Current health", _HEALTH),
}
_YES_NO: dict[str, tuple[str, str]] = {
    "schoolsup": ("Gets extra educational support from school", "No extra educational support from school"),
    "famsup": ("Gets educational support from family", "No educational support from family"),
    "paid": ("Takes extra paid classes", "No extra paid classes"),
    "activities": ("Takes part in extra-curricular activities", "No extra-curricular activities"),
    "higher": ("Wants to go on to higher education", "Does not plan to go on to higher education"),
}

Row = Mapping[str, float | None]


class Factor(TypedDict):
    """One reason for a prediction, as :func:`explain_prediction` returns it."""

    feature: str
    sentence: str
    contribution: float
    changeable: bool
    kind: Literal["changeable", "context"]


def _num(x: Any) -> float | None:
    """``x`` as a float, or ``None`` when it is missing (None, NaN, pandas NA) or not a number."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _rint(x: float) -> int:
    """Round half away from zero (people expect 2.5 → 3, not Python's 2)."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def _int(x: float) -> str:
    return f"{_rint(x):,}"


def _pct(x: float) -> str:
    return f"{_int(x)} %"


def _noun(n: int, one: str) -> str:
    return one if n == 1 else one + "s"


def _count(n: int, one: str) -> str:
    return f"{n:,} {_noun(n, one)}"


def _share_pct(x: float) -> float:
    return x * 100 if abs(x) <= 1 else x


def _timing(days: int) -> str:
    if days == 0:
        return "on the day"
    return f"{_count(abs(days), 'day')} {'early' if days > 0 else 'late'}"


def _median(ctx: Row, name: str, fmt: Callable[[float], str] = _int) -> str:
    m = _num(ctx.get(name))
    return "" if m is None else f" (class median: {fmt(m)})"


def _info(feature: str) -> FeatureInfo | None:
    return FEATURES.get(feature) or K12_FEATURES.get(feature)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _generic(feature: str, v: float | None, ctx: Row) -> str:
    info = _info(feature)
    label = _capital(info.label if info else feature.replace("_", " "))
    if v is None:
        return f"{label} not known"
    unit = info.unit if info else ""
    text = f"{label}: {_pct(v) if unit == '%' else _int(v)}"
    return text + (f" {unit}" if unit and unit != "%" else "") + _median(ctx, feature)


def _as_of_day(v: float, f: Row, ctx: Row) -> str:
    day = _rint(v)
    if day < 0:
        return f"{_count(-day, 'day')} before the course starts"
    text = f"Day {day} of the term"
    due = _num(f.get("n_due"))
    if due is None:
        return text
    n = _rint(due)
    if n == 0:
        return text + ": no graded work due yet"
    return text + (": little graded work yet" if n <= 2 else f": {_count(n, 'assessment')} due so far")


_Describer = Callable[[float, Row, Row], str]


def _counted(name: str, zero: str, template: str, noun: str) -> _Describer:
    """A count: ``zero`` when it rounds to 0, else ``template`` with ``{n}`` and ``{noun}``; class median."""

    def describe(v: float, f: Row, ctx: Row) -> str:
        n = _rint(v)
        return (zero if n == 0 else template.format(n=f"{n:,}", noun=_noun(n, noun))) + _median(ctx, name)

    return describe


def _signed(zero: str, below: str, above: str, noun: str) -> _Describer:
    """A signed difference: ``zero`` when it rounds to 0, else ``below`` or ``above`` with ``{n} {noun}``."""

    def describe(v: float, f: Row, ctx: Row) -> str:
        d = _rint(v)
        return (
            zero if d == 0 else (below if d < 0 else above).format(n=f"{abs(d):,}", noun=_noun(abs(d), noun))
        )

    return describe


def _n_submitted(v: float, f: Row, ctx: Row) -> str:
    n, due = _rint(v), _num(f.get("n_due"))
    if due is None or _rint(due) == 0:
        text = "Nothing handed in yet" if n == 0 else f"Handed in {_count(n, 'assessment')} so far"
    else:
        text = f"Handed in {'none' if n == 0 else n} of the {_count(_rint(due), 'assessment')} due so far"
    return text + _median(ctx, "n_submitted")


def _n_missing(v: float, f: Row, ctx: Row) -> str:
    n, due_f = _rint(v), _num(f.get("n_due"))
    due = None if due_f is None else _rint(due_f)
    if due is None or due == 0 or n > due:
        text = "No missing assessments" if n == 0 else f"{_count(n, 'assessment')} missing so far"
    elif due == 1:
        text = "The only assessment due so far is " + ("missing" if n == 1 else "handed in")
    elif n == 0:
        text = f"None of the {due} assessments due so far are missing"
    else:
        text = f"{n} of the {due} assessments due so far {'is' if n == 1 else 'are'} missing"
    return text + _median(ctx, "n_missing")


def _missing_share(v: float, f: Row, ctx: Row) -> str:
    share = _share_pct(v)
    text = f"{_pct(share)} of the work due so far is missing"
    if _rint(share) == 0:
        text = "No work due so far is missing"
    return text + _median(ctx, "missing_share", lambda m: _pct(_share_pct(m)))


def _score_std(v: float, f: Row, ctx: Row) -> str:
    spread = _rint(v)
    if spread == 0:
        text = "Scores are about the same on every assessment"
    else:
        text = f"Scores vary by about {_count(spread, 'point')} from one assessment to the next"
    return text + _median(ctx, "score_std", lambda m: _count(_rint(m), "point"))


def _mean_days_early(v: float, f: Row, ctx: Row) -> str:
    d = _rint(v)
    when = (
        f"{_count(abs(d), 'day')} {'before' if d > 0 else 'after'} the deadline"
        if d
        else "on the deadline day"
    )
    return f"Hands work in {when}, on average" + _median(ctx, "mean_days_early", lambda m: _timing(_rint(m)))


def _days_since_last(v: float, f: Row, ctx: Row) -> str:
    d = _rint(v)
    text = "Last hand-in was today" if d <= 0 else f"{_count(d, 'day')} since the last hand-in"
    return text + _median(ctx, "days_since_last_submission", lambda m: _count(_rint(m), "day"))


def _studied_credits(v: float, f: Row, ctx: Row) -> str:
    credits = _rint(v)
    notes = ["a heavy load"] if credits >= HEAVY_CREDIT_LOAD else []
    m = _num(ctx.get("studied_credits"))
    if m is not None:
        notes.append(f"class median: {_int(m)}")
    return f"Studying {credits:,} credits this term" + (f" ({'; '.join(notes)})" if notes else "")


def _education(v: float, f: Row, ctx: Row) -> str:
    level = _EDUCATION.get(_rint(v))
    return f"Prior education: {level}" if level else _generic("highest_education_level", v, ctx)


def _mapped(name: str, label: str, words: dict[int, str], *, scale: bool = False) -> _Describer:
    """A coded answer (1–4 or 1–5) said in words; out-of-range codes fall back to the number."""

    def describe(v: float, f: Row, ctx: Row) -> str:
        word = words.get(_rint(v))
        if word is None:
            return _generic(name, v, ctx)
        if scale:
            return f"{label}: {word} ({_rint(v)} on a 1–5 scale)" + _median(ctx, name)
        m = _num(ctx.get(name))
        m_word = None if m is None else words.get(_rint(m))
        return f"{label}: {word}" + (f" (class median: {m_word})" if m_word else "")

    return describe


def _yes_no(name: str) -> _Describer:
    yes, no = _YES_NO[name]
    return lambda v, f, ctx: yes if v >= 0.5 else no


# name -> (text when 0, text otherwise, noun counted)
_COUNTS: dict[str, tuple[str, str, str]] = {
    "n_due": ("No assessments due yet", "{n} {noun} due so far", "assessment"),
    "n_excused": ("No assessments excused", "{n} {noun} excused", "assessment"),
    "n_late": ("No work handed in late", "Handed in {n} {noun} late", "assessment"),
    "num_prev_attempts": ("First attempt at this course", "{n} previous {noun} at this course", "attempt"),
    "pre_course_clicks": (
        "No online activity before the course started",
        "{n} {noun} online before the course started",
        "click",
    ),
    "clicks_total": ("No online activity so far", "{n} {noun} online so far", "click"),
    "clicks_last_14d": (
        "No online activity in the last 14 days",
        "{n} {noun} online in the last 14 days",
        "click",
    ),
    "active_days": ("No days with online activity so far", "Active online on {n} {noun} so far", "day"),
    "absences": ("No absences so far", "{n} {noun} so far", "absence"),
    "failures": ("No past class failures", "{n} past class {noun}", "failure"),
}
# name -> (text when it rounds to 0, text when below 0, text when above 0, noun counted)
_SIGNED: dict[str, tuple[str, str, str, str]] = {
    "score_trend": (
        "Scores are steady from one assessment to the next",
        "Scores are falling: about {n} {noun} lower with each assessment",
        "Scores are rising: about {n} {noun} higher with each assessment",
        "point",
    ),
    "score_vs_class": (
        "Average score in line with the class median",
        "Average score {n} {noun} below the class median",
        "Average score {n} {noun} above the class median",
        "point",
    ),
    "missing_vs_class": (
        "About as much missing work as is typical in the class",
        "{n} fewer missing {noun} than is typical in the class",
        "{n} more missing {noun} than is typical in the class",
        "assessment",
    ),
    "clicks_vs_class": (
        "About as much online activity as is typical in the class",
        "About {n} fewer {noun} online than is typical in the class",
        "About {n} more {noun} online than is typical in the class",
        "click",
    ),
    "registration_day": (
        "Registered on the day the course started",
        "Registered {n} {noun} before the course started",
        "Registered {n} {noun} after the course started",
        "day",
    ),
}
_PERCENTS: dict[str, str] = {
    "score_mean": "Average score {p}",
    "score_min": "Lowest score {p}",
    "score_last": "Most recent score {p}",
    "weighted_score": "Weighted score so far {p}, counting missing work as 0",
}


def _percent(name: str) -> _Describer:
    return lambda v, f, ctx: _PERCENTS[name].format(p=_pct(v)) + _median(ctx, name, _pct)


_DESCRIBERS: dict[str, _Describer] = {
    "as_of_day": _as_of_day,
    "n_submitted": _n_submitted,
    "n_missing": _n_missing,
    "missing_share": _missing_share,
    "score_std": _score_std,
    "mean_days_early": _mean_days_early,
    "days_since_last_submission": _days_since_last,
    "studied_credits": _studied_credits,
    "highest_education_level": _education,
    "G1": lambda v, f, ctx: f"First-period grade {_int(v)} of 20" + _median(ctx, "G1"),
    "studytime": _mapped("studytime", "Weekly study time", _STUDYTIME),
    "traveltime": _mapped("traveltime", "Travel time to school", _TRAVELTIME),
    **{name: _counted(name, *spec) for name, spec in _COUNTS.items()},
    **{name: _signed(*spec) for name, spec in _SIGNED.items()},
    **{name: _percent(name) for name in _PERCENTS},
    **{name: _mapped(name, label, words, scale=True) for name, (label, words) in _SCALES.items()},
    **{name: _yes_no(name) for name in _YES_NO},
}

# What to say when the value itself is missing (NaN or None); others fall back to "<label> not known".
_WHEN_MISSING: dict[str, str] = {
    "score_mean": "No scored work yet",
    "score_min": "No scored work yet",
    "score_last": "No scored work yet",
    "score_std": "Not enough scored work yet to see how steady scores are",
    "score_trend": "Not enough scored work yet to see a trend",
    "score_vs_class": "No scored work yet to compare with the class",
    "weighted_score": "No weighted work due yet",
    "missing_share": "No work due yet",
    "mean_days_early": "No dated hand-ins yet",
    "days_since_last_submission": "Nothing handed in yet",
    "registration_day": "Registration date not known",
    "pre_course_clicks": "Online activity before the course started not known",
    "highest_education_level": "Prior education not known",
    "G1": "First-period grade not known",
    "studytime": "Weekly study time not known",
    "traveltime": "Travel time to school not known",
    "higher": "Plans for higher education not known",
    **{name: f"{label} not known" for name, (label, _) in _SCALES.items()},
}


def describe_factor(
    feature: str,
    value: float | None,
    *,
    features: Mapping[str, float | None],
    class_context: Mapping[str, float | None],
) -> str:
    """Say what one feature value means for this student, in a plain sentence without a full stop.

    Args:
        feature: the feature's name, as in ``FEATURES`` or ``K12_FEATURES``.
        value: the student's value; ``None`` or NaN when unknown.
        features: the student's whole feature row, for sentences that need another feature
            (``n_missing`` is said as a share of ``n_due``).
        class_context: feature name → the class median; missing or NaN entries are left out.

    Returns:
        A sentence such as ``"3 of the 5 assessments due so far are missing (class median: 0)"``.
        An unknown feature gets its catalogue label (or its name) and its value.

    Raises:
        ValueError: if ``feature`` is a student-group attribute, which is never a reason.
    """
    if feature in PROTECTED_FEATURES:
        raise ValueError(f"{feature!r} is a student-group attribute and is never given as a reason")
    v = _num(value)
    if v is None:
        return _WHEN_MISSING.get(feature) or _generic(feature, None, class_context)
    describer = _DESCRIBERS.get(feature)
    if describer is None:
        return _generic(feature, v, class_context)
    return describer(v, features, class_context)


def is_changeable(feature: str) -> bool:
    """Whether staff or the student can still move ``feature``; unknown features count as context."""
    info = _info(feature)
    return bool(info and info.changeable)


def _factors(picked: list[tuple[str, float]], features: Row, class_context: Row) -> list[Factor]:
    out: list[Factor] = []
    # Stable sort: changeable first, keeping the |contribution| order within each kind.
    for name, contribution in sorted(picked, key=lambda item: not is_changeable(item[0])):
        changeable = is_changeable(name)
        out.append(
            {
                "feature": name,
                "sentence": describe_factor(
                    name, features.get(name), features=features, class_context=class_context
                ),
                "contribution": round(contribution, 4),
                "changeable": changeable,
                "kind": "changeable" if changeable else "context",
            }
        )
    return out


def explain_prediction(
    contributions: Mapping[str, float],
    features: Mapping[str, float | None],
    class_context: Mapping[str, float | None],
    *,
    top_n: int = 3,
) -> dict[str, list[Factor]]:
    """Turn one prediction's TreeSHAP contributions into its top risk and protective factors.

    The ``top_n`` largest positive contributions (by size) become risk factors and the ``top_n``
    largest negative ones protective factors; within each list changeable reasons come before
    context. ``as_of_day`` (not a reason), a baseline term and student-group attributes are skipped.
    Ties are broken by feature name, so the result is deterministic.

    Args:
        contributions: feature name → contribution to the risk (positive raises it).
        features: the student's feature row.
        class_context: feature name → class median (may be missing or NaN).
        top_n: how many factors at most in each list.

    Returns:
        ``{"risk_factors": [...], "protective_factors": [...]}``; each item has ``feature``,
        ``sentence``, ``contribution`` (rounded to 4 places), ``changeable`` and ``kind``
        (``"changeable"`` or ``"context"``).
    """
    usable: list[tuple[str, float]] = []
    for name, raw in contributions.items():
        c = _num(raw)
        if c is None or c == 0 or name in NOT_REASONS or name in PROTECTED_FEATURES:
            continue
        usable.append((name, c))
    usable.sort(key=lambda item: (-abs(item[1]), item[0]))
    n = max(top_n, 0)
    risks = [item for item in usable if item[1] > 0][:n]
    protective = [item for item in usable if item[1] < 0][:n]
    return {
        "risk_factors": _factors(risks, features, class_context),
        "protective_factors": _factors(protective, features, class_context),
    }


def plain_probability(p: float) -> str:
    """Say a calibrated probability of not passing as "About N in 10 students …".

    Args:
        p: probability between 0 and 1.

    Returns:
        For example ``"About 7 in 10 students with a record like this did not pass."``; below 0.05
        ``"Fewer than 1 in 10 …"`` and from 0.95 ``"More than 9 in 10 …"``.

    Raises:
        ValueError: if ``p`` is NaN or outside 0–1.
    """
    if math.isnan(p) or not 0 <= p <= 1:
        raise ValueError(f"probability must be between 0 and 1, got {p!r}")
    tail = "students with a record like this did not pass."
    if p < 0.05:
        return f"Fewer than 1 in 10 {tail}"
    if p >= 0.95:
        return f"More than 9 in 10 {tail}"
    return f"About {math.floor(p * 10 + 0.5)} in 10 {tail}"
