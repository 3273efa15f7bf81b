#!/usr/bin/env python3
"""Fill in the deployment templates in ``deploy/`` with this installation's paths and names.

    python3 deploy/render.py --app-dir /srv/student-success --user student-success \\
        --server-name ss.example.org --tls-cert /etc/ssl/ss.pem --tls-key /etc/ssl/ss.key

Writes ``student-success-api.service``, ``student-success-monitor.service``, ``crontab.example``,
``nginx.conf.example`` and ``prometheus.yml.example`` into ``--output-dir`` (default ``deploy/rendered``)
with every ``@NAME@`` placeholder replaced. Standard library only, so it runs before the venv exists.
Exit code 1 with one line on stderr when a value is missing or unsafe.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES = (
    "student-success-api.service",
    "student-success-monitor.service",
    "crontab.example",
    "nginx.conf.example",
    "prometheus.yml.example",
)
PLACEHOLDER = re.compile(r"@([A-Z_]+)@")
# no whitespace, quotes, semicolons or braces: every value lands unquoted in a unit, crontab or nginx file
SAFE_VALUE = re.compile(r"^[A-Za-z0-9_./:+\-\[\]]+$")
MULTIPART_OVERHEAD = 64 * 1024


def nginx_size(max_upload_bytes: int) -> str:
    """``client_max_body_size`` for uploads of ``max_upload_bytes`` (rounded up to whole MiB)."""
    mib = -(-(max_upload_bytes + MULTIPART_OVERHEAD) // (1024 * 1024))
    return f"{mib}m"


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(description="Render the deployment templates with your paths.")
    parser.add_argument("--app-dir", type=Path, default=HERE.parent, help="the checkout (default: this one)")
    parser.add_argument("--python", help="interpreter (default: APP_DIR/.venv/bin/python)")
    parser.add_argument("--user", default="www-data", help="service account (default www-data)")
    parser.add_argument("--group", help="service group (default: the user's name)")
    parser.add_argument("--port", type=int, default=8001, help="app port on 127.0.0.1 (default 8001)")
    parser.add_argument("--server-name", default="student-success.example.org", help="public host name")
    parser.add_argument("--tls-cert", default="/etc/ssl/certs/student-success.pem", help="certificate chain")
    parser.add_argument("--tls-key", default="/etc/ssl/private/student-success.key", help="private key")
    parser.add_argument(
        "--max-upload-bytes", type=int, default=20 * 1024 * 1024, help="the app's MAX_UPLOAD_BYTES"
    )
    parser.add_argument("--output-dir", type=Path, default=HERE / "rendered", help="default deploy/rendered")
    return parser


def values(args: argparse.Namespace) -> dict[str, str]:
    """The placeholder values, checked."""
    app_dir = args.app_dir.resolve()
    out = {
        "APP_DIR": str(app_dir),
        "PYTHON": args.python or str(app_dir / ".venv" / "bin" / "python"),
        "USER": args.user,
        "GROUP": args.group or args.user,
        "PORT": str(args.port),
        "SERVER_NAME": args.server_name,
        "TLS_CERT": args.tls_cert,
        "TLS_KEY": args.tls_key,
        "MAX_BODY": nginx_size(args.max_upload_bytes),
    }
    for name, value in out.items():
        if not SAFE_VALUE.match(value):
            raise ValueError(
                f"--{name.lower().replace('_', '-')}: {value!r} has characters a config file cannot take"
            )
    if not 1 <= args.port <= 65535:
        raise ValueError(f"--port: {args.port} is not a port number")
    return out


def render(text: str, mapping: dict[str, str]) -> str:
    """``text`` with every ``@NAME@`` replaced; an unknown name is an error."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(1) not in mapping:
            raise ValueError(f"unknown placeholder {match.group(0)}")
        return mapping[match.group(1)]

    return PLACEHOLDER.sub(substitute, text)


def main(argv: list[str] | None = None) -> int:
    """Render every template; print one line per file written."""
    args = build_parser().parse_args(argv)
    try:
        mapping = values(args)
        args.output_dir.mkdir(parents=True, exist_ok=True)
        for name in TEMPLATES:
            target = args.output_dir / name
            target.write_text(render((HERE / name).read_text(encoding="utf-8"), mapping), encoding="utf-8")
            print(f"wrote {target}")
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
