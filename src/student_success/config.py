"""One validated Settings object, built at the edge (env / .env) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


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
    high_risk_threshold: float = Field(default=0.6, ge=0.0, le=1.0)
    medium_risk_threshold: float = Field(default=0.35, ge=0.0, le=1.0)
    # sqlite:///path, postgresql://user@host/db (rewritten to psycopg 3) or postgresql+psycopg://…
    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'mvp_data.db'}",
        description="SQLAlchemy database URL (env DATABASE_URL)",
    )
    # web server (env HOST / PORT); loopback unless the operator opens it up on purpose
    host: str = Field(default="127.0.0.1", description="address the web server listens on (env HOST)")
    port: int = Field(default=8001, ge=1, le=65535, description="port of the web UI and API (env PORT)")
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1, description="largest accepted upload")
    max_upload_rows: int = Field(default=200_000, ge=1, description="most lines accepted in an uploaded CSV")
    mvp_api_key: SecretStr | None = Field(
        default=None, description="API key of the guide's clients (env MVP_API_KEY)"
    )
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


def get_settings() -> Settings:
    """Build the settings from the environment."""
    return Settings()
