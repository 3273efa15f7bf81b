"""Probe a running server with attacks and report which defences held (``scripts/security_test.py``).

The probe needs the administrator API key (``MVP_API_KEY``) of the server it attacks. With it, it sets
up what the attacks need through the API, as an operator would: it imports the bundled Canvas example
and a copy whose names carry XSS payloads, creates a teacher who sees one section and an administrator
who signs in with a password (``security-probe-*@example.invalid``), and plans one intervention. Then it
runs the attacks of :mod:`student_success.ops.security_attacks` — every route without credentials,
cross-section access as the teacher, SQL injection, stored and reflected XSS, CSRF, path traversal,
oversized and malformed uploads, a zip bomb, session fixation, login brute force, missing headers —
and writes a report. Run it against a test deployment: it leaves the probe's accounts and imports
behind (the XSS students are deleted at the end), and its failed sign-ins count towards the address's
login lock for ``LOGIN_LOCKOUT_MINUTES``.

No secret is ever printed or written: the report names keys by their prefix, never their value.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from student_success.config import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "examples" / "canvas_gradebook_export.csv"
EXAMPLE_AS_OF_DAY = 60
XSS_PAYLOADS: tuple[str, ...] = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
XSS_FILENAME = "security_probe_xss.csv"
EXIT_OK, EXIT_FAILED, EXIT_UNREACHABLE = 0, 1, 2


class Unreachable(Exception):
    """The server did not answer."""


class SetupFailed(Exception):
    """The probe could not prepare its attacks (the message says which step)."""


@dataclass
class ProbeResult:
    """One attack and its outcome."""

    category: str
    name: str
    target: str
    expected: str
    observed: str
    passed: bool


@dataclass
class Context:
    """What the set-up prepared for the attacks."""

    admin: httpx.Client
    anonymous: httpx.Client
    teacher: httpx.Client
    own_section: int
    own_students: list[dict[str, Any]]
    other_students: list[dict[str, Any]]
    other_intervention: int
    xss_students: list[int]
    xss_named: list[int]
    login_email: str
    login_password: str
    teacher_email: str
    teacher_key_prefix: str
    max_upload_bytes: int
    max_upload_rows: int
    notes: list[str] = field(default_factory=list)


def xss_gradebook(example: bytes, payloads: tuple[str, ...] = XSS_PAYLOADS) -> bytes:
    """The Canvas example with XSS payloads as names (and a section), under new student ids.

    Row ``i`` of the first ``len(payloads)`` students gets ``payloads[i]`` as its name; the first of
    them also gets it as its section. IDs are prefixed with 9 so the copy never renames real students.
    """
    rows = list(csv.reader(io.StringIO(example.decode("utf-8-sig"))))
    header = rows[0]
    name_col, id_col, sis_col, section_col = (
        header.index(c) for c in ("Student", "ID", "SIS User ID", "Section")
    )
    out = [header]
    students = 0
    for row in rows[1:]:
        if row and row[0].strip() == "Points Possible":
            out.append(row)
            continue
        row = list(row)
        row[id_col] = "9" + row[id_col]
        row[sis_col] = "X" + row[sis_col]
        if students < len(payloads):
            row[name_col] = payloads[students]
            if students == 0:
                row[section_col] = payloads[0]
        students += 1
        out.append(row)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(out)
    return buffer.getvalue().encode("utf-8")


def _client(base_url: str, timeout: float, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    # no keep-alive: a server that drops a connection after an error must not fail the next attack
    limits = httpx.Limits(max_keepalive_connections=0)
    return httpx.Client(
        base_url=base_url, timeout=timeout, follow_redirects=False, headers=headers, limits=limits
    )


def _expect(response: httpx.Response, *codes: int, step: str) -> Any:
    if response.status_code not in codes:
        raise SetupFailed(f"{step}: HTTP {response.status_code} (expected {', '.join(map(str, codes))})")
    return response.json() if "json" in response.headers.get("content-type", "") else None


def _upload(client: httpx.Client, name: str, content: bytes, step: str) -> Any:
    files = {"file": (name, content, "text/csv")}
    return _expect(
        client.post("/api/uploads", files=files, data={"as_of_day": str(EXAMPLE_AS_OF_DAY)}),
        200,
        201,
        step=step,
    )


def set_up(
    base_url: str, api_key: str, *, timeout: float, max_upload_bytes: int, max_upload_rows: int
) -> Context:
    """Prepare the accounts and data the attacks need (see the module docstring).

    Raises:
        Unreachable: the server does not answer.
        SetupFailed: a step failed (e.g. the API key is not an administrator's).
    """
    anonymous = _client(base_url, timeout)
    try:
        anonymous.get("/health")
    except httpx.TransportError as exc:
        raise Unreachable(f"{base_url} does not answer: {type(exc).__name__}") from None
    admin = _client(base_url, timeout, api_key)
    _upload(admin, EXAMPLE.name, EXAMPLE.read_bytes(), "import the bundled example")
    _upload(admin, XSS_FILENAME, xss_gradebook(EXAMPLE.read_bytes()), "import the XSS gradebook")
    rows = _expect(admin.get("/api/students", params={"limit": 500}), 200, step="list the students")["data"]
    example = [r for r in rows if r["course_name"] and XSS_FILENAME.split(".")[0] not in r["course_name"]]
    xss = sorted({r["student_id"] for r in rows if r["external_id"].startswith("9")})
    named = sorted({r["student_id"] for r in rows if r["display_name"] in XSS_PAYLOADS})
    if len(named) != len(XSS_PAYLOADS):
        raise SetupFailed(f"the XSS gradebook should give {len(XSS_PAYLOADS)} students with payload names")
    by_section: dict[int, list[dict[str, Any]]] = {}
    for r in example:
        if r["section_id"] is not None:
            by_section.setdefault(r["section_id"], []).append(r)
    if len(by_section) < 2:
        raise SetupFailed("the example should give students in at least two sections")
    own, other = sorted(by_section)[:2]
    tag = secrets.token_hex(4)
    teacher_email = f"security-probe-teacher-{tag}@example.invalid"
    teacher = _expect(
        admin.post("/api/users", json={"email": teacher_email, "role": "teacher", "section_ids": [own]}),
        201,
        step="create the teacher",
    )
    key = _expect(
        admin.post(f"/api/users/{teacher['id']}/api-keys", json={"name": "security probe"}),
        201,
        step="create the teacher's API key",
    )
    login_email, password = f"security-probe-admin-{tag}@example.invalid", secrets.token_urlsafe(18)
    _expect(
        admin.post("/api/users", json={"email": login_email, "role": "admin", "password": password}),
        201,
        step="create the administrator who signs in",
    )
    plan = _expect(
        admin.post(
            "/api/interventions",
            json={"student_id": by_section[other][0]["student_id"], "type_key": "tutoring"},
        ),
        201,
        step="plan an intervention",
    )
    _expect(
        admin.post(
            "/api/interventions",
            json={
                "student_id": xss[0],
                "type_key": "study_skills",
                "goal": XSS_PAYLOADS[1],
                "notes": XSS_PAYLOADS[0],
            },
        ),
        201,
        step="plan an intervention with payloads",
    )
    return Context(
        admin=admin,
        anonymous=anonymous,
        teacher=_client(base_url, timeout, key["key"]),
        own_section=own,
        own_students=by_section[own],
        other_students=by_section[other],
        other_intervention=plan["id"],
        xss_students=xss,
        xss_named=named,
        login_email=login_email,
        login_password=password,
        teacher_email=teacher_email,
        teacher_key_prefix=key["prefix"],
        max_upload_bytes=max_upload_bytes,
        max_upload_rows=max_upload_rows,
    )


def tear_down(ctx: Context) -> None:
    """Delete the XSS students again and close the connections."""
    for student_id in ctx.xss_students:
        ctx.admin.delete(f"/api/students/{student_id}")
    for client in (ctx.admin, ctx.anonymous, ctx.teacher):
        client.close()


Attack = Callable[[Context], Iterator[ProbeResult]]


def run_attacks(ctx: Context, attacks: list[Attack]) -> list[ProbeResult]:
    """Run every attack; one that breaks (e.g. the server drops the connection) is a failure, not a crash."""
    results: list[ProbeResult] = []
    for attack in attacks:
        try:
            results.extend(attack(ctx))
        except (httpx.HTTPError, KeyError, ValueError, TypeError) as exc:
            name = (attack.__doc__ or attack.__name__).strip().splitlines()[0]
            results.append(ProbeResult("error", name, "-", "the attack runs", type(exc).__name__, False))
    return results


def table(results: list[ProbeResult]) -> str:
    """The results as a plain-text table, then a one-line summary."""
    columns = ("#", "category", "attack", "target", "expected", "observed", "result")
    limits = (4, 14, 48, 40, 34, 34, 6)
    rows: list[tuple[str, ...]] = [
        tuple(
            c if len(c) <= w else c[: w - 1] + "…"
            for c, w in zip(
                (
                    str(i),
                    r.category,
                    r.name,
                    r.target,
                    r.expected,
                    r.observed,
                    "PASS" if r.passed else "FAIL",
                ),
                limits,
                strict=True,
            )
        )
        for i, r in enumerate(results, 1)
    ]
    widths = [max([len(columns[i]), *(len(r[i]) for r in rows)]) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    failed = sum(not r.passed for r in results)
    lines.append(f"{len(results)} attacks, {len(results) - failed} passed, {failed} failed")
    return "\n".join(lines)


def write_report(
    results: list[ProbeResult], *, url: str, logs_dir: Path, notes: list[str]
) -> tuple[Path, Path]:
    """Write ``security_test_<timestamp>.json`` and a ``.txt`` copy of the table under ``logs_dir``."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    json_path, text_path = logs_dir / f"security_test_{stamp}.json", logs_dir / f"security_test_{stamp}.txt"
    failed = sum(not r.passed for r in results)
    report = {
        "url": url,
        "finished_at": datetime.now(UTC).isoformat(),
        "attacks": len(results),
        "failed": failed,
        "notes": notes,
        "results": [asdict(r) for r in results],
    }
    json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    text_path.write_text(f"security test of {url}\n{table(results)}\n", encoding="utf-8")
    return json_path, text_path


def probe(
    url: str,
    api_key: str,
    *,
    logs_dir: Path,
    timeout: float = 30.0,
    max_upload_bytes: int = 20 * 1024 * 1024,
    max_upload_rows: int = 200_000,
    echo: Callable[[str], None] = print,
) -> int:
    """Set up, attack, tear down, print the table, write the report; return the exit code.

    Returns:
        0 when every attack was defended, 1 when one was not (or the set-up failed), 2 when the server
        does not answer.
    """
    from student_success.ops import security_attacks as access
    from student_success.ops import security_attacks_input as inputs

    # the brute force runs last: it locks the probe's account and counts against the address
    attacks: list[Attack] = [
        access.unauthenticated, access.cross_section, inputs.sql_injection, inputs.xss, inputs.uploads,
        inputs.path_traversal, access.csrf_and_sessions, inputs.errors_and_audit, access.headers,
        access.brute_force,
    ]  # fmt: skip

    url = url.rstrip("/")
    try:
        ctx = set_up(
            url, api_key, timeout=timeout, max_upload_bytes=max_upload_bytes, max_upload_rows=max_upload_rows
        )
    except Unreachable as exc:
        echo(f"error: {exc}")
        return EXIT_UNREACHABLE
    except (SetupFailed, httpx.HTTPError, KeyError, ValueError) as exc:
        echo(f"error: the set-up failed: {exc}")
        return EXIT_FAILED
    try:
        results = run_attacks(ctx, attacks)
    finally:
        tear_down(ctx)
    echo(table(results))
    json_path, text_path = write_report(results, url=url, logs_dir=logs_dir, notes=ctx.notes)
    echo(f"report: {json_path} (text: {text_path.name})")
    return EXIT_FAILED if any(not r.passed for r in results) else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """``scripts/security_test.py``: parse the options, probe, return the exit code."""
    import argparse
    import os

    parser = argparse.ArgumentParser(
        prog="security_test.py",
        description="Attack a running Student Success server and report which defences held. "
        "Exit code 0: every attack was defended; 1: one was not; 2: the server does not answer.",
    )
    parser.add_argument("--url", default="http://localhost:8001", help="the server (default: %(default)s)")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("MVP_API_KEY"),
        help="an administrator's API key (default: env MVP_API_KEY); never printed",
    )
    parser.add_argument("--logs-dir", type=Path, default=PROJECT_ROOT / "logs", help="where the report goes")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds per request (default: %(default)s)"
    )
    parser.add_argument(
        "--max-upload-bytes", type=int, default=20 * 1024 * 1024, help="the server's MAX_UPLOAD_BYTES"
    )
    parser.add_argument("--max-upload-rows", type=int, default=200_000, help="the server's MAX_UPLOAD_ROWS")
    args = parser.parse_args(argv)
    if not args.api_key:
        print("error: give an administrator's API key with --api-key or the MVP_API_KEY variable")
        return EXIT_FAILED
    return probe(
        args.url, args.api_key, logs_dir=args.logs_dir, timeout=args.timeout,
        max_upload_bytes=args.max_upload_bytes, max_upload_rows=args.max_upload_rows,
    )  # fmt: skip
