"""The probe's attacks on access: no credentials, another section, CSRF, sessions, brute force, headers.

One generator per family (the input attacks are in :mod:`student_success.ops.security_attacks_input`).

Each yields :class:`ProbeResult` rows: what was tried, on which target, what a defended server answers,
what this one answered. Observations name status codes and facts, never a secret.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import httpx

from student_success.ops.security_probe import Context, ProbeResult

PUBLIC: frozenset[tuple[str, str]] = frozenset({("GET", "/health"), ("GET", "/api/notifications/health")})
PAGES: tuple[tuple[str, str], ...] = (
    ("GET", "/"),
    ("GET", "/students"),
    ("GET", "/students/1"),
    ("GET", "/students/1/summary"),
    ("GET", "/students/1/delete"),
    ("GET", "/interventions"),
    ("GET", "/upload"),
    ("GET", "/model"),
    ("GET", "/status"),
    ("GET", "/audit"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("POST", "/example"),
    ("POST", "/upload"),
    ("POST", "/students/1/interventions"),
)
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
SESSION_COOKIE = "ss_session"


def result_row(
    category: str, name: str, target: str, expected: str, observed: str, passed: bool
) -> ProbeResult:
    return ProbeResult(category, name, target, expected, observed, passed)


def status_text(response: httpx.Response) -> str:
    return f"HTTP {response.status_code}"


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def unauthenticated(ctx: Context) -> Iterator[ProbeResult]:
    """Every route of the OpenAPI document, and every page, without credentials."""
    spec = ctx.admin.get("/openapi.json").json()
    routes = sorted(
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )
    for method, path in [*routes, *PAGES]:
        if (method, path) in PUBLIC:
            continue
        response = ctx.anonymous.request(method, _fill(path), json={} if method != "GET" else None)
        yield result_row(
            "no-auth",
            f"{method} without credentials",
            _fill(path),
            "401",
            status_text(response),
            response.status_code == 401,
        )
    for label, headers in (
        ("invalid Bearer key", {"Authorization": "Bearer ssk_not_a_real_key_" + secrets.token_hex(8)}),
        ("Basic credentials instead of a key", {"Authorization": "Basic YWRtaW46YWRtaW4="}),
        ("forged session cookie", {"Cookie": f"{SESSION_COOKIE}={secrets.token_urlsafe(32)}"}),
    ):
        response = ctx.anonymous.get("/api/students", headers=headers)
        yield result_row(
            "no-auth", label, "/api/students", "401", status_text(response), response.status_code == 401
        )
    for method, path in sorted(PUBLIC):
        response = ctx.anonymous.request(method, path)
        yield result_row(
            "no-auth",
            "public health check stays public",
            path,
            "200 or 503",
            status_text(response),
            response.status_code in (200, 503),
        )


def cross_section(ctx: Context) -> Iterator[ProbeResult]:
    """A teacher of one section reaching for students, plans and admin routes outside it."""
    other = ctx.other_students[0]
    sid = other["student_id"]
    response = ctx.teacher.get("/api/students", params={"limit": 500})
    rows = response.json().get("data", []) if response.status_code == 200 else []
    outside = [r for r in rows if r["section_id"] != ctx.own_section]
    own_ids = {r["student_id"] for r in ctx.own_students}
    yield result_row(
        "cross-section",
        "risk list shows only the teacher's section",
        "/api/students",
        f"200, {len(own_ids)} students, 0 outside",
        f"{status_text(response)}, {len(rows)} rows, {len(outside)} outside",
        response.status_code == 200 and not outside and {r["student_id"] for r in rows} >= own_ids,
    )
    for label, method, path, body in (
        ("view another section's student", "GET", f"/api/students/{sid}", None),
        ("read another section's risk history", "GET", f"/api/students/{sid}/history", None),
        ("export another section's student record", "GET", f"/api/students/{sid}/record", None),
        (
            "plan support for another section's student",
            "POST",
            "/api/interventions",
            {"student_id": sid, "type_key": "tutoring"},
        ),
        (
            "change another section's plan",
            "PATCH",
            f"/api/interventions/{ctx.other_intervention}",
            {"status": "cancelled"},
        ),
        ("read another section's plan", "GET", f"/api/interventions/{ctx.other_intervention}", None),
        ("open another section's student page", "GET", f"/students/{sid}", None),
    ):
        response = ctx.teacher.request(method, path, json=body)
        yield result_row(
            "cross-section", label, path, "404", status_text(response), response.status_code == 404
        )
    name = (other["display_name"] or "").split(",")[0] or other["external_id"]
    response = ctx.teacher.get("/api/students", params={"q": name})
    found = (
        [r for r in response.json().get("data", []) if r["student_id"] == sid] if response.is_success else []
    )
    yield result_row(
        "cross-section",
        "search another section's student by name",
        "/api/students?q=…",
        "none found",
        f"{status_text(response)}, {len(found)} found",
        response.status_code == 200 and not found,
    )
    response = ctx.teacher.get("/api/exports/risk.csv")
    leaked = other["external_id"] in response.text
    yield result_row(
        "cross-section",
        "risk CSV export leaks another section",
        "/api/exports/risk.csv",
        "200, not in file",
        f"{status_text(response)}, {'in file' if leaked else 'not in file'}",
        response.status_code == 200 and not leaked,
    )
    response = ctx.teacher.get("/api/interventions", params={"student_id": sid})
    count = response.json().get("count") if response.status_code == 200 else None
    yield result_row(
        "cross-section",
        "list another section's plans",
        "/api/interventions?student_id=…",
        "200, count 0",
        f"{status_text(response)}, count {count}",
        count == 0,
    )
    for label, method, path, body in (
        ("teacher reads the audit trail", "GET", "/api/audit", None),
        (
            "teacher creates an administrator",
            "POST",
            "/api/users",
            {"email": f"evil-{secrets.token_hex(3)}@example.invalid", "role": "admin"},
        ),
        ("teacher deletes a student", "DELETE", f"/api/students/{ctx.own_students[0]['student_id']}", None),
    ):
        response = ctx.teacher.request(method, path, json=body)
        yield result_row("privilege", label, path, "403", status_text(response), response.status_code == 403)


def _login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    page = client.get("/login")
    match = CSRF_INPUT.search(page.text)
    token = match.group(1) if match else ""
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, "next": "/"}
    )


def _page_token(client: httpx.Client, path: str) -> str:
    match = CSRF_INPUT.search(client.get(path).text)
    return match.group(1) if match else ""


def csrf_and_sessions(ctx: Context) -> Iterator[ProbeResult]:
    """Cross-site requests with a signed-in browser's cookie; session fixation; sign-out."""
    base = str(ctx.admin.base_url)
    browser = httpx.Client(base_url=base, timeout=ctx.admin.timeout, follow_redirects=False)
    planted = secrets.token_urlsafe(32)
    browser.cookies.set(SESSION_COOKIE, planted)
    response = _login(browser, ctx.login_email, ctx.login_password)
    issued = response.cookies.get(SESSION_COOKIE)
    yield result_row(
        "session",
        "session fixation: planted cookie replaced at sign-in",
        "/login",
        "303, new session id",
        f"{status_text(response)}, {'new id' if issued and issued != planted else 'not replaced'}",
        response.status_code == 303 and bool(issued) and issued != planted,
    )
    browser.cookies.clear()
    if issued:
        browser.cookies.set(SESSION_COOKIE, issued)
    sid = ctx.own_students[0]["student_id"]
    form = {"type_key": "tutoring", "goal": "probe"}
    for label, data, headers in (
        ("form post without a CSRF token", form, {}),
        ("form post with a forged CSRF token", {**form, "csrf_token": secrets.token_urlsafe(24)}, {}),
        (
            "form post from another site",
            form,
            {"Origin": "https://evil.example", "Referer": "https://evil.example/"},
        ),
    ):
        response = browser.post(f"/students/{sid}/interventions", data=data, headers=headers)
        yield result_row(
            "csrf",
            label,
            f"/students/{sid}/interventions",
            "403",
            status_text(response),
            response.status_code == 403,
        )
    response = browser.post("/api/interventions", json={"student_id": sid, "type_key": "tutoring"})
    yield result_row(
        "csrf",
        "JSON API call on the cookie without X-CSRF-Token",
        "/api/interventions",
        "403",
        status_text(response),
        response.status_code == 403,
    )
    token = _page_token(browser, f"/students/{sid}")
    response = browser.post(f"/students/{sid}/interventions", data={**form, "csrf_token": token})
    yield result_row(
        "csrf",
        "control: the page's own token is accepted",
        f"/students/{sid}/interventions",
        "303",
        status_text(response),
        response.status_code == 303,
    )
    stranger = httpx.Client(base_url=base, timeout=ctx.admin.timeout, follow_redirects=False)
    response = stranger.post("/login", data={"email": ctx.login_email, "password": ctx.login_password})
    yield result_row(
        "csrf",
        "sign-in form posted without its token (login CSRF)",
        "/login",
        "403",
        status_text(response),
        response.status_code == 403,
    )
    stranger.close()
    browser.post("/logout", data={"csrf_token": _page_token(browser, "/students")})
    replay = httpx.Client(base_url=base, timeout=ctx.admin.timeout, follow_redirects=False)
    if issued:
        replay.cookies.set(SESSION_COOKIE, issued)
    response = replay.get("/api/students")
    yield result_row(
        "session",
        "session cookie replayed after sign-out",
        "/api/students",
        "401",
        status_text(response),
        response.status_code == 401,
    )
    replay.close()
    browser.close()


