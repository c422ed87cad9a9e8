"""The terminal database: one SQLite file (WAL, ``synchronous=FULL``), its versioned schema, and
the connection every store method shares under one lock.

The schema version is ``PRAGMA user_version``; :data:`MIGRATIONS` lists the steps from an empty
file, each applied in its own transaction together with its version number. A file newer than
this code is refused rather than guessed at.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from terminal.errors import StoreError

if TYPE_CHECKING:  # imported on the first write: a window starts without it
    import sqlite_utils

_V1 = """
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    tx_json TEXT NOT NULL,
    digest BLOB NOT NULL,
    state TEXT NOT NULL,
    decision TEXT NOT NULL,
    offline INTEGER NOT NULL,
    mykey_id TEXT,
    program_id INTEGER,
    points INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    result_json TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX outbox_state ON outbox (state, seq);
CREATE INDEX outbox_created ON outbox (created_at);
CREATE INDEX outbox_card ON outbox (mykey_id, kind, decision, created_at);
CREATE INDEX outbox_card_program ON outbox (mykey_id, program_id, state);
CREATE TABLE taps (
    event TEXT NOT NULL,
    card_fingerprint TEXT NOT NULL,
    grant_program_id INTEGER NOT NULL,
    tx_id TEXT NOT NULL REFERENCES outbox (id),
    PRIMARY KEY (event, card_fingerprint)
);
CREATE TABLE sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cursor TEXT,
    last_pull_server_time TEXT,
    last_success_at TEXT,
    last_error TEXT,
    last_error_at TEXT,
    revocation_json TEXT,
    revocation_received_at TEXT
);
INSERT INTO sync_state (id) VALUES (1);
CREATE TABLE settings (key TEXT PRIMARY KEY, value_json TEXT NOT NULL);
"""

_V2 = """
CREATE TABLE cards (
    mykey_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    version TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE card_links (
    fingerprint TEXT PRIMARY KEY,
    issuer TEXT NOT NULL,
    serial TEXT NOT NULL,
    mykey_id TEXT NOT NULL,
    certificate BLOB
);
CREATE INDEX card_links_mykey ON card_links (mykey_id);
CREATE TABLE balances (
    mykey_id TEXT NOT NULL,
    program_id INTEGER NOT NULL,
    points INTEGER NOT NULL,
    overdraft INTEGER NOT NULL,
    balance_json TEXT NOT NULL,
    PRIMARY KEY (mykey_id, program_id)
);
CREATE TABLE service_ids (mykey_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL);
CREATE TABLE programs (program_id INTEGER PRIMARY KEY, settings_json TEXT NOT NULL);
CREATE TABLE voucher_keys (
    terminal_id TEXT PRIMARY KEY,
    business_id TEXT NOT NULL,
    public_key TEXT NOT NULL
);
CREATE TABLE redemptions (
    voucher_number TEXT PRIMARY KEY,
    business_id TEXT NOT NULL,
    redeemed_at TEXT NOT NULL
);
"""

_V3 = """
CREATE TABLE grant_programs (grant_program_id INTEGER PRIMARY KEY, info_json TEXT NOT NULL);
ALTER TABLE sync_state ADD COLUMN business_json TEXT
"""

#: Schema steps in order; the file's version is how many of them it has had.
MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3)
SCHEMA_VERSION = len(MIGRATIONS)


def iso(moment: datetime) -> str:
    """Fixed-width ISO text in UTC (sorts as time sorts); naive datetimes are refused."""
    if moment.tzinfo is None:
        raise ValueError("datetime must carry a time zone")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_iso(text: str | None) -> datetime | None:
    """The aware UTC datetime of :func:`iso` text (None stays None)."""
    return None if text is None else datetime.fromisoformat(text)


def now_iso() -> str:
    """The local clock, as :func:`iso` text."""
    return iso(datetime.now(UTC))


def schema_version(conn: sqlite3.Connection) -> int:
    """The file's ``PRAGMA user_version``."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, *, upto: int = SCHEMA_VERSION) -> None:
    """Apply the missing steps up to version ``upto``, each in one transaction."""
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"database schema version {current} is newer than this program knows "
            f"({SCHEMA_VERSION}); update the terminal software, do not downgrade it"
        )
    for version in range(current + 1, upto + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # statement by statement: executescript() would commit before the version is set
            for statement in MIGRATIONS[version - 1].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def connect(path: Path) -> sqlite3.Connection:
    """A connection to ``path`` (folders made), set for durability and sharing across threads.

    Autocommit mode (``isolation_level=None``): transactions are opened explicitly.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
    except sqlite3.Error:
        conn.close()
        raise
    return conn


class StoreBase:
    """The shared connection, lock and transaction helpers of :class:`TerminalStore`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._database: sqlite_utils.Database | None = None
        self._lock = threading.RLock()

    @property
    def _db(self) -> sqlite_utils.Database:
        """The sqlite-utils view of the connection, made on first use (its import is slow and
        happens outside the lock, so reads go on meanwhile)."""
        database = self._database
        if database is None:
            import sqlite_utils

            with self._lock:
                if self._database is None:
                    self._database = sqlite_utils.Database(self._conn)
                database = self._database
        return database

    @classmethod
    def open(cls, path: Path) -> Self:
        """Open (or create) the database at ``path`` and bring its schema up to date.

        :class:`StoreError` when the file cannot be opened or is newer than this code.
        """
        try:
            conn = connect(path)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open {path}: {exc}") from exc
        try:
            migrate(conn)
        except StoreError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"cannot migrate {path}: {exc}") from exc
        return cls(conn)

    def close(self) -> None:
        """Close the connection (everything written is already on disk)."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite_utils.Database]:
        """One SQLite transaction under the lock; any error rolls it back as StoreError.

        TerminalErrors raised inside (e.g. AlreadyTappedError) roll back and pass unchanged.
        """
        db, conn = self._db, self._conn  # the sqlite-utils view is made before the transaction
        with self._lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot begin a transaction: {exc}") from exc
            try:
                yield db
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(f"write failed: {exc}") from exc
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """All rows of a read (or of a statement inside ``_write``), keyed by column name."""
        with self._lock:
            try:
                cursor = self._conn.execute(sql, tuple(params))
                names = [column[0] for column in cursor.description]
                return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
            except sqlite3.Error as exc:
                raise StoreError(f"read failed: {exc}") from exc

    def _one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self._query(sql, params)
        return rows[0] if rows else None
