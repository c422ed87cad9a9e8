"""What every operator command shares: the ``--db`` option, a connection, and error output."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from server_stub.admin.errors import AdminError
from server_stub.db.engine import make_engine
from server_stub.errors import LedgerError

log = logging.getLogger(__name__)

#: environment variable that names the ledger database when --db is not given
DB_ENV = "MYKEY_LEDGER_DATABASE_URL"


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--db URL`` (default: $MYKEY_LEDGER_DATABASE_URL, else the server's default)."""
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="ledger database URL, e.g. sqlite:///ledger.db or postgresql+psycopg://user@host/db"
        " (default: $MYKEY_LEDGER_DATABASE_URL or the server's default)",
    )


def number(text: str) -> int:
    """argparse type: a whole number from 0 to 2**31 - 1 (what the ledger's columns hold)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**31:
        raise argparse.ArgumentTypeError(
            f"0 以上の整数を指定してください / expected a whole number >= 0: {text!r}"
        )
    return value


def resolve_db_url(url: str | None) -> str:
    """The database URL to use: the option, the environment, or the server's default."""
    if url:
        return url
    if env := os.environ.get(DB_ENV):
        return env
    from server_stub.settings import default_database_url

    return default_database_url()


@contextmanager
def connection(url: str | None) -> Iterator[Connection]:
    """A read connection to the ledger; the engine is disposed afterwards."""
    engine = make_engine(resolve_db_url(url))
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


@contextmanager
def transaction(url: str | None) -> Iterator[Connection]:
    """One database transaction: committed when the block ends, rolled back on any error."""
    engine = make_engine(resolve_db_url(url))
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def run_safely(action: Callable[[], int]) -> int:
    """Run a command body; known failures become a bilingual message and exit status 1."""
    try:
        return action()
    except AdminError as error:
        _fail(str(error))
    except LedgerError as error:
        log.info("ledger refused: %s", error)
        _fail(f"{error.title_ja} / {error.title_en} [{error.code}]" + _detail(error.detail))
    except (OperationalError, ProgrammingError) as error:
        log.debug("database error", exc_info=True)
        _fail(
            "台帳データベースに接続できないか、初期化されていません"
            " (`mykey ledger migrate --db URL` を実行してください)"
            " / cannot use the ledger database; is it migrated? "
            + str(error.orig or error).splitlines()[0]
        )
    except DBAPIError as error:
        log.debug("database error", exc_info=True)
        _fail(
            "データベースが処理を拒否しました。何も変更していません"
            " / the database refused; nothing was changed: "
            + str(error.orig or error).splitlines()[0]
        )
    return 1


def _detail(detail: str) -> str:
    return f"\n  {detail}" if detail else ""


def _fail(message: str) -> None:
    sys.stderr.write(message.rstrip() + "\n")


def out(text: str) -> None:
    """Write a line of command output."""
    sys.stdout.write(text.rstrip("\n") + "\n")
