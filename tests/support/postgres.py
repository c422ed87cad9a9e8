"""A throw-away PostgreSQL 15 server for tests and benchmarks.

``PostgresServer`` runs ``initdb`` in a temporary folder and starts ``postgres`` on 127.0.0.1 with
a random free port (the Unix socket lives in the same folder, so nothing clashes with another
server on the machine).  ``initdb`` refuses to run as root, so when we are root every server
command runs as the ``postgres`` system user through ``runuser``; the folder is handed to that
user.  Authentication is ``trust`` on loopback only: the server exists for one test session.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

#: where Debian puts the PostgreSQL 15 server binaries (override with MYKEY_PG_BINDIR)
DEFAULT_BINDIR = Path("/usr/lib/postgresql/15/bin")
SYSTEM_USER = "postgres"
SUPERUSER = "postgres"


class PostgresUnavailableError(RuntimeError):
    """The PostgreSQL server binaries are missing or the server would not start."""


def find_bindir() -> Path:
    """Return the folder holding ``initdb``, ``pg_ctl`` and ``pgbench``, or raise clearly."""
    candidates = []
    if env := os.environ.get("MYKEY_PG_BINDIR"):
        candidates.append(Path(env))
    candidates.append(DEFAULT_BINDIR)
    candidates.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True))
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise PostgresUnavailableError(
        "PostgreSQL のサーバーが見つかりません (initdb/pg_ctl)。`make test` が導入します。"
        " / PostgreSQL server binaries not found (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); install postgresql-15 or set MYKEY_PG_BINDIR."
    )


def free_port() -> int:
    """Ask the kernel for a free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """One PostgreSQL server in its own temporary folder; ``start()`` then ``stop()``."""

    def __init__(self, bindir: Path | None = None, max_connections: int = 200) -> None:
        self.bindir = bindir or find_bindir()
        self.max_connections = max_connections
        self.port = 0
        self.base: Path | None = None
        self._as_postgres = os.geteuid() == 0

    @property
    def datadir(self) -> Path:
        """The cluster's data directory."""
        assert self.base is not None, "server not started"
        return self.base / "data"

    @property
    def socket_dir(self) -> Path:
        """The folder holding the server's Unix socket."""
        assert self.base is not None, "server not started"
        return self.base

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / program), *args]
        if self._as_postgres:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PostgresUnavailableError(
                f"PostgreSQL の {program} が失敗しました / {program} failed "
                f"(exit {result.returncode}): {result.stderr.strip() or result.stdout.strip()}"
            )
        return result

    def start(self) -> PostgresServer:
        """Create the cluster and start the server; returns ``self``."""
        self.base = Path(tempfile.mkdtemp(prefix="mykey-pg-"))
        if self._as_postgres:
            user = pwd.getpwnam(SYSTEM_USER)
            os.chown(self.base, user.pw_uid, user.pw_gid)
        try:
            self._run(
                "initdb",
                "-D",
                str(self.datadir),
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            )
            self._start_on_free_port()
        except BaseException:
            self._remove_folder()
            raise
        log.info("PostgreSQL started on 127.0.0.1:%d in %s", self.port, self.base)
        return self

    def _start_on_free_port(self, attempts: int = 5) -> None:
        last_error: PostgresUnavailableError | None = None
        for _ in range(attempts):
            self.port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socket_dir}"
                f" -c max_connections={self.max_connections}"
            )
            try:
                self._run(
                    "pg_ctl",
                    "start",
                    "-D",
                    str(self.datadir),
                    "-w",
                    "-t",
                    "60",
                    "-l",
                    str(self.base / "server.log") if self.base else "server.log",
                    "-o",
                    options,
                )
                return
            except PostgresUnavailableError as error:  # most likely the port was taken meanwhile
                last_error = error
        assert last_error is not None
        raise last_error

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder."""
        if self.base is None:
            return
        with contextlib.suppress(PostgresUnavailableError):
            self._run("pg_ctl", "stop", "-D", str(self.datadir), "-m", "fast", "-w")
        self._remove_folder()

    def _remove_folder(self) -> None:
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- databases -----------------------------------------------------------------------------

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq connection string (for psycopg and pgbench)."""
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={dbname}"

    def url(self, dbname: str) -> str:
        """A SQLAlchemy URL for ``dbname`` using the psycopg 3 driver."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str | None = None) -> str:
        """Create a new empty database and return its SQLAlchemy URL."""
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing any connection still open to it."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def pgbench(self, *args: str) -> str:
        """Run ``pgbench`` against this server and return its standard output."""
        command = [
            str(self.bindir / "pgbench"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            *args,
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PostgresUnavailableError(f"pgbench failed: {result.stderr.strip()}")
        return result.stdout
