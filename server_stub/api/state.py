"""What the running app holds: settings, the engine, trust anchors and the signing key."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from cardio.auth import TrustStore
from server_stub.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class LedgerState:
    """Shared, read-only after start-up."""

    settings: Settings
    engine: Engine
    trust: TrustStore | None
    signing_key: Ed25519PrivateKey
