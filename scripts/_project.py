"""What the scripts in this folder share: run with the project's interpreter and find its package.

The maintenance guide calls the scripts as ``python3 scripts/<name>.py``. When that interpreter lacks
the modules a script needs but the checkout has a ``.venv``, the script re-runs itself with
``.venv/bin/python``; when the package is not installed, it is imported from ``src/``.
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


def use_project(script: str, *needs: str) -> None:
    """Re-run ``script`` with the project's virtualenv when a module in ``needs`` is missing here."""
    if _missing(*needs) and VENV_PYTHON.exists() and Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), str(Path(script).resolve()), *sys.argv[1:]])  # noqa: S606
    if _missing("student_success"):
        sys.path.insert(0, str(ROOT / "src"))
