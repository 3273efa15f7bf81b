"""Domain exceptions. Each surface maps them once (HTTP status, CLI exit code)."""

from __future__ import annotations

from dataclasses import dataclass, field


class StudentSuccessError(Exception):
    """Base class of every error the library raises on purpose."""


class NotFound(StudentSuccessError):
    """A requested object does not exist (HTTP 404)."""


class Conflict(StudentSuccessError):
    """The request conflicts with the current state (HTTP 409)."""


class ModelError(StudentSuccessError):
    """A model artifact is missing, corrupt or does not fit the data."""


class ModelIntegrityError(ModelError):
    """A model file's SHA-256 does not match its metadata."""


@dataclass(frozen=True)
class RowError:
    """One problem in an input file, located precisely enough for a person to fix it.

    ``line`` is the 1-based physical line of the file (the header is line 1); ``None`` when the
    problem concerns the whole file (a missing column, a wrong delimiter).
    """

    file: str
    line: int | None
    column: str | None
    message: str
    value: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column is not None:
            where += f", column '{self.column}'"
        text = f"{where}: {self.message}"
        if self.value is not None:
            text += f" (found {self.value!r})"
        return text


@dataclass
class ValidationFailed(StudentSuccessError):
    """An input could not be read; ``errors`` lists every bad row found (HTTP 422, CLI exit 1)."""

    errors: list[RowError] = field(default_factory=list)

    @classmethod
    def single(cls, message: str, *, file: str = "input", column: str | None = None) -> ValidationFailed:
        """A failure with one whole-input problem."""
        return cls([RowError(file, None, column, message)])

    def __str__(self) -> str:
        head = f"{len(self.errors)} problem(s) in the input"
        shown = "\n".join(f"  - {e}" for e in self.errors[:20])
        more = f"\n  … and {len(self.errors) - 20} more" if len(self.errors) > 20 else ""
        return f"{head}:\n{shown}{more}"
