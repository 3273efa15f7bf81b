"""The probe's attacks on input: SQL injection, XSS, hostile uploads, path traversal, error answers.

Each yields :class:`ProbeResult` rows (see :mod:`student_success.ops.security_attacks`).
"""

from __future__ import annotations

import io
import secrets
import zipfile
from collections.abc import Iterator

import httpx

from student_success.ops.security_attacks import result_row, status_text
from student_success.ops.security_probe import XSS_PAYLOADS, Context, ProbeResult

SQLI = (
    "' OR '1'='1",
    "x%' UNION SELECT id, email, password_hash FROM app_user --",
    "1; DROP TABLE student; --",
)


def sql_injection(ctx: Context) -> Iterator[ProbeResult]:
    """Injection in search, sort, ids, audit filters and the sign-in form."""
    before = ctx.admin.get("/api/students", params={"limit": 1}).json()["count"]
    for payload in SQLI:
        response = ctx.teacher.get("/api/students", params={"q": payload})
        count = response.json().get("count") if response.status_code == 200 else None
        yield result_row(
            "sql-injection",
            f"search {payload[:24]!r}",
            "/api/students?q=",
            "200, count 0",
            f"{status_text(response)}, count {count}",
            count == 0,
        )
    response = ctx.teacher.get("/api/students", params={"sort": "name; DROP TABLE student --"})
    yield result_row(
        "sql-injection",
        "sort key injection",
        "/api/students?sort=",
        "422",
        status_text(response),
        response.status_code == 422,
    )
    response = ctx.teacher.get("/api/students/1 OR 1=1")
    yield result_row(
        "sql-injection",
        "path id injection",
        "/api/students/1 OR 1=1",
        "422",
        status_text(response),
        response.status_code == 422,
    )
    response = ctx.admin.get("/api/audit", params={"actor": "' OR 1=1 --"})
    count = response.json().get("count") if response.status_code == 200 else None
    yield result_row(
        "sql-injection",
        "audit actor filter",
        "/api/audit?actor=",
        "200, count 0",
        f"{status_text(response)}, count {count}",
        count == 0,
    )
    after = ctx.admin.get("/api/students", params={"limit": 1}).json()["count"]
    yield result_row(
        "sql-injection",
        "tables intact after the injections",
        "/api/students",
        f"count {before}",
        f"count {after}",
        after == before,
    )


def xss(ctx: Context) -> Iterator[ProbeResult]:
    """Stored payloads (names, a section, plan notes) and reflected ones (search, sign-in, audit filters)."""
    escaped = ("&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;")
    pages = [("/students?q=alert", "risk list"), ("/interventions", "interventions board")]
    pages += [(f"/students/{s}", "student page") for s in ctx.xss_named]
    for path, label in pages:
        response = ctx.admin.get(path)
        raw = [p for p in XSS_PAYLOADS if p in response.text]
        shown = [e for e in escaped if e in response.text.replace("&quot;", "&#34;")]
        yield result_row(
            "xss",
            f"stored payload on the {label}",
            path,
            "200, escaped, never raw",
            f"{status_text(response)}, {len(raw)} raw, {len(shown)} escaped",
            response.status_code == 200 and not raw and bool(shown),
        )
    for path, params in (
        ("/students", {"q": XSS_PAYLOADS[0]}),
        ("/login", {"next": XSS_PAYLOADS[1]}),
        ("/audit", {"actor": XSS_PAYLOADS[0]}),
        ("/students/" + XSS_PAYLOADS[0], {}),
    ):
        client = ctx.anonymous if path == "/login" else ctx.admin
        response = client.get(path, params=params)
        html = response.headers.get("content-type", "").startswith("text/html")
        raw = [p for p in XSS_PAYLOADS if p in response.text] if html else []
        yield result_row(
            "xss",
            "reflected payload",
            path,
            "never raw in HTML",
            f"{status_text(response)}, {len(raw)} raw",
            not raw,
        )
    response = ctx.admin.get(f"/api/students/{ctx.xss_named[0]}")
    kind = response.headers.get("content-type", "")
    yield result_row(
        "xss",
        "API serves names as JSON, not HTML",
        "/api/students/{id}",
        "application/json",
        kind.split(";")[0],
        kind.startswith("application/json"),
    )


def _zip(members: dict[str, bytes], *, level: int = 9) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _post_file(ctx: Context, path: str, name: str, content: bytes, **form: str) -> httpx.Response:
    return ctx.admin.post(path, files={"file": (name, content, "text/csv")}, data=form)


