#!/usr/bin/env python3
"""System health monitor (maintenance guide, "Health Monitoring").

Thin wrapper over :func:`student_success.ops.health_monitor.main`. When the interpreter lacks the project's
dependencies but the checkout has a ``.venv``, it re-runs itself with ``.venv/bin/python`` so the guide's
``python3 scripts/system_health_monitor.py`` works as written; when the package is not installed it imports
it from ``src/``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"


def _missing(*modules: str) -> bool:
    return any(importlib.util.find_spec(module) is None for module in modules)


if (
    _missing("psutil", "rich", "pydantic_settings", "sqlalchemy")
    and VENV_PYTHON.exists()
    and Path(sys.prefix).resolve() != VENV.resolve()
):
    os.execv(VENV_PYTHON, [str(VENV_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])  # noqa: S606

if _missing("student_success"):
    sys.path.insert(0, str(ROOT / "src"))

from student_success.ops.health_monitor import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
