"""Log rotation by the maintenance guide's policy: gzip ``*.log`` after 7 days, delete ``*.gz`` after 30.

The same as the guide's ``find logs/ -name "*.log" -mtime +7 -exec gzip {} \\;`` and
``find logs/ -name "*.gz" -mtime +30 -delete`` (``-mtime +N``: modified more than N whole days ago),
but idempotent and reporting what it did. A compressed file keeps the original's modification time
(as ``gzip`` does), so the 30 days count from the last write.
"""

from __future__ import annotations

import gzip
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

DAY_SECONDS = 86_400


@dataclass
class RotationReport:
    """Files compressed and deleted by one run."""

    compressed: list[Path] = field(default_factory=list)
    deleted: list[Path] = field(default_factory=list)


def _older_than(path: Path, days: int, now: float) -> bool:
    # find's -mtime +N: the age, in whole days rounded down, is greater than N
    return int((now - path.stat().st_mtime) // DAY_SECONDS) > days


def rotate_logs(
    folder: Path,
    *,
    compress_after_days: int = 7,
    delete_after_days: int = 30,
    now: float | None = None,
) -> RotationReport:
    """Compress old ``*.log`` files and delete old ``*.gz`` files under ``folder`` (recursively).

    Args:
        folder: the logs folder (a missing folder is nothing to do).
        compress_after_days: gzip ``*.log`` files last modified more than this many days ago.
        delete_after_days: delete ``*.gz`` files last modified more than this many days ago.
        now: the current time (seconds since the epoch), for tests.

    Raises:
        ValueError: a negative number of days.
    """
    if compress_after_days < 0 or delete_after_days < 0:
        raise ValueError("the number of days must be 0 or more")
    now = time.time() if now is None else now
    report = RotationReport()
    if not folder.is_dir():
        return report
    for path in sorted(folder.rglob("*.log")):
        if not path.is_file() or not _older_than(path, compress_after_days, now):
            continue
        target = path.with_name(path.name + ".gz")
        stat = path.stat()
        partial = target.with_name(target.name + ".part")
        with path.open("rb") as source, gzip.open(partial, "wb") as sink:
            shutil.copyfileobj(source, sink)
        os.utime(partial, (stat.st_atime, stat.st_mtime))
        partial.replace(target)
        path.unlink()
        report.compressed.append(target)
    for path in sorted(folder.rglob("*.gz")):
        if path.is_file() and _older_than(path, delete_after_days, now):
            path.unlink()
            report.deleted.append(path)
    return report
