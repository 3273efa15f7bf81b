"""How numbers, dates and risk levels are written for people (Jinja filters and globals)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from student_success.services.feedback import VERDICT_WORDS

LEVEL_WORDS: dict[str, str] = {
    "high": "Needs support now",
    "medium": "Keep an eye on",
    "low": "On track",
}
# A glyph beside the colour, so the level never rests on colour alone.
LEVEL_ICONS: dict[str, str] = {"high": "!", "medium": "~", "low": "✓"}
STATUS_WORDS: dict[str, str] = {
    "planned": "Planned",
    "in_progress": "In progress",
    "completed": "Completed",
    "cancelled": "Cancelled",
}
# Verbs for the buttons that move a plan to a status.
STATUS_ACTIONS: dict[str, str] = {
    "in_progress": "Start",
    "completed": "Mark completed",
    "cancelled": "Cancel plan",
}
VARIANT_WORDS: dict[str, str] = {
    "gradebook": "gradebook only",
    "gradebook_activity": "gradebook and activity",
    "full": "full record",
    "full_activity": "full record with activity",
    "k12": "K-12 record",
    "summary": "summary columns",
}


def percent(value: float | None) -> str:
    """``0.7243`` → ``"72 %"`` (a whole percent: more digits suggest a precision the model lacks)."""
    if value is None:
        return "–"
    return f"{round(value * 100):d} %"


def level_word(level: str | None) -> str:
    """``"high"`` → ``"Needs support now"``."""
    return LEVEL_WORDS.get(level or "", "Not scored")


def level_icon(level: str | None) -> str:
    """The glyph shown beside a level's colour."""
    return LEVEL_ICONS.get(level or "", "?")


def status_word(status: str | None) -> str:
    """``"in_progress"`` → ``"In progress"``."""
    return STATUS_WORDS.get(status or "", (status or "").replace("_", " ").capitalize())


def variant_word(name: str | None) -> str:
    """A model variant's name in words, with its key: ``"gradebook only (gradebook)"``."""
    if not name:
        return "no model"
    words = VARIANT_WORDS.get(name)
    return f"{words} ({name})" if words else name


def school_date(value: date | datetime | str | None) -> str:
    """A date as a school writes it: ``"28 Nov 2026"``."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            parsed: date = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        parsed = value
    return f"{parsed.day} {parsed:%b %Y}"


def student_name(row: Any) -> str:
    """A student's display name, or their id when the file had no name."""
    get = row.get if isinstance(row, dict) else lambda k, d=None: getattr(row, k, d)
    name = get("display_name") or get("student_name")
    return str(name or get("external_id") or get("student_external_id") or "Unnamed student")


def number(value: float | int | None, digits: int = 2) -> str:
    """A plain number for tables (``0.1234`` → ``"0.12"``)."""
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def verdict_word(verdict: str | None) -> str:
    """A flag-feedback verdict as staff say it ("Incorrectly flagged")."""
    return VERDICT_WORDS.get(verdict or "", verdict or "–")


FILTERS = {
    "percent": percent,
    "level_word": level_word,
    "level_icon": level_icon,
    "status_word": status_word,
    "variant_word": variant_word,
    "school_date": school_date,
    "student_name": student_name,
    "number": number,
    "verdict_word": verdict_word,
}
