"""What the window is given by its composition root (``mykey.app_context`` / ``mykey.gui``, or
a test): the counter, the sync engine, how to open a card session, and the reader state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from terminal.services.counter import Counter
from ui.card_worker import SessionFactory
from ui.reader import ReaderState

if TYPE_CHECKING:  # the engine (and the HTTP stack under it) is loaded after the first paint
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from sync.engine import SyncEngine

#: (server URL, enrollment code, terminal name) -> None; raises a typed error on failure
EnrollFn = Callable[[str, str, str], None]


@dataclass
class AppServices:
    """The terminal as the window drives it. ``counter`` is None before enrollment."""

    counter: Counter | None
    engine: SyncEngine | None
    open_session: SessionFactory
    reader: ReaderState = field(default_factory=ReaderState)
    enroll: EnrollFn | None = None
    #: where the camera stands (the scan screens update it)
    camera_state: str = ""
    #: did the ledger answer the last time anyone asked (counter call or sync)? None: unknown
    online: bool | None = None
    #: the office's Ed25519 voucher-signing key (None: this terminal cannot issue vouchers)
    voucher_key: Ed25519PrivateKey | None = None
