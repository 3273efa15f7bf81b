"""API keys, the bootstrap key, the API rate limit, unsafe settings, and the account commands."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from api.support import seed_course
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from typer.testing import CliRunner

from student_success.api import create_app, ratelimit
from student_success.cli.main import app as cli
from student_success.config import Settings, settings_problem
from student_success.db.engine import make_engine, session_scope
from student_success.db.models import ApiKey, Course, User
from student_success.services import accounts

from .conftest import PASSWORD, Account


def _key_row(settings: Settings, prefix: str) -> ApiKey:
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            return session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).one()
    finally:
        engine.dispose()


def test_a_key_is_stored_as_its_hash_works_updates_last_used_and_can_be_revoked(
    client: TestClient, settings: Settings, make_user: Callable[..., Account]
) -> None:
    user = make_user("counsellor@school.example", role="counsellor")
    prefix = user.key.split("_")[0] + "_" + user.key.split("_")[1]
    row = _key_row(settings, prefix)
    assert row.key_hash == hashlib.sha256(user.key.encode()).hexdigest()
    assert user.key not in (row.key_hash, row.prefix) and len(user.key) > 40
    assert row.last_used_at is None
    assert client.get("/api/students", headers=user.bearer).json()["count"] == 0
    first_use = _key_row(settings, prefix).last_used_at
    assert first_use is not None
    client.get("/api/students", headers=user.bearer)
    assert _key_row(settings, prefix).last_used_at == first_use  # at most one write a minute
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        later = first_use + timedelta(minutes=2)
        assert accounts.authenticate_api_key(session, user.key, now=later) is not None
    with session_scope(engine) as session:
        assert session.scalars(select(ApiKey.last_used_at)).one() == later
        accounts.revoke_api_key(session, prefix)
    engine.dispose()
    refused = client.get("/api/students", headers=user.bearer)
    assert refused.status_code == 401


def test_the_api_rate_limit_answers_429_with_retry_after(
    settings: Settings, make_user: Callable[..., Account]
) -> None:
    user = make_user("admin@school.example")
    app = create_app(settings.model_copy(update={"api_rate_limit_per_minute": 3}))
    with TestClient(app) as client:
        codes = [client.get("/api/models", headers=user.bearer).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.get("/api/models", headers=user.bearer)
        assert limited.json() == {"detail": "too many requests: at most 3 a minute"}
        assert limited.headers["retry-after"] == "20"
        assert client.get("/health").status_code in (200, 503)  # not an API route: not limited


REDIS_URL = "redis://127.0.0.1:6379/0"


def test_with_redis_the_limit_is_shared_by_every_worker(
    settings: Settings, make_user: Callable[..., Account]
) -> None:
    counter = redis.Redis.from_url(REDIS_URL)
    try:
        counter.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("needs Redis at 127.0.0.1:6379 (CI starts it)")
    for name in counter.scan_iter(f"{ratelimit.KEY_PREFIX}:*"):
        counter.delete(name)
    left = ratelimit.WINDOW_S - time.time() % ratelimit.WINDOW_S
    if left < 5:  # all requests in one counting window
        time.sleep(left + 0.1)
    user = make_user("admin@school.example")
    shared = settings.model_copy(update={"api_rate_limit_per_minute": 3, "redis_url": REDIS_URL})
    with TestClient(create_app(shared)) as worker_a, TestClient(create_app(shared)) as worker_b:
        codes = [
            worker_a.get("/api/models", headers=user.bearer).status_code,
            worker_b.get("/api/models", headers=user.bearer).status_code,
            worker_a.get("/api/models", headers=user.bearer).status_code,
            worker_b.get("/api/models", headers=user.bearer).status_code,
        ]
        assert codes == [200, 200, 200, 429]
        assert 1 <= int(worker_b.get("/api/models", headers=user.bearer).headers["retry-after"]) <= 60
    keys = [k.decode() for k in counter.scan_iter(f"{ratelimit.KEY_PREFIX}:*")]
    assert len(keys) == 1 and "admin" not in keys[0]  # callers are hashed, never named
    assert int(counter.get(keys[0]) or 0) == 5
    counter.delete(keys[0])


@pytest.mark.parametrize("bad", ["", "change-me", "your-secure-api-key", "secret", "short-key"])
def test_production_refuses_empty_or_default_keys(bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(environment="production", secret_key="s" * 40, mvp_api_key=bad)
    assert settings_problem(caught.value) == (
        "MVP_API_KEY must be set to a random value of at least 16 characters when ENVIRONMENT=production "
        "(empty or default values are refused); "
        'e.g. python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
    )


def test_development_runs_without_keys_and_makes_a_secret() -> None:
    settings = Settings(environment="development", mvp_api_key=None, secret_key=None)
    assert settings.mvp_api_key is None
    assert settings.secret_key is not None and len(settings.secret_key.get_secret_value()) >= 32
    ok = Settings(environment="production", secret_key="k" * 32, mvp_api_key="m" * 32)
    assert ok.mvp_api_key is not None


def test_the_commands_create_list_disable_users_and_keys(settings: Settings) -> None:
    runner = CliRunner()
    env = {"DATABASE_URL": settings.database_url}
    made = runner.invoke(
        cli, ["users", "create", "T@School.example", "--role", "teacher", "--password-stdin"],
        input=PASSWORD + "\n", env=env,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert made.output.startswith("created teacher t@school.example (id ")
    bad = runner.invoke(cli, ["users", "create", "x@school.example", "--role", "janitor"], env=env)
    assert bad.exit_code == 1
    assert "error: user, column 'role': role must be one of admin, counsellor, teacher, not 'janitor'" in (
        bad.output
    )
    short = runner.invoke(
        cli,
        ["users", "create", "y@school.example", "--role", "admin", "--password-stdin"],
        input="short\n",
        env=env,
    )
    assert short.exit_code == 1
    twice = runner.invoke(
        cli, ["users", "create", "t@school.example", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n", env=env,
    )  # fmt: skip
    assert twice.exit_code == 1 and "exists already" in twice.output
    listed = runner.invoke(cli, ["users", "list"], env=env)
    assert listed.output == "t@school.example\tteacher\tactive\tsections -\n"
    key = runner.invoke(cli, ["api-keys", "create", "t@school.example", "--name", "sync"], env=env)
    assert key.exit_code == 0
    secret = key.stdout.splitlines()[0]
    prefix = "_".join(secret.split("_")[:2])
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/students", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
        revoked = runner.invoke(cli, ["api-keys", "revoke", prefix], env=env)
        assert revoked.output == f"revoked API key {prefix}\n"
        assert client.get("/api/students", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert runner.invoke(cli, ["api-keys", "revoke", "ssk_nothing"], env=env).exit_code == 1
    disabled = runner.invoke(cli, ["users", "disable", "t@school.example"], env=env)
    assert disabled.output == "disabled t@school.example\n"
    assert (
        runner.invoke(cli, ["users", "list"], env=env).output
        == "t@school.example\tteacher\tdisabled\tsections -\n"
    )
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        user = session.scalars(select(User)).one()
        assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
    engine.dispose()


def test_the_commands_make_schools_and_a_school_wide_counsellor(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    with session_scope(engine) as session:
        seed_course(session, [("a1", "Ada", "A", 0.9)])
        seed_course(session, [("c1", "Cal", "C", 0.4)], course="CHEM_201")
        courses = {c.external_id: c.id for c in session.scalars(select(Course))}
    engine.dispose()
    runner = CliRunner()
    env = {"DATABASE_URL": settings.database_url}

    made = runner.invoke(
        cli, ["schools", "create", "North High", "--course", str(courses["BIO_101"])], env=env
    )
    assert made.output.startswith("created school ") and made.output.endswith(" with 1 course\n"), made.output
    school_id = made.output.split()[2]
    again = runner.invoke(cli, ["schools", "create", "North High"], env=env)
    assert (again.exit_code, again.output) == (1, "error: a school named 'North High' exists already\n")
    unknown = runner.invoke(cli, ["schools", "add-courses", school_id, "999999"], env=env)
    assert unknown.exit_code == 1 and "no course with id 999999" in unknown.output
    added = runner.invoke(cli, ["schools", "add-courses", school_id, str(courses["CHEM_201"])], env=env)
    assert added.output == f"school {school_id} now runs 1 more course\n"
    assert runner.invoke(cli, ["schools", "list"], env=env).output == f"{school_id}\tNorth High\t2 courses\n"
    counsellor = runner.invoke(
        cli, ["users", "create", "n@school.example", "--role", "counsellor", "--school", school_id,
              "--no-password"], env=env,
    )  # fmt: skip
    assert counsellor.exit_code == 0, counsellor.output
    listed = runner.invoke(cli, ["users", "list"], env=env).output
    assert listed == f"n@school.example\tcounsellor\tactive\tcaseload of 0 students, school {school_id}\n"
