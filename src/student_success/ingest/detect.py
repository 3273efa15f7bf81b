"""Recognise an uploaded file's format and read it with the right adapter.

Formats: ``oulad`` (a folder or zip holding ``studentInfo.csv``), ``canvas`` (a Canvas gradebook
export), ``k12`` (UCI student performance shape) and ``generic`` (anything else with a student id).
Zip files are extracted defensively: no absolute paths, no ``..``, no links, bounded size and ratio.
"""

from __future__ import annotations

import io
import re
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from student_success.errors import RowError, ValidationFailed
from student_success.ingest.canonical import CanonicalData
from student_success.ingest.canvas import read_canvas_export
from student_success.ingest.csvfile import CsvTable, fail, normalize_header, read_csv_table, source_name
from student_success.ingest.generic import read_generic_csv
from student_success.ingest.k12 import read_k12_csv

FORMATS: tuple[str, ...] = ("oulad", "canvas", "k12", "generic")
OULAD_MARKER = "studentInfo.csv"
MAX_UNZIPPED_BYTES = 2 * 1024**3
MAX_ZIP_RATIO = 200
MAX_ZIP_MEMBERS = 10_000
_RATIO_FLOOR = 1024 * 1024  # below this many bytes, a high ratio is harmless
_HEAD_BYTES = 256 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_ASSIGNMENT_HEADER = re.compile(r".*\(\d+\)")

Source = Path | str | bytes


def _is_zip(source: Source) -> bool:
    if isinstance(source, bytes):
        return source.startswith(_ZIP_MAGIC)
    path = Path(source)
    if not path.is_file():
        return False
    with path.open("rb") as fh:
        return fh.read(4) == _ZIP_MAGIC


def _zip_source(source: Source) -> Path | io.BytesIO:
    return io.BytesIO(source) if isinstance(source, bytes) else Path(source)


def _zip_names(source: Source, file: str) -> list[str]:
    try:
        with zipfile.ZipFile(_zip_source(source)) as zf:
            return zf.namelist()
    except zipfile.BadZipFile as exc:
        raise fail(file, "not a valid zip file") from exc


def _head(source: Source, file: str) -> CsvTable:
    """The header and first rows, read from at most 256 KiB."""
    if isinstance(source, bytes):
        data = source[:_HEAD_BYTES]
    else:
        try:
            with Path(source).open("rb") as fh:
                data = fh.read(_HEAD_BYTES)
        except OSError as exc:
            raise fail(file, f"cannot read the file: {exc.strerror or exc}") from exc
    if len(data) == _HEAD_BYTES and b"\n" in data:
        data = data[: data.rindex(b"\n") + 1]
    return read_csv_table(data, filename=file)


def _looks_like_canvas(table: CsvTable) -> bool:
    keys = [normalize_header(h) for h in table.header]
    if not keys or keys[0] not in ("student", "lastname") or "id" not in keys:
        return False
    points_row = any(row[0].startswith(" ") and row[0].strip() for row in table.rows[:2])
    return points_row or any(_ASSIGNMENT_HEADER.fullmatch(h) for h in table.header)


def _looks_like_k12(table: CsvTable) -> bool:
    keys = {normalize_header(h) for h in table.header}
    return {"g1", "absences", "failures"} <= keys


def detect_format(path_or_bytes: Source, *, filename: str | None = None) -> str:
    """Which adapter reads this input.

    Args:
        path_or_bytes: a file or folder path, or a file's content.
        filename: the name used in messages.

    Returns:
        ``"oulad"``, ``"canvas"``, ``"k12"`` or ``"generic"``.

    Raises:
        ValidationFailed: a folder or zip without ``studentInfo.csv``, or an unreadable file.
    """
    file = source_name(path_or_bytes, filename)
    if not isinstance(path_or_bytes, bytes) and Path(path_or_bytes).is_dir():
        if _find_marker(Path(path_or_bytes)) is None:
            raise fail(file, f"the folder holds no {OULAD_MARKER} (an OULAD folder is expected)")
        return "oulad"
    if _is_zip(path_or_bytes):
        if not any(PurePosixPath(n).name == OULAD_MARKER for n in _zip_names(path_or_bytes, file)):
            raise fail(file, f"the zip holds no {OULAD_MARKER} (an OULAD zip is expected)")
        return "oulad"
    table = _head(path_or_bytes, file)
    if _looks_like_canvas(table):
        return "canvas"
    if _looks_like_k12(table):
        return "k12"
    return "generic"


