"""CSV cells that are safe to open in a spreadsheet (no CSV/formula injection)."""

from __future__ import annotations

# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def neutralise_text(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
