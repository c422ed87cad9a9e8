"""A real ledger server for sync and end-to-end tests, plus terminals enrolled through it.

:class:`LedgerServer` runs the real FastAPI app under uvicorn in a background thread, on a
SQLite database in a temporary folder and a free loopback port. It is seeded with the operator
functions (:mod:`server_stub.operator`): Kawasaki, a street with a shop, a municipal department
and a point program with a grant program. :meth:`LedgerServer.enroll` makes a one-time code and
enrolls a new terminal through ``POST /v1/enroll`` with :func:`sync.client.enroll`, exactly as a
terminal does.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func, literal_column, select

from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from server_stub.api.app import create_app
from server_stub.db.engine import make_engine
from server_stub.db.migrate import migrate
from server_stub.db.schema import transactions
from server_stub.settings import Settings
from sync.client import LedgerClient, enroll
from sync.protocol import (
    CardAuthorisation,
    EnrollResponse,
    Grant,
    PointUse,
    Transaction,
    b64encode,
    uuid7,
)
from tests.support.signing import card_signed

KAWASAKI = "141305"
STREET, SHOP, DEPARTMENT = "S0001", "A0001", "D0001"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class EnrolledTerminal:
    """A terminal enrolled through the real ``/v1/enroll``: its keys and identity."""

    identity: EnrollResponse
    key: Ed25519PrivateKey = field(repr=False)
    voucher_key: Ed25519PrivateKey = field(repr=False)

    @property
    def terminal_id(self) -> str:
        """The server-assigned terminal ID (the signature keyid)."""
        return self.identity.terminal_id

    @property
    def business_id(self) -> str:
        """The business the terminal belongs to."""
        return self.identity.business_id

    def client(self, base_url: str, **kwargs: Any) -> LedgerClient:
        """A :class:`LedgerClient` of this terminal talking to ``base_url`` (a proxy or the
        server itself); ``kwargs`` go to the client (timeout, retry, clock...)."""
        return LedgerClient(base_url, self.terminal_id, self.key, **kwargs)

    def transaction(
        self,
        payload: PointUse | Grant,
        card: CardProfile,
        *,
        at: datetime | None = None,
        offline: bool = False,
    ) -> Transaction:
        """A transaction of this terminal naming ``card``; card-signed unless it is a grant."""
        der = card.auth_certificate.public_bytes(serialization.Encoding.DER)
        tx = Transaction(
            id=uuid7(at),
            terminal_id=self.terminal_id,
            business_id=self.business_id,
            terminal_time=at or datetime.now(UTC),
            offline=offline,
            payload=payload,
            card=CardAuthorisation(certificate=b64encode(der)),
        )
        if isinstance(payload, Grant):
            return tx
        return card_signed(tx, card.auth_key)


class LedgerServer:
    """The real ledger (FastAPI app + uvicorn + SQLite) running in a thread of this process.

    Use as a context manager or call :meth:`start` / :meth:`stop`. ``program_id`` and
    ``grant_program_id`` name the seeded Kawasaki point program and its grant program.
    ``settings`` overrides go to :class:`server_stub.settings.Settings` (the pull cursor lag is
    0 by default here, so a pull right after a change sees it).
    """

    def __init__(self, folder: Path, trust_dir: Path, **settings: Any) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.database_url = f"sqlite:///{folder / 'ledger.db'}"
        migrate(self.database_url)
        options: dict[str, Any] = {
            "database_url": self.database_url,
            "trust_dir": trust_dir,
            "signing_key_path": folder / "ledger-signing-key.pem",
            "pull_cursor_lag_seconds": 0,
        }
        options.update(settings)
        self.settings = Settings(**options)
        self.engine: Engine = make_engine(self.database_url)
        self.program_id, self.grant_program_id = self._seed()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def _seed(self) -> tuple[int, int]:
        with self.engine.begin() as conn:
            op.create_municipality(conn, KAWASAKI, "川崎市")
            op.create_business(conn, STREET, KAWASAKI, "元住吉商店街", "street")
            op.create_business(conn, SHOP, KAWASAKI, "パン屋", "shop", street_id=STREET)
            op.create_business(conn, DEPARTMENT, KAWASAKI, "健康福祉局", "department")
            program = op.create_point_program(conn, KAWASAKI, "川崎市ポイント")
            grant = op.create_grant_program(conn, program, "健康診断受診", "健康福祉局", 500)
        return program, grant

    def start(self) -> LedgerServer:
        """Start uvicorn on :attr:`port` and wait until it accepts connections."""
        config = uvicorn.Config(
            create_app(self.settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="ledger", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the ledger server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop uvicorn (the database stays; :meth:`start` again serves it on the same port)."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def close(self) -> None:
        """Stop the server and release the database."""
        self.stop()
        self.engine.dispose()

    def __enter__(self) -> LedgerServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- operator actions and look-ups -----------------------------------------------------

    def enroll(
        self, business_id: str = SHOP, roles: tuple[str, ...] = ("shop",)
    ) -> EnrolledTerminal:
        """A new terminal enrolled through ``POST /v1/enroll`` with a one-time code."""
        with self.engine.begin() as conn:
            code = op.create_enrollment_code(conn, business_id, list(roles)).code
        key, voucher_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        identity = enroll(self.base_url, code, key, voucher_key=voucher_key, name="sync test")
        return EnrolledTerminal(identity, key, voucher_key)

    def resident(self, card: CardProfile, mykey_id: str, points: int = 0) -> None:
        """Register ``mykey_id`` for ``card`` and grant it ``points`` (if any)."""
        with self.engine.begin() as conn:
            op.create_mykey_id(conn, mykey_id, card.auth_certificate)
            if points:
                op.grant_points(conn, self.grant_program_id, mykey_id, points)

    def revoke(self, terminal_id: str) -> None:
        """Revoke a terminal's enrollment (operator action)."""
        with self.engine.begin() as conn:
            op.revoke_terminal(conn, terminal_id)

    def transaction_count(self, terminal_id: str | None = None) -> int:
        """How many transactions the ledger stored (of one terminal, if given)."""
        query = select(func.count()).select_from(transactions)
        if terminal_id is not None:
            query = query.where(transactions.c.terminal_id == terminal_id)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def stored_ids(self, terminal_id: str) -> list[str]:
        """The terminal's transaction IDs in the order the ledger inserted them."""
        query = (
            select(transactions.c.id)
            .where(transactions.c.terminal_id == terminal_id)
            .order_by(literal_column("rowid"))  # SQLite: insertion order
        )
        with self.engine.connect() as conn:
            return [str(v) for v in conn.execute(query).scalars()]
