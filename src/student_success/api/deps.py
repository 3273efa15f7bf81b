"""Dependencies shared by the routes: settings, a unit of work per request, the active model."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from student_success.config import Settings
from student_success.db.engine import session_scope
from student_success.db.migrate import upgrade_to_head
from student_success.errors import StudentSuccessError
from student_success.ml.registry import ModelVersion
from student_success.ml.service import load_active_model

log = logging.getLogger(__name__)
_migrate_lock = threading.Lock()


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    """The app's engine."""
    engine: Engine = request.app.state.engine
    return engine


def ensure_migrated(request: Request) -> None:
    """Bring the schema up to date once; retried on the next request when the database was down."""
    state = request.app.state
    if state.migrated:
        return
    with _migrate_lock:
        if state.migrated:
            return
        try:
            upgrade_to_head(state.engine)
        except SQLAlchemyError as exc:
            log.error("database unavailable: %s", exc)
            raise HTTPException(503, "the database is unavailable; see GET /health") from exc
        state.migrated = True


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed when the route succeeds, rolled back when it raises.

    A request that may write takes SQLite's write lock when it begins (``BEGIN IMMEDIATE``; a no-op
    on PostgreSQL): a deferred transaction that reads, then writes after another writer committed,
    fails at once with "database is locked" instead of waiting its turn.
    """
    ensure_migrated(request)
    factory: sessionmaker[Session] = request.app.state.session_factory
    with session_scope(factory) as session:
        if request.method not in READ_METHODS:
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        yield session


def get_model(settings: Annotated[Settings, Depends(get_settings)]) -> ModelVersion:
    """The active model (loaded once per process, reloaded after a retrain activates a new version)."""
    try:
        return load_active_model(settings)
    except StudentSuccessError as exc:
        raise HTTPException(503, f"no usable model: {exc}") from exc


def get_optional_model(settings: Annotated[Settings, Depends(get_settings)]) -> ModelVersion | None:
    """The active model, or ``None`` when there is none yet (a preview works without it)."""
    try:
        return load_active_model(settings)
    except StudentSuccessError:
        return None


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
# scope="function": commit before the response is sent, so a failed commit is never reported as success
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ModelDep = Annotated[ModelVersion, Depends(get_model)]
OptionalModelDep = Annotated[ModelVersion | None, Depends(get_optional_model)]
