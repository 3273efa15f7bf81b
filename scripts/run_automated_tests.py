#!/usr/bin/env python3
"""Run the automated test suites (maintenance guide, "Test Automation").

Thin wrapper over :func:`student_success.ops.test_runner.main`. When the interpreter lacks the project's
test tools but the checkout has a ``.venv``, it re-runs itself with ``.venv/bin/python`` so the guide's
``python3 scripts/run_automated_tests.py`` works as written; when the package is not installed it imports
it from ``src/``.
"""

from __future__ import annotations

from _project import use_project

use_project(__file__, "pytest", "rich")

from student_success.ops.test_runner import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
