"""Root fixtures: a real PostgreSQL 15 server for the tests marked ``postgres``, migrated ledger
databases on SQLite and on that server (tests/ledger and tests/ledger_ops).

The server is started lazily (only when a test asks for it), once per session, on 127.0.0.1 with
a random free port in a temporary folder, and stopped at the end of the session.  It never skips:
when PostgreSQL is missing the tests fail with a message saying so (CI installs it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from server_stub.db.engine import make_engine
from server_stub.db.migrate import migrate
from tests.support.postgres import PostgresServer, PostgresUnavailableError

# The GUI tests run headless everywhere (CI has no display); set before Qt is loaded.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (started on first use, stopped at session end)."""
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailableError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """SQLAlchemy URL (``postgresql+psycopg://…``) of an empty database made for this session."""
    return postgres_server.create_database("mykey_session")


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """SQLAlchemy URL of a new empty database for one test; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty ledger database on SQLite or on the real PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        url = str(request.getfixturevalue("fresh_postgres_url"))
    migrate(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on ``db_url``."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()
