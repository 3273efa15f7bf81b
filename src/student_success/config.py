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


def get_settings() -> Settings:
    """Build the settings from the environment."""
    return Settings()
