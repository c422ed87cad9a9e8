"""The server's one validated settings object (environment variables ``MYKEY_LEDGER_…``)."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    """``sqlite:///<user data dir of "mykey">/ledger.db``."""
    return f"sqlite:///{Path(user_data_dir('mykey')) / 'ledger.db'}"


def default_signing_key_path() -> Path:
    """Where the server keeps its Ed25519 revocation-snapshot signing key by default."""
    return Path(user_data_dir("mykey")) / "ledger-signing-key.pem"


class Settings(BaseSettings):
    """Everything the ledger server can be configured with."""

    model_config = SettingsConfigDict(env_prefix="MYKEY_LEDGER_", extra="forbid")

    database_url: str = Field(default_factory=default_database_url)
    #: Folder of JPKI CA certificates that issue user-authentication certificates.
    trust_dir: Path | None = None
    #: The operator key for the admin API; None disables the admin API (always refused).
    operator_key: SecretStr | None = None
    #: The server's Ed25519 key that signs revocation snapshots (created when missing).
    signing_key_path: Path = Field(default_factory=default_signing_key_path)
    max_request_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    #: Allowed clock difference for request signatures, in seconds (RFC 9421 ``created``).
    max_skew_seconds: int = Field(default=300, ge=1)
    #: How long a MyKey set-up challenge stays valid, in seconds.
    challenge_ttl_seconds: int = Field(default=300, ge=10)
    #: Pull cursors stay this many seconds behind the newest change, so a change committed late
    #: by a concurrent writer is never skipped (deltas are idempotent, so overlap is harmless).
    pull_cursor_lag_seconds: float = Field(default=5.0, ge=0)
    #: Signed requests a terminal may make per second on average (token bucket per terminal
    #: ID, refilled at this rate); 0 turns the limit off. Beyond it: 429 with Retry-After.
    terminal_rate_per_second: float = Field(default=50.0, ge=0)
    #: How many requests a terminal may make at once before the rate applies (bucket size).
    terminal_rate_burst: int = Field(default=500, ge=1)
