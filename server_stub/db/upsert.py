"""``insert_ignore``: insert a row unless its key exists (race-free on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

_statements: dict[tuple[str, str], Any] = {}


def _statement(dialect: str, table: Table) -> Any:
    key = (dialect, table.name)
    statement = _statements.get(key)
    if statement is None:
        pk = list(table.primary_key.columns)
        if dialect == "postgresql":
            statement = postgresql.insert(table).on_conflict_do_nothing().returning(*pk)
        elif dialect == "sqlite":
            statement = sqlite.insert(table).on_conflict_do_nothing().returning(*pk)
        else:  # pragma: no cover - only the two supported databases
            raise NotImplementedError(dialect)
        _statements[key] = statement
    return statement


def insert_ignore(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when the row was inserted."""
    # RETURNING says reliably whether a row went in (rowcount is not reliable for this).
    return conn.execute(_statement(conn.dialect.name, table), values).first() is not None
