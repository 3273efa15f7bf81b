#!/usr/bin/env python3
"""Start the web UI and API: ``python3 run_mvp.py [--host H] [--port P]`` (default 127.0.0.1:8001).

A thin wrapper over :func:`student_success.api.server.run`; settings come from the environment
(``DATABASE_URL``, ``HOST``, ``PORT``, …) and ``.env``, and ``--host`` / ``--port`` override them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent / "src"
if SRC.is_dir() and str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))  # run from a checkout without `pip install -e .`


def main(argv: list[str] | None = None) -> int:
    """Parse the options and serve until interrupted."""
    from pydantic import ValidationError

    from student_success.api.server import run
    from student_success.config import Settings, settings_problem

    parser = argparse.ArgumentParser(description="Student Success Prediction System: web UI and API.")
    parser.add_argument("--host", help="address to listen on (default: HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: PORT or 8001)")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    try:
        settings = Settings(**overrides)  # the command line wins over the environment
    except ValidationError as exc:  # e.g. a default MVP_API_KEY outside development: one line, exit 1
        print(f"error: {settings_problem(exc)}", file=sys.stderr)
        return 1
    run(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
