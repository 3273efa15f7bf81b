"""Uploads waiting between preview and import, kept on disk so the preview is a plain GET.

Post/redirect/get needs the file to outlive the POST that carried it: the file is saved under a random
token, the browser is sent to ``/upload/<token>``, and the confirm button imports it. A staged upload
belongs to the person who uploaded it: anyone else gets "not found", token or not. Staged files older
than a day are removed whenever a new file is staged.
"""

from __future__ import annotations

import json
import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_AGE_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass
class StagedUpload:
    """A file waiting for its import to be confirmed."""

    token: str
    content: bytes
    filename: str
    as_of_day: int | None
    mapping: str | None
    error: str | None = None


def staging_dir() -> Path:
    """Where staged uploads live (created on first use)."""
    folder = Path(tempfile.gettempdir()) / "student-success-uploads"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _paths(token: str) -> tuple[Path, Path] | None:
    if not _TOKEN.match(token):
        return None
    folder = staging_dir()
    return folder / f"{token}.upload", folder / f"{token}.json"


def _sweep(folder: Path) -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass  # removed by another worker meanwhile


def stage(content: bytes, *, filename: str, as_of_day: int | None, mapping: str | None, owner: str) -> str:
    """Keep an upload for ``owner`` (the uploader's label) until it is confirmed or discarded; its token."""
    folder = staging_dir()
    _sweep(folder)
    token = secrets.token_urlsafe(24)
    data_path, meta_path = folder / f"{token}.upload", folder / f"{token}.json"
    data_path.write_bytes(content)
    meta = {"filename": filename, "as_of_day": as_of_day, "mapping": mapping, "error": None, "owner": owner}
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    return token


def load(token: str, *, owner: str) -> StagedUpload | None:
    """``owner``'s staged upload with this token, or ``None`` (unknown, expired, malformed, or another's)."""
    paths = _paths(token)
    if paths is None or not paths[0].is_file() or not paths[1].is_file():
        return None
    meta: dict[str, Any] = json.loads(paths[1].read_text(encoding="utf-8"))
    if meta.get("owner") != owner:
        return None
    return StagedUpload(
        token=token,
        content=paths[0].read_bytes(),
        filename=str(meta["filename"]),
        as_of_day=meta.get("as_of_day"),
        mapping=meta.get("mapping"),
        error=meta.get("error"),
    )


def set_error(token: str, message: str | None) -> None:
    """Remember why the import of a staged upload failed (shown on its preview page)."""
    paths = _paths(token)
    if paths is None or not paths[1].is_file():
        return
    meta = json.loads(paths[1].read_text(encoding="utf-8"))
    meta["error"] = message
    paths[1].write_text(json.dumps(meta), encoding="utf-8")


def set_mapping(token: str, mapping: dict[str, str]) -> bool:
    """Keep the column mapping chosen on the preview (``{}`` goes back to detecting the columns).

    The mapping is stored as the JSON text an upload form would carry, with only the chosen fields.
    An earlier import error is forgotten: it was about the previous mapping. Returns ``False`` when
    the upload is no longer staged.
    """
    paths = _paths(token)
    if paths is None or not paths[1].is_file():
        return False
    meta = json.loads(paths[1].read_text(encoding="utf-8"))
    meta["mapping"] = json.dumps(mapping) if mapping else None
    meta["error"] = None
    paths[1].write_text(json.dumps(meta), encoding="utf-8")
    return True


def discard(token: str) -> None:
    """Forget a staged upload (after it was imported)."""
    paths = _paths(token)
    if paths is None:
        return
    for path in paths:
        path.unlink(missing_ok=True)
