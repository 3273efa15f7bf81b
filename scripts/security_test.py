#!/usr/bin/env python3
"""Security test of a running server (maintenance guide, "Security").

``python3 scripts/security_test.py [--url http://localhost:8001] [--api-key KEY]`` attacks the server
(every route without credentials, cross-section access, SQL injection, XSS, CSRF, path traversal, hostile
uploads, session fixation, login brute force, headers), prints a table, writes
``logs/security_test_<timestamp>.json`` and a text copy, and exits 0 (all defended), 1 (a failure) or
2 (the server does not answer). Thin wrapper over :func:`student_success.ops.security_probe.main`; like
the other scripts it re-runs itself with ``.venv/bin/python`` when the interpreter lacks the project.
"""

from __future__ import annotations

from _project import use_project

use_project(__file__, "httpx", "pydantic_settings")

from student_success.ops.security_probe import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
