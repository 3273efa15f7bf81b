"""Defensive CSV reading shared by the file adapters.

Every cell is read as a string; nothing is guessed by a CSV engine. The reader keeps the physical
line of every row (the header is line 1 when the file starts with it) so that each problem can be
reported as a :class:`~student_success.errors.RowError` a person can act on.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from student_success.errors import RowError, ValidationFailed

log = logging.getLogger(__name__)

DELIMITERS: tuple[str, ...] = (",", ";", "\t")
# Characters that suggest the file uses a separator we do not read.
WRONG_DELIMITERS: tuple[str, ...] = ("|", "^", "~")
_SNIFF_CHARS = 64 * 1024
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

Source = Path | str | bytes


@dataclass(frozen=True)
class CsvLimits:
    """Upper bounds that protect the service from huge or hostile uploads."""

    max_bytes: int = 200 * 1024 * 1024
    max_rows: int = 2_000_000
    max_columns: int = 2_000


DEFAULT_LIMITS = CsvLimits()


@dataclass
class CsvTable:
    """A CSV file read as strings.

    Attributes:
        file: the file name used in error messages.
        header: the header cells, stripped of surrounding whitespace.
        rows: the data rows, each padded with ``""`` to the header's width.
        lines: the physical 1-based line on which each data row starts.
        header_line: the physical line of the header.
        delimiter: the delimiter found (``,``, ``;`` or tab).
        encoding: ``utf-8``, ``utf-8-sig``, ``utf-16``, ``cp1252`` or ``latin-1``.
        notes: remarks a person may want to see (e.g. that the file was not UTF-8).
    """

    file: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    header_line: int
    delimiter: str
    encoding: str
    notes: list[str] = field(default_factory=list)
    _positions: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for position, name in enumerate(self.header):
            self._positions.setdefault(name, position)

    @property
    def decimal_comma(self) -> bool:
        """Whether ``"85,5"`` may mean 85.5 (only when the delimiter is not a comma)."""
        return self.delimiter != ","

    def index(self, column: str) -> int:
        """The position of ``column`` in the header (exact match); ``KeyError`` when absent."""
        return self._positions[column]

    def cell(self, row: int, column: str | None) -> str:
        """The stripped text of a cell; ``""`` when ``column`` is ``None``."""
        return self.rows[row][self._positions[column]].strip() if column is not None else ""

    def duplicate(self, row: int, column: str | None, what: str, first_line: int, value: str) -> RowError:
        """The error for a row repeating ``what`` first seen on ``first_line``."""
        return self.error(row, column, f"duplicate {what}: also on line {first_line}", value)

    def error(self, row: int | None, column: str | None, message: str, value: str | None = None) -> RowError:
        """A :class:`RowError` located at data row ``row`` (``None``: the whole file)."""
        line = None if row is None else self.lines[row]
        return RowError(self.file, line, column, message, value)


def fail(file: str, message: str, *, column: str | None = None, value: str | None = None) -> ValidationFailed:
    """A :class:`ValidationFailed` with one file-level error (no line)."""
    return ValidationFailed([RowError(file, None, column, message, value)])


def source_name(source: Source, filename: str | None) -> str:
    """The name to show in messages: ``filename``, else the path's name, else ``"upload.csv"``."""
    if filename:
        return filename
    if isinstance(source, Path | str):
        return Path(source).name
    return "upload.csv"