def _find_marker(folder: Path) -> Path | None:
    """The shallowest folder under ``folder`` that holds ``studentInfo.csv``."""
    found = sorted(folder.rglob(OULAD_MARKER), key=lambda p: len(p.parts))
    return found[0].parent if found else None


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "absolute path"
    if ".." in PurePosixPath(name).parts:
        return "'..' in the path"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link"
    if info.file_size > _RATIO_FLOOR and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
        return f"compression ratio above {MAX_ZIP_RATIO}"
    return None


def _check_zip(infos: list[zipfile.ZipInfo], file: str) -> None:
    if len(infos) > MAX_ZIP_MEMBERS:
        raise fail(file, f"the zip has {len(infos):,} members; the limit is {MAX_ZIP_MEMBERS:,}")
    errors = [
        RowError(file, None, None, f"unsafe zip member: {problem}", info.filename)
        for info in infos
        if (problem := _member_problem(info)) is not None
    ]
    if errors:
        raise ValidationFailed(errors)
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise fail(file, f"the zip unpacks to {total:,} bytes; the limit is {MAX_UNZIPPED_BYTES:,}")
    if total > _RATIO_FLOOR and total > MAX_ZIP_RATIO * max(packed, 1):
        raise fail(
            file, f"the zip's compression ratio is above {MAX_ZIP_RATIO}: refusing a possible zip bomb"
        )


def safe_extract_zip(source: Source, dest: Path, *, filename: str | None = None) -> None:
    """Extract a zip into ``dest``, refusing unsafe members and oversized content.

    Rejected: absolute paths, ``..`` components, symbolic links, more than 2 GB unpacked, a
    compression ratio above 200, and members that unpack to more than they declare.

    Raises:
        ValidationFailed: the zip is invalid or unsafe.
    """
    file = filename or ("upload.zip" if isinstance(source, bytes) else Path(source).name)
    root = dest.resolve()
    try:
        with zipfile.ZipFile(_zip_source(source)) as zf:
            infos = zf.infolist()
            _check_zip(infos, file)
            written = 0
            for info in infos:
                written += _extract_member(zf, info, root, file, MAX_UNZIPPED_BYTES - written)
    except zipfile.BadZipFile as exc:
        raise fail(file, f"not a valid zip file: {exc}") from exc


def _extract_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, root: Path, file: str, budget: int) -> int:
    target = (root / info.filename.replace("\\", "/")).resolve()
    if not target.is_relative_to(root):
        raise fail(file, "unsafe zip member: outside the extraction folder", value=info.filename)
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with zf.open(info) as src, target.open("wb") as out:
        while chunk := src.read(1024 * 1024):
            size += len(chunk)
            if size > info.file_size or size > budget:
                raise fail(file, "zip member unpacks to more than it declares", value=info.filename)
            out.write(chunk)
    return size


def _read_oulad_zip(source: Source, file: str) -> CanonicalData:
    from student_success.ingest.oulad import read_oulad

    tmp = Path(tempfile.mkdtemp(prefix="oulad-"))
    try:
        safe_extract_zip(source, tmp, filename=file)
        folder = _find_marker(tmp)
        if folder is None:
            raise fail(file, f"the zip holds no {OULAD_MARKER}")
        return read_oulad(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_any(
    path: Source,
    *,
    as_of_day: int | None = None,
    mapping: dict[str, str] | None = None,
    filename: str | None = None,
) -> CanonicalData:
    """Detect the format of ``path`` and read it with the matching adapter.

    Args:
        path: a file or folder, or a file's content.
        as_of_day: the day of the term the data describes; required for a Canvas export.
        mapping: explicit ``{"canonical_name": "their header"}`` for a generic CSV.
        filename: the name used in messages (default: the path's name).

    Returns:
        The canonical data.

    Raises:
        ValidationFailed: the input cannot be read (for Canvas: also when ``as_of_day`` is missing).
    """
    file = source_name(path, filename)
    kind = detect_format(path, filename=file)
    if kind == "oulad":
        if isinstance(path, bytes) or Path(path).is_file():
            return _read_oulad_zip(path, file)
        from student_success.ingest.oulad import read_oulad

        folder = _find_marker(Path(path))
        assert folder is not None
        return read_oulad(folder)
    if kind == "canvas":
        if as_of_day is None:
            raise fail(
                file,
                "this is a Canvas gradebook export, which carries no dates: give as_of_day "
                "(the day of the term the export was taken, counted from the course start)",
            )
        return read_canvas_export(path, as_of_day=as_of_day, filename=file)
    if kind == "k12":
        return read_k12_csv(path, filename=file)
    return read_generic_csv(path, mapping=mapping, as_of_day=as_of_day, filename=file)
