"""Geometry for the inline SVG charts. Pure functions: numbers in, shapes out; templates draw them.

Every chart is drawn next to a table with the same numbers, so a screen-reader user (and anyone
printing in black and white) gets the data without the picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

HISTOGRAM_BUCKETS = 10


@dataclass(frozen=True)
class Bar:
    """One bar: position and size in SVG user units, and its label and value text."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    level: str


@dataclass(frozen=True)
class Point:
    """One point of a line chart."""

    x: float
    y: float
    label: str
    value: str
    level: str


def level_of_bucket(start: float, *, high: float, medium: float) -> str:
    """The risk level of a histogram bucket that starts at ``start`` (for its colour and pattern)."""
    return "high" if start >= high - 1e-9 else "medium" if start >= medium - 1e-9 else "low"


def histogram(probabilities: Sequence[float], *, buckets: int = HISTOGRAM_BUCKETS) -> list[dict[str, Any]]:
    """Count probabilities into ``buckets`` equal buckets ``[from, to)`` (1.0 falls in the last)."""
    counts = [0] * buckets
    for p in probabilities:
        counts[min(int(p * buckets), buckets - 1)] += 1
    return [{"from": i / buckets, "to": (i + 1) / buckets, "count": n} for i, n in enumerate(counts)]


def histogram_bars(
    buckets: Sequence[dict[str, Any]],
    *,
    high: float,
    medium: float,
    width: float = 600,
    height: float = 200,
) -> list[Bar]:
    """Vertical bars for a risk histogram, tallest bar filling ``height``."""
    if not buckets:
        return []
    top = max(b["count"] for b in buckets) or 1
    slot = width / len(buckets)
    bars = []
    for i, b in enumerate(buckets):
        h = height * b["count"] / top
        bars.append(
            Bar(
                x=round(i * slot + 4, 1),
                y=round(height - h, 1),
                width=round(slot - 8, 1),
                height=round(h, 1),
                label=f"{round(b['from'] * 100)}–{round(b['to'] * 100)} %",
                value=str(b["count"]),
                level=level_of_bucket(b["from"], high=high, medium=medium),
            )
        )
    return bars


CONTRIBUTION_CENTRE = 560.0  # x of the zero line; labels sit to the left of the bars
CONTRIBUTION_HALF = 150.0
LABEL_CHARS = 52


def short_label(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def contribution_bars(factors: Sequence[dict[str, Any]], *, row: float = 28) -> list[Bar]:
    """Horizontal bars for factor contributions around a zero line: risk right, protective left.

    ``x``/``width`` place the bar; ``y`` is the row's top. Contributions are in the model's log-odds
    units, so only their relative size is shown.
    """
    items = [f for f in factors if f.get("contribution") is not None]
    if not items:
        return []
    top = max(abs(float(f["contribution"])) for f in items) or 1.0
    half, centre = CONTRIBUTION_HALF, CONTRIBUTION_CENTRE
    bars = []
    for i, f in enumerate(items):
        c = float(f["contribution"])
        w = max(half * abs(c) / top, 2.0)
        bars.append(
            Bar(
                x=round(centre if c >= 0 else centre - w, 1),
                y=round(i * row, 1),
                width=round(w, 1),
                height=round(row - 8, 1),
                label=str(f.get("sentence", f.get("feature", ""))),
                value=f"{c:+.2f}",
                level="high" if c >= 0 else "low",
            )
        )
    return bars


def _x_positions(times: Sequence[datetime | None], width: float, pad: float) -> list[float]:
    known = [t for t in times if t is not None]
    if len(known) < 2 or max(known) == min(known):
        if len(times) == 1:
            return [width / 2]
        step = (width - 2 * pad) / max(len(times) - 1, 1)
        return [pad + i * step for i in range(len(times))]
    lo, hi = min(known), max(known)
    span = (hi - lo).total_seconds()
    return [pad + (width - 2 * pad) * ((t or lo) - lo).total_seconds() / span for t in times]


def risk_line(
    history: Sequence[dict[str, Any]],
    *,
    width: float = 600,
    height: float = 200,
    pad: float = 24,
) -> list[Point]:
    """Points of the risk-over-time line: x by scoring order, y = probability (0 % at the bottom).

    Scorings are spaced evenly (uploads come at irregular times; the order is what a reader needs).
    """
    if not history:
        return []
    xs = _x_positions([None] * len(history), width, pad)
    return [
        Point(
            x=round(x, 1),
            y=round(pad + (height - 2 * pad) * (1 - float(h["probability"])), 1),
            label=f"day {h['as_of_day']}" if h.get("as_of_day") is not None else f"scoring {i + 1}",
            value=f"{round(float(h['probability']) * 100)} %",
            level=str(h.get("risk_level", "")),
        )
        for i, (x, h) in enumerate(zip(xs, history, strict=True))
    ]


def polyline(points: Sequence[Point]) -> str:
    """The ``points`` attribute of an SVG polyline."""
    return " ".join(f"{p.x},{p.y}" for p in points)


def threshold_y(probability: float, *, height: float = 200, pad: float = 24) -> float:
    """The y of a horizontal guide line at ``probability`` on the risk-over-time chart."""
    return round(pad + (height - 2 * pad) * (1 - probability), 1)


def marker_x(
    at: datetime, history: Sequence[dict[str, Any]], *, width: float = 600, pad: float = 24
) -> float | None:
    """Where an event at ``at`` (an intervention) falls between the scorings, or ``None`` if outside."""
    raw = [h.get("scored_at") for h in history]
    times = [t for t in raw if isinstance(t, datetime)]
    if not history or len(times) != len(raw):
        return None
    xs = _x_positions([None] * len(history), width, pad)
    if len(history) == 1:
        return None
    for i in range(len(times) - 1):
        a, b = times[i], times[i + 1]
        if a <= at <= b:
            frac = 0.5 if b == a else (at - a).total_seconds() / (b - a).total_seconds()
            return round(xs[i] + (xs[i + 1] - xs[i]) * frac, 1)
    return round(xs[-1], 1) if at >= times[-1] else None