def uploads(ctx: Context) -> Iterator[ProbeResult]:
    """Oversized, malformed and hostile uploads: refused, and never with a stack trace."""
    header = b"student_id,name,early_avg_score\n"
    cases: list[tuple[str, str, bytes, dict[str, str], tuple[int, ...]]] = [
        (
            "file over the size limit",
            "big.csv",
            header + b"1,a,50\n" * (ctx.max_upload_bytes // 7 + 1),
            {},
            (413,),
        ),
        ("file over the row limit", "rows.csv", header + b"1,a,50\n" * (ctx.max_upload_rows + 5), {}, (413,)),
        (
            "file over the column limit",
            "wide.csv",
            (",".join(f"c{i}" for i in range(2_001)) + "\n1\n").encode(),
            {},
            (413, 422),
        ),
        ("binary garbage", "garbage.csv", secrets.token_bytes(4096), {}, (422,)),
        ("empty file", "empty.csv", b"", {}, (422,)),
        ("wrong delimiter", "semicolons.csv", b"student_id;name;score\n1;a;50\n", {}, (422,)),
        ("negative day of term", "day.csv", header + b"1,a,50\n", {"as_of_day": "-5"}, (422,)),
        ("mapping that is not JSON", "map.csv", header + b"1,a,50\n", {"mapping": "{not json"}, (422,)),
        (
            "zip bomb (128 MB of zeros)",
            "bomb.zip",
            _zip({"studentInfo.csv": bytes(128 * 1024**2)}),
            {},
            (413, 422),
        ),
        (
            "zip member escaping the folder",
            "slip.zip",
            _zip({"../../evil.csv": header + b"1,a,50\n"}),
            {},
            (422,),
        ),
        (
            "zip member with an absolute path",
            "abs.zip",
            _zip({"/var/evil.csv": header + b"1,a,50\n"}),
            {},
            (422,),
        ),
    ]
    for label, name, content, form, codes in cases:
        response = _post_file(ctx, "/api/uploads", name, content, **form)
        trace = "Traceback" in response.text or 'File "/' in response.text
        yield result_row(
            "upload",
            label,
            "/api/uploads",
            " or ".join(map(str, codes)),
            status_text(response) + (", stack trace" if trace else ""),
            response.status_code in codes and not trace,
        )
    response = _post_file(ctx, "/api/uploads/preview", "../../../../tmp/evil.csv", header + b"1,a,50\n")
    stored: str | None = response.json().get("filename") if response.status_code == 200 else None
    yield result_row(
        "path-traversal",
        "upload file name with ../",
        "/api/uploads/preview",
        "200, name evil.csv",
        f"{status_text(response)}, name {stored!r}",
        stored == "evil.csv",
    )


def path_traversal(ctx: Context) -> Iterator[ProbeResult]:
    """Escaping the static folder and the upload staging area."""
    for path in (
        "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/....//....//etc/passwd",
        "/upload/..%2f..%2f..%2f..%2fetc%2fpasswd",
    ):
        response = ctx.admin.get(path)
        leaked = "root:" in response.text
        yield result_row(
            "path-traversal",
            "read /etc/passwd",
            path,
            "404, nothing leaked",
            f"{status_text(response)}{', leaked' if leaked else ''}",
            response.status_code in (400, 404) and not leaked,
        )


def errors_and_audit(ctx: Context) -> Iterator[ProbeResult]:
    """Errors without internals; the teacher's reads are in the audit trail."""
    json_type = {"Content-Type": "application/json"}
    for label, method, path, body in (
        ("huge id", "GET", "/api/students/99999999999999999999999999", None),
        ("broken JSON body", "POST", "/api/interventions", b"{not json"),
    ):
        response = ctx.admin.request(method, path, content=body, headers=json_type if body else None)
        leaked = any(s in response.text for s in ("Traceback", 'File "/', "sqlalchemy", "psycopg"))
        yield result_row(
            "errors",
            f"{label}: no internals in the answer",
            path,
            "4xx, no stack trace",
            status_text(response) + (", internals" if leaked else ""),
            400 <= response.status_code < 500 and not leaked,
        )
    response = ctx.admin.get(
        "/api/audit", params={"actor": f"api-key:{ctx.teacher_key_prefix}", "action": "student.list"}
    )
    count = response.json().get("count", 0) if response.status_code == 200 else 0
    yield result_row(
        "audit",
        "the teacher's list views are audited",
        "/api/audit",
        "at least 1 event",
        f"{status_text(response)}, {count} events",
        count >= 1,
    )
