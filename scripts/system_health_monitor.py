#!/usr/bin/env python3
"""System health monitor (maintenance guide, "Health Monitoring").

Thin wrapper over :func:`student_success.ops.health_monitor.main`. When the interpreter lacks the project's
dependencies but the checkout has a ``.venv``, it re-runs itself with ``.venv/bin/python`` so the guide's
``python3 scripts/system_health_monitor.py`` works as written; when the package is not installed it imports
it from ``src/``.
"""

from __future__ import annotations

from _project import use_project

use_project(__file__, "psutil", "rich", "pydantic_settings", "sqlalchemy")

from student_success.ops.health_monitor import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
