"""One validated Settings object, built at the edge (env / .env) and passed down."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


DEVELOPMENT_ENVIRONMENTS = frozenset({"development", "test"})
UNSAFE_SECRETS = frozenset(
    {"", "change-me", "changeme", "change_me", "your-secure-api-key", "secret", "default", "password"}
)
MIN_SECRET_LENGTH = 16


class Settings(BaseSettings):
    """Runtime settings. Every field can be set from the environment (upper-case name) or ``.env``."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: str = Field(default="development", description="development, test or production")
    models_dir: Path = Field(default=PROJECT_ROOT / "results" / "models", description="model registry folder")
    datasets_dir: Path = Field(
        default=PROJECT_ROOT.parent / "shared" / "datasets", description="public training data (OULAD, UCI)"
    )
    logs_dir: Path = Field(default=PROJECT_ROOT / "logs", description="log folder")
    # risk levels: probability at or above `high_risk_threshold` -> "needs support now"
    high_risk_threshold: float = Field(
        default=0.6, ge=0.0, le=1.0, description="probability from which a student needs support now"
    )
    medium_risk_threshold: float = Field(
        default=0.35, ge=0.0, le=1.0, description="probability from which a student is one to keep an eye on"
    )
    # sqlite:///path, postgresql://user@host/db (rewritten to psycopg 3) or postgresql+psycopg://…
    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'mvp_data.db'}",
        description="SQLAlchemy database URL (env DATABASE_URL)",
    )
    # web server (env HOST / PORT); loopback unless the operator opens it up on purpose
    host: str = Field(default="127.0.0.1", description="address the web server listens on (env HOST)")
    port: int = Field(default=8001, ge=1, le=65535, description="port of the web UI and API (env PORT)")
    worker_threads: int = Field(
        default=4, ge=1, le=200, description="threads serving the synchronous routes in each process"
    )
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1, description="largest accepted upload")
    max_upload_rows: int = Field(default=200_000, ge=1, description="most lines accepted in an uploaded CSV")
    raw_import_retention_days: int | None = Field(
        default=None, ge=1, description="purge imports' row errors after N days; unset keeps them"
    )
    mvp_api_key: SecretStr | None = Field(
        default=None, description="API key of the guide's clients (env MVP_API_KEY)"
    )
    # accounts and security (api/auth.py, services/accounts.py)
    secret_key: SecretStr | None = Field(default=None, description="signs CSRF tokens (env SECRET_KEY)")
    session_hours: float = Field(default=12.0, gt=0, description="how long a sign-in lasts")
    login_max_failures: int = Field(default=5, ge=1, description="failed sign-ins per e-mail before a lock")
    login_max_failures_per_address: int = Field(default=20, ge=1, description="the same per client address")
    login_lockout_minutes: float = Field(default=15.0, gt=0, description="failures counted / lock length")
    api_rate_limit_per_minute: int = Field(default=600, ge=0, description="API requests per caller; 0 = off")
    trusted_proxy: bool = Field(default=False, description="trust X-Forwarded-Proto from a reverse proxy")

    @model_validator(mode="after")
    def _refuse_unsafe_secrets(self) -> Settings:
        """Outside development and test, refuse empty or well-known keys; in development make do."""
        if self.environment in DEVELOPMENT_ENVIRONMENTS:
            if self.secret_key is None or not self.secret_key.get_secret_value():
                # a fresh secret per process: sign-ins do not survive a restart, which is fine locally
                self.secret_key = SecretStr(secrets.token_urlsafe(32))
            return self
        for name in ("secret_key", "mvp_api_key"):
            value: SecretStr | None = getattr(self, name)
            text = "" if value is None else value.get_secret_value().strip()
            if text.lower() in UNSAFE_SECRETS or len(text) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"{name.upper()} must be set to a random value of at least {MIN_SECRET_LENGTH} "
                    f"characters when ENVIRONMENT={self.environment} (empty or default values are refused); "
                    'e.g. python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
                )
        return self

    # health monitor (scripts/system_health_monitor.py): the maintenance guide's KPIs, env-overridable
    health_api_ms: float = Field(default=500.0, gt=0, description="API response time KPI (env HEALTH_API_MS)")
    health_prediction_ms: float = Field(default=100.0, gt=0, description="model prediction time KPI")
    health_db_ms: float = Field(default=50.0, gt=0, description="database SELECT 1 time KPI")
    health_memory_percent: float = Field(default=80.0, gt=0, description="memory usage KPI (percent)")
    health_disk_percent: float = Field(default=85.0, gt=0, description="disk usage KPI (percent)")
    health_cpu_percent: float = Field(default=70.0, gt=0, description="average CPU usage KPI (percent)")
    health_cpu_interval_s: float = Field(default=1.0, gt=0, description="CPU sampling interval (seconds)")
    health_log_errors_max: int = Field(default=0, ge=0, description="ERROR/CRITICAL log lines tolerated")
    health_http_timeout_s: float = Field(default=5.0, gt=0, description="timeout of the monitor's requests")
    # alert e-mail (health monitor --email); unset SMTP_HOST or ALERT_EMAIL_TO means "not configured"
    smtp_host: str | None = Field(default=None, description="SMTP server (env SMTP_HOST)")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP port (env SMTP_PORT)")
    smtp_from: str = Field(default="student-success@localhost", description="sender address")
    alert_email_to: str | None = Field(default=None, description="recipients, comma-separated")
    smtp_starttls: bool = Field(default=False, description="upgrade the SMTP connection with STARTTLS")
    smtp_username: str | None = Field(default=None, description="SMTP login, if the server needs one")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password")
    # notifications (rules, e-mail outbox, real-time pages); see services/notifications
    public_base_url: str = Field(default="http://localhost:8001", description="base of links in e-mails")
    redis_url: str | None = Field(default=None, description="Redis for cross-worker events (env REDIS_URL)")
    notification_interval_s: float = Field(default=60.0, ge=0, description="evaluator period; 0 = off")
    notification_window_hours: float = Field(default=24.0, gt=0, description="one alert per rule per window")
    notification_risk_rise_points: float = Field(default=15.0, gt=0, le=100, description="risk rise alert")
    notification_stale_days: int = Field(default=14, ge=1, description="open plan without update alert")
    notification_digest_hour: int = Field(default=7, ge=0, le=23, description="daily digest hour (UTC)")
    notification_retry_base_s: float = Field(default=30.0, gt=0, description="first e-mail retry delay")
    notification_retry_max_s: float = Field(default=3600.0, gt=0, description="longest e-mail retry delay")
    notification_max_attempts: int = Field(default=10, ge=1, description="e-mail attempts before giving up")
    notification_outbox_max_age_s: float = Field(default=900.0, gt=0, description="health: oldest pending")
    notification_failures_max: int = Field(default=5, ge=1, description="health: failed attempts in a row")


def settings_problem(exc: ValidationError) -> str:
    """A settings error in one line, for the start commands (no traceback, no input values echoed)."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()))
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        problems.append(f"{where.upper()}: {message}" if where else message)
    return "; ".join(problems) or str(exc).splitlines()[0]


def get_settings() -> Settings:
    """Build the settings from the environment."""
    return Settings()
