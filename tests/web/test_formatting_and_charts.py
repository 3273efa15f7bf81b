"""How the pages write numbers and levels, and the chart geometry (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from student_success.web import charts
from student_success.web.formatting import (
    level_icon,
    level_word,
    percent,
    school_date,
    status_word,
    variant_word,
)


def test_percent_is_a_whole_number_with_a_spaced_sign() -> None:
    assert percent(0.7243) == "72 %"
    assert percent(0.725) == "72 %"  # round half to even: 72.5 → 72
    assert percent(1.0) == "100 %"
    assert percent(0.0) == "0 %"
    assert percent(None) == "–"


def test_levels_are_words_of_support_with_an_icon() -> None:
    assert [level_word(x) for x in ("high", "medium", "low")] == [
        "Needs support now",
        "Keep an eye on",
        "On track",
    ]
    assert [level_icon(x) for x in ("high", "medium", "low")] == ["!", "~", "✓"]
    assert level_word(None) == "Not scored"


def test_dates_statuses_and_variants_read_as_people_write_them() -> None:
    assert school_date(date(2026, 3, 5)) == "5 Mar 2026"
    assert school_date(datetime(2026, 11, 28, 20, 0, tzinfo=UTC)) == "28 Nov 2026"
    assert school_date("2026-01-09") == "9 Jan 2026"
    assert school_date(None) == "–"
    assert status_word("in_progress") == "In progress"
    assert variant_word("gradebook") == "gradebook only (gradebook)"
    assert variant_word("new_one") == "new_one"


def test_histogram_counts_into_ten_buckets_and_puts_one_in_the_last() -> None:
    buckets = charts.histogram([0.0, 0.05, 0.1, 0.95, 1.0, 0.61])
    assert [b["count"] for b in buckets] == [2, 1, 0, 0, 0, 0, 1, 0, 0, 2]
    assert buckets[0]["from"] == 0.0 and buckets[9]["to"] == 1.0


def test_histogram_bars_scale_to_the_tallest_and_take_the_level_of_their_start() -> None:
    buckets = [{"from": 0.3, "to": 0.4, "count": 2}, {"from": 0.6, "to": 0.7, "count": 4}]
    low, high = charts.histogram_bars(buckets, high=0.6, medium=0.35, width=200, height=100)
    assert (low.height, low.y, low.level, low.label, low.value) == (50.0, 50.0, "low", "30–40 %", "2")
    assert (high.height, high.y, high.level, high.x, high.width) == (100.0, 0.0, "high", 104.0, 92.0)


def test_contribution_bars_grow_right_for_risk_and_left_for_protection() -> None:
    bars = charts.contribution_bars(
        [{"sentence": "a", "contribution": 1.0}, {"sentence": "b", "contribution": -0.5}]
    )
    centre, half = charts.CONTRIBUTION_CENTRE, charts.CONTRIBUTION_HALF
    assert (bars[0].x, bars[0].width, bars[0].level, bars[0].value) == (centre, half, "high", "+1.00")
    assert (bars[1].x, bars[1].width, bars[1].level, bars[1].value) == (
        centre - half / 2,
        half / 2,
        "low",
        "-0.50",
    )
    assert bars[1].y == 28.0


def test_short_labels_are_cut_at_a_word() -> None:
    assert charts.short_label("short") == "short"
    assert charts.short_label("one two three four", limit=10) == "one two…"


def test_risk_line_puts_zero_at_the_bottom_and_spaces_scorings_evenly() -> None:
    history = [
        {"probability": 0.5, "as_of_day": 30, "risk_level": "medium"},
        {"probability": 1.0, "as_of_day": 60, "risk_level": "high"},
        {"probability": 0.0, "as_of_day": None, "risk_level": "low"},
    ]
    points = charts.risk_line(history, width=600, height=200, pad=24)
    assert [(p.x, p.y) for p in points] == [(24.0, 100.0), (300.0, 24.0), (576.0, 176.0)]
    assert [p.label for p in points] == ["day 30", "day 60", "scoring 3"]
    assert [p.value for p in points] == ["50 %", "100 %", "0 %"]
    assert charts.polyline(points[:2]) == "24.0,100.0 300.0,24.0"


def test_intervention_markers_fall_between_the_scorings_around_them() -> None:
    t = [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 11)]
    history = [{"scored_at": t[0], "probability": 0.5}, {"scored_at": t[1], "probability": 0.4}]
    assert charts.marker_x(datetime(2026, 1, 6, tzinfo=UTC), history) == 300.0
    assert charts.marker_x(datetime(2025, 12, 1, tzinfo=UTC), history) is None
    assert charts.marker_x(datetime(2026, 2, 1, tzinfo=UTC), history) == 576.0
    assert charts.marker_x(t[0], history[:1]) is None