def brute_force(ctx: Context) -> Iterator[ProbeResult]:
    """Guessing a password until the sign-in locks; SQL injection in the e-mail."""
    client = httpx.Client(base_url=str(ctx.admin.base_url), timeout=ctx.admin.timeout, follow_redirects=False)
    response = _login(client, "' OR '1'='1' --", "x' OR '1'='1")
    yield result_row(
        "sql-injection",
        "sign-in with an injected e-mail",
        "/login",
        "401, not signed in",
        f"{status_text(response)}",
        response.status_code == 401 and SESSION_COOKIE not in response.cookies,
    )
    codes: list[int] = []
    for attempt in range(12):
        response = _login(client, ctx.login_email, f"wrong-{attempt}-{secrets.token_hex(4)}")
        codes.append(response.status_code)
        if response.status_code == 429:
            break
    yield result_row(
        "brute-force",
        "wrong passwords until locked",
        "/login",
        "429 within 11 tries",
        f"{len(codes)} tries, last HTTP {codes[-1]}",
        codes[-1] == 429,
    )
    response = _login(client, ctx.login_email, ctx.login_password)
    yield result_row(
        "brute-force",
        "right password while locked",
        "/login",
        "429, not signed in",
        status_text(response),
        response.status_code == 429 and SESSION_COOKIE not in response.cookies,
    )
    client.close()