def read_bytes(source: Source, *, file: str, max_bytes: int) -> bytes:
    """Read a file (or take the given bytes), refusing more than ``max_bytes``.

    Args:
        source: a path, or the file's content as bytes.
        file: the name used in error messages.
        max_bytes: the largest accepted size.

    Raises:
        ValidationFailed: the file is missing, unreadable or too large.
    """
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        try:
            with path.open("rb") as fh:
                data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise fail(file, f"cannot read the file: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise fail(file, f"the file is larger than the limit of {max_bytes:,} bytes")
    return data


def decode(data: bytes, *, file: str) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252/Latin-1.

    Returns:
        ``(text, encoding)``; a warning is logged when the file was not UTF-8.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:
        pass
    for fallback in ("cp1252", "latin-1"):
        try:
            text = data.decode(fallback)
        except UnicodeDecodeError:
            continue
        log.warning("%s is not UTF-8; read it as %s", file, fallback)
        return text, fallback
    raise AssertionError("latin-1 decodes every byte string")  # pragma: no cover


def _sample_rows(text: str, delimiter: str) -> list[list[str]]:
    sample = text[:_SNIFF_CHARS]
    try:
        rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
    except csv.Error:
        return []
    if len(text) > _SNIFF_CHARS and rows:
        rows = rows[:-1]  # the last sampled row may be cut
    return rows


def sniff_delimiter(text: str, *, file: str) -> str:
    """Choose ``,``, ``;`` or tab: the one giving the widest header whose rows agree with it.

    Raises:
        ValidationFailed: the header is a single column containing another separator.
    """
    best, best_key = ",", (False, -1, 0)
    for delimiter in DELIMITERS:
        rows = _sample_rows(text, delimiter)
        if not rows:
            continue
        width = len(rows[0])
        agreeing = sum(len(r) == width for r in rows[1:])
        key = (width > 1, agreeing, width)
        if key > best_key:
            best, best_key = delimiter, key
    if best_key[2] <= 1:
        rows = _sample_rows(text, best)
        head = rows[0][0] if rows else ""
        found = [c for c in WRONG_DELIMITERS if c in head]
        if found:
            raise fail(
                file,
                f"wrong delimiter: the header is one column containing {found[0]!r}; "
                "save the file with comma, semicolon or tab separators",
                value=head[:80],
            )
    return best


def _numbered_rows(text: str, delimiter: str, *, file: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ValidationFailed(
                [RowError(file, reader.line_num or start, None, f"unreadable CSV: {exc}")]
            ) from exc
        yield start, row
        start = reader.line_num + 1


def _check_width(row: list[str], width: int, line: int, file: str) -> RowError | None:
    extra = [c for c in row[width:] if c.strip()]
    if extra:
        return RowError(
            file, line, None, f"this row has {len(row)} cells but the header has {width}", extra[0]
        )
    return None


def read_csv_table(
    source: Source, *, filename: str | None = None, limits: CsvLimits = DEFAULT_LIMITS
) -> CsvTable:
    """Read a CSV defensively: size limit, encoding, delimiter, every cell as a string.

    Blank lines are skipped. Rows shorter than the header are padded with ``""``; rows with extra
    non-empty cells are errors.

    Args:
        source: a path, or the file's content as bytes.
        filename: the name to use in messages (default: the path's name).
        limits: size, row and column limits.

    Returns:
        The table, with the physical line of every row.

    Raises:
        ValidationFailed: the file is empty, too large, badly delimited or malformed.
    """
    file = source_name(source, filename)
    text, encoding = decode(read_bytes(source, file=file, max_bytes=limits.max_bytes), file=file)
    notes = [] if encoding.startswith(("utf-8", "utf-16")) else [f"the file is not UTF-8; read as {encoding}"]
    delimiter = sniff_delimiter(text, file=file)
    header, header_line, rows, lines = _collect(text, delimiter, file=file, limits=limits)
    return CsvTable(file, header, rows, lines, header_line, delimiter, encoding, notes)


def _collect(
    text: str, delimiter: str, *, file: str, limits: CsvLimits
) -> tuple[list[str], int, list[list[str]], list[int]]:
    header: list[str] | None = None
    header_line = 1
    rows: list[list[str]] = []
    lines: list[int] = []
    errors: list[RowError] = []
    for line, row in _numbered_rows(text, delimiter, file=file):
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header, header_line = [c.strip().lstrip("\ufeff").strip() for c in row], line
            if len(header) > limits.max_columns:
                raise fail(file, f"the file has {len(header)} columns; the limit is {limits.max_columns}")
            continue
        if len(rows) >= limits.max_rows:
            raise fail(file, f"the file has more than {limits.max_rows:,} rows (the limit)")
        problem = _check_width(row, len(header), line, file)
        if problem:
            errors.append(problem)
        rows.append((row + [""] * len(header))[: len(header)])
        lines.append(line)
    if header is None:
        raise fail(file, "the file is empty")
    if errors:
        raise ValidationFailed(errors)
    return header, header_line, rows, lines


def parse_number(text: str, *, decimal_comma: bool = False, allow_percent: bool = False) -> float | None:
    """Parse a number as people write it in spreadsheets.

    Args:
        text: the cell.
        decimal_comma: accept ``"85,5"`` as 85.5 (one comma, no dot).
        allow_percent: accept a trailing ``%`` (the number is returned unchanged: ``"85%"`` → 85.0).

    Returns:
        The number, or ``None`` for an empty cell.

    Raises:
        ValueError: the cell is not a finite number.
    """
    s = text.strip().replace("\u00a0", "").replace(" ", "")
    if not s:
        return None
    if allow_percent and s.endswith("%"):
        s = s[:-1]
    if decimal_comma and s.count(",") == 1 and "." not in s:
        s = s.replace(",", ".")
    if not _NUMBER.fullmatch(s):
        raise ValueError(text)
    return float(s)


def number_cell(
    table: CsvTable,
    row: int,
    column: str,
    errors: list[RowError],
    *,
    allow_percent: bool = False,
    low: float = -math.inf,
    high: float = math.inf,
) -> float | None:
    """Parse ``table.rows[row][column]`` as a number in ``[low, high]``; else append a RowError.

    Returns:
        The number, or ``None`` when the cell is empty or invalid (then an error was appended).
    """
    value = table.rows[row][table.index(column)]
    try:
        number = parse_number(value, decimal_comma=table.decimal_comma, allow_percent=allow_percent)
    except ValueError:
        errors.append(table.error(row, column, "expected a number", value))
        return None
    if number is not None and not low <= number <= high:
        shown = f"{low:g} to {high:g}" if high < math.inf else f"{low:g} or more"
        errors.append(table.error(row, column, f"out of range: expected {shown}", value))
        return None
    return number


def normalize_header(name: str) -> str:
    """Key ignoring case, spaces, underscores, hyphens and dots: ``"Student ID"`` → ``studentid``."""
    return re.sub(r"[\s_\-.]+", "", name.strip().lstrip("\ufeff")).casefold()


def find_column(header: Iterable[str], synonyms: Iterable[str]) -> str | None:
    """The first header matching one of ``synonyms`` (in the synonyms' order of preference)."""
    by_key: dict[str, str] = {}
    for name in header:
        by_key.setdefault(normalize_header(name), name)
    for synonym in synonyms:
        found = by_key.get(normalize_header(synonym))
        if found is not None:
            return found
    return None


def raise_if(errors: list[RowError]) -> None:
    """Raise one :class:`ValidationFailed` carrying every collected error, if there are any."""
    if errors:
        raise ValidationFailed(list(errors))
