"""How a terminal is composed from its data folder: identity, store, the two ledger clients,
the sync engine and card sessions on a PC/SC reader.

Shared by the windowless ``mykey terminal …`` commands and the desktop application, so both open
a terminal the same way. This module may import every package (it is a composition root).

The HTTP stack (``sync.client``: requests, HTTP signatures) and the sync engine are imported when
first used, so the window paints before they are loaded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cardio.auth import TrustStore
from cardio.jpki import JpkiSession
from cardio.transport import PcscConnection
from sync.protocol import (
    AvailabilityResponse,
    ChallengeResponse,
    LookupResponse,
    PullResponse,
    PushResponse,
    Transaction,
    TransactionResult,
)
from terminal.config import TerminalIdentity, TerminalPaths, load_identity, load_key
from terminal.services.counter import Counter
from terminal.store import TerminalStore

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from sync.client import LedgerClient, RetryPolicy
    from sync.engine import SyncEngine, SyncProgress

#: the customer is waiting: online calls at the counter give up quickly and fall back offline
COUNTER_TIMEOUT_S = 3.0
SYNC_TIMEOUT_S = 15.0


def sync_retry() -> RetryPolicy:
    """The sync client's retry policy (``SYNC_RETRY``: 3 attempts, 0.5 s to 5 s apart)."""
    from sync.client import RetryPolicy

    return RetryPolicy(attempts=3, base_delay=0.5, max_delay=5.0)


def __getattr__(name: str) -> RetryPolicy:
    """``SYNC_RETRY``, made when first imported (it needs ``sync.client``)."""
    if name == "SYNC_RETRY":
        policy = sync_retry()
        globals()[name] = policy
        return policy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class LazyLedgerClient:
    """A :class:`sync.client.LedgerClient` made on the first network call (thread-safe), so
    opening a terminal does not import the HTTP stack."""

    def __init__(
        self,
        base_url: str,
        terminal_id: str,
        key: Ed25519PrivateKey,
        *,
        timeout: float,
        retry: Callable[[], RetryPolicy] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.terminal_id = terminal_id
        self._key = key
        self._timeout = timeout
        self._retry = retry
        self._client: LedgerClient | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LedgerClient({self.base_url!r}, terminal {self.terminal_id})"

    def client(self) -> LedgerClient:
        """The real client (made now if not yet)."""
        with self._lock:
            if self._client is None:
                from sync.client import LedgerClient

                self._client = (
                    LedgerClient(self.base_url, self.terminal_id, self._key, timeout=self._timeout)
                    if self._retry is None
                    else LedgerClient(
                        self.base_url,
                        self.terminal_id,
                        self._key,
                        timeout=self._timeout,
                        retry=self._retry(),
                    )
                )
            return self._client

    @property
    def last_clock_offset(self) -> float | None:
        """Seconds, server minus terminal, from the last answer (None: no answer yet)."""
        client = self._client
        return None if client is None else client.last_clock_offset

    def close(self) -> None:
        """Close the real client's connection pools (nothing to do when never used)."""
        with self._lock:
            client = self._client
        if client is not None:
            client.close()

    def push(self, transactions: list[Transaction]) -> PushResponse:
        """:meth:`sync.client.LedgerClient.push`."""
        return self.client().push(transactions)

    def pull(self, cursor: str | None) -> PullResponse:
        """:meth:`sync.client.LedgerClient.pull`."""
        return self.client().pull(cursor)

    def authorize(self, transaction: Transaction) -> TransactionResult:
        """:meth:`sync.client.LedgerClient.authorize`."""
        return self.client().authorize(transaction)

    def lookup(self, certificate_der: bytes) -> LookupResponse:
        """:meth:`sync.client.LedgerClient.lookup`."""
        return self.client().lookup(certificate_der)

    def mykey_challenge(self) -> ChallengeResponse:
        """:meth:`sync.client.LedgerClient.mykey_challenge`."""
        return self.client().mykey_challenge()

    def mykey_availability(self, mykey_id: str) -> AvailabilityResponse:
        """:meth:`sync.client.LedgerClient.mykey_availability`."""
        return self.client().mykey_availability(mykey_id)


@dataclass
class Terminal:
    """An opened terminal: identity, store and the two clients (counter and sync)."""

    paths: TerminalPaths
    identity: TerminalIdentity
    store: TerminalStore
    counter_client: LazyLedgerClient
    sync_client: LazyLedgerClient

    def counter(self) -> Counter:
        """The use cases' view of this terminal (trust anchors from the data folder)."""
        trust = TrustStore.from_directory(self.paths.trust_dir)
        return Counter(self.identity, self.store, self.counter_client, trust)

    def engine(self, on_progress: Callable[[SyncProgress], None] | None = None) -> SyncEngine:
        """A sync engine over this terminal's outbox and caches."""
        from sync.engine import SyncEngine

        return SyncEngine(
            self.sync_client,
            self.store,
            self.store,
            server_public_key=self.identity.server_public_key,
            on_progress=on_progress,
        )

    def close(self) -> None:
        """Close the clients and the store."""
        self.counter_client.close()
        self.sync_client.close()
        self.store.close()


def load_terminal(data: Path | None) -> Terminal:
    """Open the enrolled terminal in ``data`` (default: the user data folder); close it after."""
    paths = TerminalPaths.at(data)
    identity = load_identity(paths)
    key = load_key(paths.terminal_key)
    store = TerminalStore.open(paths.database)
    url, tid = identity.server_url, identity.terminal_id
    return Terminal(
        paths,
        identity,
        store,
        LazyLedgerClient(url, tid, key, timeout=COUNTER_TIMEOUT_S),
        LazyLedgerClient(url, tid, key, timeout=SYNC_TIMEOUT_S, retry=sync_retry),
    )


@contextmanager
def open_terminal(data: Path | None) -> Iterator[Terminal]:
    """:func:`load_terminal` as a context manager (closed on exit)."""
    terminal = load_terminal(data)
    try:
        yield terminal
    finally:
        terminal.close()


@contextmanager
def pcsc_session(reader: str | None) -> Iterator[JpkiSession]:
    """A JPKI session on the card in ``reader`` (None: the first reader with a card)."""
    connection = PcscConnection.open(reader)
    try:
        yield JpkiSession(connection)
    finally:
        connection.close()