def headers(ctx: Context) -> Iterator[ProbeResult]:
    """Security headers on pages, API answers and errors; cookie flags."""
    page, api, error = (
        ctx.anonymous.get("/login"),
        ctx.admin.get("/api/students"),
        ctx.admin.get("/api/nothing-here"),
    )
    csp = page.headers.get("content-security-policy", "")
    script_src = next((d for d in csp.split(";") if d.strip().startswith(("script-src", "default-src"))), "")
    checks: list[tuple[str, httpx.Response, str, Any]] = [
        (
            "Content-Security-Policy without unsafe-inline",
            page,
            "present, no 'unsafe-inline'",
            bool(csp) and "unsafe-inline" not in script_src,
        ),
        (
            "X-Content-Type-Options on a page",
            page,
            "nosniff",
            page.headers.get("x-content-type-options") == "nosniff",
        ),
        (
            "framing refused",
            page,
            "X-Frame-Options DENY or frame-ancestors 'none'",
            page.headers.get("x-frame-options", "").upper() == "DENY" or "frame-ancestors 'none'" in csp,
        ),
        ("Referrer-Policy on a page", page, "present", bool(page.headers.get("referrer-policy"))),
        (
            "X-Content-Type-Options on the API",
            api,
            "nosniff",
            api.headers.get("x-content-type-options") == "nosniff",
        ),
        (
            "headers on an error answer",
            error,
            "404 with nosniff",
            error.status_code == 404 and error.headers.get("x-content-type-options") == "nosniff",
        ),
    ]
    for label, response, expected, ok in checks:
        yield result_row(
            "headers", label, str(response.url.path), expected, "ok" if ok else "missing or weak", bool(ok)
        )
    client = httpx.Client(base_url=str(ctx.admin.base_url), timeout=ctx.admin.timeout, follow_redirects=False)
    response = _login(client, ctx.teacher_email, "no-password-set")  # a failed sign-in issues no session
    cookie = next((c for c in page.headers.get_list("set-cookie")), "")
    yield result_row(
        "headers",
        "sign-in form cookie is HttpOnly and SameSite",
        "/login",
        "HttpOnly; SameSite",
        "ok" if "httponly" in cookie.lower() and "samesite" in cookie.lower() else "missing",
        "httponly" in cookie.lower() and "samesite" in cookie.lower(),
    )
    yield result_row(
        "headers",
        "no session for a failed sign-in",
        "/login",
        "no session cookie",
        "none" if SESSION_COOKIE not in response.cookies else "issued",
        SESSION_COOKIE not in response.cookies,
    )
    client.close()
