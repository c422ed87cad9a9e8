"""Fixed hot-path statements run straight on the DB-API cursor of a SQLAlchemy connection.

SQLAlchemy Core costs some 20 µs per ``execute`` before the database sees the statement; the
ingest path runs a dozen small fixed statements per transaction, so it runs them here instead,
inside the same connection and transaction (the caller's ``engine.begin()`` still commits), with
its per-item savepoint. On PostgreSQL, :func:`run_together` sends several statements in one
round trip (a psycopg pipeline). Driver errors are raised as SQLAlchemy's exception types.

A statement is written once with ``:name`` parameters and given to the driver in its own style
(sqlite3 ``:name``, psycopg ``%(name)s``). Values are bound exactly as SQLAlchemy would bind
them: on SQLite, datetimes, dates and booleans go through SQLAlchemy's own bind processors, so
rows written here read back the same as rows written through Core.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Connection, Date, DateTime
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError

_SQLITE = sqlite.dialect()
_SQLITE_DATETIME = DateTime(timezone=True).dialect_impl(_SQLITE).bind_processor(_SQLITE)
_SQLITE_DATE = Date().dialect_impl(_SQLITE).bind_processor(_SQLITE)
_SQLITE_BOOL = Boolean().dialect_impl(_SQLITE).bind_processor(_SQLITE)
_NAMED = re.compile(r"(?<![:\w]):(\w+)")


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _SQLITE_DATETIME(value) if _SQLITE_DATETIME else value
    if isinstance(value, date):
        return _SQLITE_DATE(value) if _SQLITE_DATE else value
    if isinstance(value, bool):
        return _SQLITE_BOOL(value) if _SQLITE_BOOL else value
    return value


def _wrapped(conn: Connection, text: str, params: Any, error: Exception) -> DBAPIError:
    """The driver's error as SQLAlchemy would raise it (IntegrityError, OperationalError, …),
    so callers (e.g. the deadlock retry of a batch) see the same exception types."""
    wrapped = DBAPIError.instance(text, params, error, conn.dialect.loaded_dbapi.Error)
    return wrapped  # type: ignore[return-value]


class RawStatement:
    """One fixed SQL statement with ``:name`` parameters (no other colons in its text)."""

    def __init__(self, sql: str, *, for_update: bool = False) -> None:
        self.sql = sql
        # SQLite has no row locks (its BEGIN IMMEDIATE serialises writers), as in SQLAlchemy.
        self._by_dialect = {
            "sqlite": sql,
            "postgresql": _NAMED.sub(r"%(\1)s", sql) + (" FOR UPDATE" if for_update else ""),
        }

    def text_for(self, conn: Connection) -> str:
        """The statement's text for this connection's database."""
        return self._by_dialect[conn.dialect.name]

    def _prepare(self, conn: Connection) -> tuple[Any, str, bool]:
        name = conn.dialect.name
        text = self._by_dialect.get(name)
        if text is None:  # pragma: no cover - only the two supported databases
            raise NotImplementedError(name)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        return cursor, text, name == "sqlite"

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Run once; the driver's cursor (fetch from it as needed)."""
        cursor, text, is_sqlite = self._prepare(conn)
        if is_sqlite:
            params = {key: _sqlite_value(value) for key, value in params.items()}
        try:
            cursor.execute(text, params)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(conn, text, params, exc) from exc
        return cursor

    def executemany(self, conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
        """Run once per row of parameters."""
        cursor, text, is_sqlite = self._prepare(conn)
        if is_sqlite:
            rows = [{key: _sqlite_value(value) for key, value in row.items()} for row in rows]
        else:
            rows = list(rows)
        try:
            cursor.executemany(text, rows)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(conn, text, rows, exc) from exc
        cursor.close()

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run once and fetch every row."""
        cursor = self.execute(conn, params)
        rows = list(cursor.fetchall())
        cursor.close()
        return rows

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Run once and fetch the first row (or None)."""
        cursor = self.execute(conn, params)
        row = cursor.fetchone()
        cursor.close()
        return None if row is None else tuple(row)

    def run(self, conn: Connection, params: Mapping[str, Any]) -> None:
        """Run once, ignoring any result."""
        self.execute(conn, params).close()


def run_together(
    conn: Connection, items: Sequence[tuple[RawStatement, Mapping[str, Any]]]
) -> list[tuple[Any, ...] | None]:
    """Run the statements in order; the first row of each (None when it returns none).

    On PostgreSQL they travel in one pipeline (one round trip); a failing statement raises
    (as SQLAlchemy's error type) and the ones after it are not run."""
    if conn.dialect.name != "postgresql":
        rows: list[tuple[Any, ...] | None] = []
        for statement, params in items:
            cursor = statement.execute(conn, params)
            rows.append(None if cursor.description is None else _first(cursor))
        return rows
    driver = conn.connection.driver_connection
    cursors = []
    try:
        with driver.pipeline():  # type: ignore[union-attr]
            for statement, params in items:
                cursor = driver.cursor()  # type: ignore[union-attr]
                cursor.execute(statement.text_for(conn), params)
                cursors.append(cursor)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _wrapped(conn, "; ".join(s.sql for s, _ in items), None, exc) from exc
    return [None if c.description is None else _first(c) for c in cursors]


def _first(cursor: Any) -> tuple[Any, ...] | None:
    row = cursor.fetchone()
    cursor.close()
    return None if row is None else tuple(row)


_SAVEPOINT = RawStatement("SAVEPOINT ledger_item")
_RELEASE = RawStatement("RELEASE SAVEPOINT ledger_item")
_ROLLBACK_TO = RawStatement("ROLLBACK TO SAVEPOINT ledger_item")
_NO_PARAMS: Mapping[str, Any] = {}


Statements = list[tuple[RawStatement, Mapping[str, Any]]]


class Savepoint:
    """An open savepoint: ``opened`` holds the first row of each statement run with it; closing
    statements may be given to run together with the release."""

    def __init__(self, opened: list[tuple[Any, ...] | None]) -> None:
        self.opened = opened
        self.closing: Statements = []
        self.carry_release: Statements | None = None

    def close_with(self, statement: RawStatement, params: Mapping[str, Any]) -> None:
        """Run ``statement`` just before the release, in the same round trip."""
        self.closing.append((statement, params))

    def release_later(self, carry: Statements) -> None:
        """Do not release when the block ends: append the closing statements and the release
        to ``carry`` instead, for the caller to send with its next round trip (its next
        savepoint's ``before``) or on their own, before the transaction commits."""
        self.carry_release = carry


@contextmanager
def savepoint(
    conn: Connection,
    *opening: tuple[RawStatement, Mapping[str, Any]],
    before: Sequence[tuple[RawStatement, Mapping[str, Any]]] = (),
) -> Iterator[Savepoint]:
    """The block inside its own savepoint: kept when the block ends, undone when it raises.

    Like ``conn.begin_nested()`` without its bookkeeping (SQLAlchemy savepoints may nest
    inside); the ``opening`` statements run right after the savepoint is set, and the
    ``before`` statements (e.g. what a previous savepoint left to run) just before it, all in
    the same round trip.
    """
    opened = run_together(conn, [*before, (_SAVEPOINT, _NO_PARAMS), *opening])[len(before) :]
    point = Savepoint(opened[1:])
    try:
        yield point
    except BaseException:
        run_together(conn, [(_ROLLBACK_TO, _NO_PARAMS), (_RELEASE, _NO_PARAMS)])
        raise
    if point.carry_release is not None:
        point.carry_release += [*point.closing, (_RELEASE, _NO_PARAMS)]
    else:
        run_together(conn, [*point.closing, (_RELEASE, _NO_PARAMS)])
