"""How a terminal is composed from its data folder: identity, store, the two ledger clients,
the sync engine and card sessions on a PC/SC reader.

Shared by the windowless ``mykey terminal …`` commands and the desktop application, so both open
a terminal the same way. This module may import every package (it is a composition root).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cardio.auth import TrustStore
from cardio.jpki import JpkiSession
from cardio.transport import PcscConnection
from sync.client import LedgerClient, RetryPolicy
from sync.engine import SyncEngine, SyncProgress
from terminal.config import TerminalIdentity, TerminalPaths, load_identity, load_key
from terminal.services.counter import Counter
from terminal.store import TerminalStore

#: the customer is waiting: online calls at the counter give up quickly and fall back offline
COUNTER_TIMEOUT_S = 3.0
SYNC_TIMEOUT_S = 15.0
SYNC_RETRY = RetryPolicy(attempts=3, base_delay=0.5, max_delay=5.0)


@dataclass
class Terminal:
    """An opened terminal: identity, store and the two clients (counter and sync)."""

    paths: TerminalPaths
    identity: TerminalIdentity
    store: TerminalStore
    counter_client: LedgerClient
    sync_client: LedgerClient

    def counter(self) -> Counter:
        """The use cases' view of this terminal (trust anchors from the data folder)."""
        trust = TrustStore.from_directory(self.paths.trust_dir)
        return Counter(self.identity, self.store, self.counter_client, trust)

    def engine(self, on_progress: Callable[[SyncProgress], None] | None = None) -> SyncEngine:
        """A sync engine over this terminal's outbox and caches."""
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
        LedgerClient(url, tid, key, timeout=COUNTER_TIMEOUT_S),
        LedgerClient(url, tid, key, timeout=SYNC_TIMEOUT_S, retry=SYNC_RETRY),
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
