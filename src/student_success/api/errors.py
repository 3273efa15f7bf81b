"""Domain exceptions mapped to HTTP once, so every error body is ``{"detail": ...}``."""

from __future__ import annotations

import dataclasses
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from student_success.errors import Conflict, NotFound, StudentSuccessError, ValidationFailed
from student_success.services.imports import NoActiveModel

log = logging.getLogger(__name__)


def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


def _conflict(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=409)


def _validation_failed(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, ValidationFailed):  # registered for this class only
        return _unexpected(_request, exc)
    errors = [dataclasses.asdict(e) for e in exc.errors]
    first = f": {exc.errors[0]}" if exc.errors else ""
    detail = f"{len(errors)} problem(s) in the input{first}"
    return JSONResponse({"detail": detail, "errors": errors}, status_code=422)


def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=400)


def _no_model(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=503)


def _integrity_error(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("integrity error: %s", exc)
    return JSONResponse(
        {"detail": "the change conflicts with data stored at the same time; reload and try again"},
        status_code=409,
    )


def _number_out_of_range(_request: Request, _exc: Exception) -> JSONResponse:
    # SQLite stores 64-bit integers; a larger id in a path or query can match nothing
    return JSONResponse({"detail": "a number in the request is out of range"}, status_code=422)


def _value_not_storable(_request: Request, exc: Exception) -> JSONResponse:
    # PostgreSQL refuses what SQLite takes: integers beyond 32/64 bits, NUL characters in text
    log.warning("value refused by the database: %s", getattr(exc, "orig", exc))
    return JSONResponse(
        {"detail": "a value in the request is out of range or has characters that cannot be stored"},
        status_code=422,
    )


def _database_down(_request: Request, exc: Exception) -> JSONResponse:
    log.error("database error: %s", exc)
    return JSONResponse({"detail": "the database is unavailable; see GET /health"}, status_code=503)


def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse({"detail": "internal error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping (the most specific class of an exception wins)."""
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(ValidationFailed, _validation_failed)
    app.add_exception_handler(StudentSuccessError, _domain_error)
    app.add_exception_handler(NoActiveModel, _no_model)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(OverflowError, _number_out_of_range)
    app.add_exception_handler(DataError, _value_not_storable)
    app.add_exception_handler(Exception, _unexpected)
