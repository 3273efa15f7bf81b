"""Database maintenance: ``VACUUM`` / ``ANALYZE`` (optionally ``REINDEX``) and a table size report.

SQLite: ``VACUUM; ANALYZE;`` (and ``REINDEX;``). PostgreSQL: ``VACUUM ANALYZE;`` (and ``REINDEX
DATABASE <current>``), which cannot run inside a transaction, so they go through an autocommit
connection. Both are safe to repeat and to run while the app serves (SQLite's VACUUM waits for the
write lock; PostgreSQL's plain VACUUM takes no exclusive lock).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from student_success.errors import StudentSuccessError


class MaintenanceError(StudentSuccessError):
    """The database could not be maintained."""


@dataclass(frozen=True)
class TableSize:
    """One table: rows and bytes on disk (table plus its indexes; ``None`` when the database cannot say)."""

    name: str
    rows: int
    total_bytes: int | None


@dataclass
class MaintenanceReport:
    """What one run did and the table sizes after it."""

    database: str
    statements: list[str] = field(default_factory=list)
    seconds: float = 0.0
    database_bytes: int | None = None
    tables: list[TableSize] = field(default_factory=list)


def _quote(engine: Engine, name: str) -> str:
    return engine.dialect.identifier_preparer.quote(name)


def table_sizes(engine: Engine) -> tuple[int | None, list[TableSize]]:
    """The database's size in bytes and every table's rows and bytes, biggest first."""
    names = inspect(engine).get_table_names()
    sizes: dict[str, int | None] = dict.fromkeys(names)
    with engine.connect() as connection:
        # table names come from the database's own catalogue, quoted by the dialect
        rows = {n: int(connection.execute(text(f"SELECT count(*) FROM {_quote(engine, n)}")).scalar_one())  # noqa: S608
                for n in names}  # fmt: skip
        if engine.dialect.name == "postgresql":
            total = connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            result = connection.execute(text(
                "SELECT tablename, "
                "pg_total_relation_size(quote_ident(schemaname) || '.' || quote_ident(tablename)) "
                "FROM pg_tables WHERE schemaname = current_schema()"
            ))  # fmt: skip
            sizes.update({str(name): int(size) for name, size in result})
        else:
            page_size = connection.exec_driver_sql("PRAGMA page_size").scalar_one()
            pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
            total = int(page_size) * int(pages)
            try:  # the dbstat table is optional in SQLite builds
                result = connection.exec_driver_sql(
                    "SELECT coalesce(m.tbl_name, s.name), sum(s.pgsize) FROM dbstat s "
                    "LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY 1"
                )
                sizes.update({str(n): int(b) for n, b in result if n in sizes})
            except SQLAlchemyError:
                pass
    tables = [TableSize(n, rows[n], sizes[n]) for n in names]
    tables.sort(key=lambda t: (-(t.total_bytes or 0), -t.rows, t.name))
    return (int(total) if total is not None else None), tables


def maintain_database(engine: Engine, *, reindex: bool = False) -> MaintenanceReport:
    """Reclaim space and refresh the planner's statistics; return the sizes afterwards.

    Args:
        engine: the database to maintain (the edge's engine).
        reindex: also rebuild every index (the guide's monthly optimisation).

    Raises:
        MaintenanceError: the database refused a statement (for example, it is unreachable).
    """
    started = time.perf_counter()
    report = MaintenanceReport(database=engine.dialect.name)
    try:
        if engine.dialect.name == "postgresql":
            statements = ["VACUUM ANALYZE"]
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                if reindex:
                    name = connection.execute(text("SELECT current_database()")).scalar_one()
                    statements.append(f"REINDEX DATABASE {_quote(engine, str(name))}")
                for statement in statements:
                    connection.execute(text(statement))
        else:
            statements = ["VACUUM", "ANALYZE", *(["REINDEX"] if reindex else [])]
            raw = engine.raw_connection()  # the driver connection is in autocommit mode (see db.engine)
            try:
                for statement in statements:
                    raw.driver_connection.execute(statement)  # type: ignore[union-attr]
            finally:
                raw.close()
        report.statements = statements
        report.database_bytes, report.tables = table_sizes(engine)
    except SQLAlchemyError as exc:
        raise MaintenanceError(f"database maintenance failed: {str(exc).splitlines()[0]}") from exc
    except sqlite3.Error as exc:  # the driver's own errors on the raw connection
        raise MaintenanceError(f"database maintenance failed: {exc}") from exc
    report.seconds = time.perf_counter() - started
    return report
