"""``make_engine(url)``: one SQLAlchemy engine, with SQLite set up for a durable ledger.

SQLite gets WAL, ``synchronous=FULL`` (a committed transfer survives power loss), foreign keys,
a busy timeout, and ``BEGIN IMMEDIATE`` so that writers queue instead of failing on upgrade.
Within one process, the engine's threads also take turns on a lock while they hold a
connection: SQLite admits one writer at a time anyway, and waiting on a lock wakes the next
thread at once, where SQLite's busy handler polls with sleeps of up to 100 ms (a long tail of
latency under concurrent requests).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

BUSY_TIMEOUT_MS = 30_000


class DatabaseDriverMissingError(SystemExit):
    """The database's driver is not installed (the frozen terminal app ships SQLite only).

    A SystemExit: nothing can go on without it, and the interpreter prints the message."""

    def __init__(self, backend: str, module: str | None) -> None:
        super().__init__(
            f"{backend} のドライバー ({module}) がありません。端末アプリの台帳は SQLite のみです。"
            "PostgreSQL の台帳サーバーは Python パッケージから起動してください "
            f"(pip install mykey-terminal)。\n"
            f"No driver ({module}) for {backend}: the installed terminal app keeps its ledger on "
            "SQLite only. Run a PostgreSQL ledger server from the Python package "
            "(pip install mykey-terminal)."
        )


def is_sqlite(engine_or_url: Engine | str) -> bool:
    """True when the URL or engine points at SQLite."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine for ``url`` (SQLite file or PostgreSQL via psycopg 3)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        try:
            return create_engine(url, **kwargs)
        except ModuleNotFoundError as error:
            raise DatabaseDriverMissingError(parsed.get_backend_name(), error.name) from error
    database = parsed.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("timeout", BUSY_TIMEOUT_MS / 1000)
    connect_args.setdefault("check_same_thread", False)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    _take_turns(engine)
    return engine


def _take_turns(engine: Engine) -> None:
    """One connection of ``engine`` in use at a time in this process (after the busy timeout
    a waiter goes ahead anyway and SQLite's own locking decides, as without the lock)."""
    turn = threading.Lock()

    @event.listens_for(engine, "checkout")
    def _on_checkout(_dbapi: object, record: Any, _proxy: object) -> None:
        record.record_info["has_turn"] = turn.acquire(timeout=BUSY_TIMEOUT_MS / 1000)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi: object, record: Any) -> None:
        if record.record_info.pop("has_turn", False):
            turn.release()
