"""What every run shares, made once per process: the test CA, a handful of virtual cards (RSA
key generation is slow), and a template ledger database with the reference data, the enrolled
terminals and the registered residents. Each run copies the closed template file."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection

from cardio.auth import TrustStore
from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from server_stub.api.app import create_app
from server_stub.db.migrate import migrate
from server_stub.operator import OfflineDefaults
from server_stub.settings import Settings
from sim.clock import SIM_EPOCH, server_clock
from sync.protocol import EnrollResponse, Role
from sync.signing import public_key_b64
from terminal.config import TerminalIdentity

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette prefers httpx2 for its test client
    from fastapi.testclient import TestClient

KAWASAKI = "141305"
STREET = "S0001"
CARD_COUNT = 6
PIN = "1234"
#: Short lot validity, so expiry happens within a run of a few simulated days.
LOT_VALIDITY_DAYS = 1
#: Small offline limits, so runs reach them (DOMAIN.md §6 shape, smaller numbers).
OFFLINE_LIMITS = OfflineDefaults(
    max_per_transaction=800,
    max_per_card_per_day=1_200,
    max_per_terminal_since_sync=3_000,
    max_hours_without_sync=72,
    max_revocation_age_hours=48,
)
GRANT_POINTS = 500
EVENT_GRANT_POINTS = 300


@dataclass(frozen=True)
class TerminalSpec:
    """One enrolled terminal of the template: its simulator name, identity and key."""

    name: str
    business_id: str
    roles: tuple[str, ...]
    identity: TerminalIdentity
    key: Ed25519PrivateKey
    #: the street office's voucher-signing key (None for other terminals)
    voucher_key: Ed25519PrivateKey | None = None


@dataclass(frozen=True)
class Catalog:
    """The template's reference data (ids as the ledger assigned them)."""

    program_id: int
    event_program_id: int
    grant_program_id: int
    event_grant_program_id: int


#: name, business, roles (in enrollment order)
ROSTER: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("office", STREET, ("office", "shop")),
    ("shop1", "A0001", ("shop",)),
    ("shop2", "A0002", ("shop",)),
    ("shop3", "A0003", ("shop",)),
    ("shop4", "A0004", ("shop",)),
    ("library", "L0001", ("library",)),
    ("desk", "D0001", ("municipal",)),
)


def resident_id(index: int) -> str:
    """The MyKey ID of card ``index``."""
    return f"SIMR{index + 1:02d}"


def scratch_root(parent: Path | None = None) -> Path:
    """A fresh folder for simulator files (in ``parent`` if given), in memory (/dev/shm) when
    the machine has it: the stores sync to disk on every commit, and the simulator needs speed,
    not durability."""
    shm = Path("/dev/shm")  # noqa: S108 - a private mkdtemp folder inside it
    base = parent or (shm if shm.is_dir() else None)
    return Path(tempfile.mkdtemp(prefix="mykey-sim-", dir=base))


class Kit:
    """The per-process shared parts of every run (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ca = TestCA.init(root / "ca", now=SIM_EPOCH - timedelta(days=30))
        self.cards: list[CardProfile] = [
            self.ca.issue_card(root / f"card{i}", PIN, now=SIM_EPOCH - timedelta(days=30))
            for i in range(CARD_COUNT)
        ]
        self.trust = TrustStore.from_directory(self.ca.trust_directory)
        self.signing_key_path = root / "server-key.pem"
        self.template = root / "ledger-template.db"
        self.catalog, self.terminals = self._build_template()

    def settings(self, database: Path) -> Settings:
        """Server settings for a ledger database file of this kit."""
        return Settings(
            database_url=f"sqlite:///{database}",
            trust_dir=self.ca.trust_directory,
            operator_key=None,
            signing_key_path=self.signing_key_path,
            pull_cursor_lag_seconds=0,
        )

    def copy_ledger(self, target: Path) -> Path:
        """A fresh ledger database for one run (the template is closed: a plain copy is safe)."""
        shutil.copyfile(self.template, target)
        return target

    def close(self) -> None:
        """Remove the kit's files."""
        shutil.rmtree(self.root, ignore_errors=True)

    def _build_template(self) -> tuple[Catalog, list[TerminalSpec]]:
        url = f"sqlite:///{self.template}"
        migrate(url)
        at = SIM_EPOCH - timedelta(days=1)
        app = create_app(self.settings(self.template))
        engine = app.state.ledger.engine
        specs: list[TerminalSpec] = []
        with server_clock(lambda: at):
            with engine.begin() as conn:
                catalog = _reference_data(conn, at)
                for i, card in enumerate(self.cards):
                    op.create_mykey_id(conn, resident_id(i), card.auth_certificate, now=at)
                codes = [
                    op.create_enrollment_code(conn, business, roles, now=at).code
                    for _, business, roles in ROSTER
                ]
            with TestClient(app) as client:
                for (name, business, roles), code in zip(ROSTER, codes, strict=True):
                    key = Ed25519PrivateKey.generate()
                    voucher_key = Ed25519PrivateKey.generate() if "office" in roles else None
                    body_json = {"code": code, "public_key": public_key_b64(key)}
                    if voucher_key is not None:
                        body_json["voucher_public_key"] = public_key_b64(voucher_key)
                    response = client.post("/v1/enroll", json=body_json)
                    response.raise_for_status()
                    body = EnrollResponse.model_validate(response.json())
                    identity = TerminalIdentity(
                        terminal_id=body.terminal_id,
                        business_id=business,
                        street_id=body.street_id,
                        roles=frozenset(Role(r) for r in body.roles),
                        server_url="http://testserver",
                        server_public_key=body.server_public_key,
                        name=name,
                        voucher_prefix=body.voucher_prefix,
                    )
                    specs.append(TerminalSpec(name, business, roles, identity, key, voucher_key))
        engine.dispose()
        with sqlite3.connect(self.template) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.close()
        return catalog, specs


def _reference_data(conn: Connection, at: datetime) -> Catalog:
    op.create_municipality(conn, KAWASAKI, "川崎市", now=at)
    op.create_business(conn, STREET, KAWASAKI, "元住吉商店街", "street", now=at)
    for index, name in enumerate(("パン屋", "魚屋", "八百屋", "本屋"), start=1):
        op.create_business(conn, f"A000{index}", KAWASAKI, name, "shop", street_id=STREET, now=at)
    op.create_business(conn, "L0001", KAWASAKI, "中原図書館", "library", now=at)
    op.create_business(conn, "D0001", KAWASAKI, "健康福祉局", "department", now=at)
    program = op.create_point_program(
        conn,
        KAWASAKI,
        "川崎市ポイント",
        lot_validity_days=LOT_VALIDITY_DAYS,
        offline=OFFLINE_LIMITS,
        now=at,
    )
    event = op.create_point_program(
        conn,
        KAWASAKI,
        "【期間限定】川崎市実証実験ポイント",
        kind="special_event",
        lot_validity_days=LOT_VALIDITY_DAYS + 2,
        offline=OFFLINE_LIMITS,
        accepted_business_ids=["A0001"],
        now=at,
    )
    grant = op.create_grant_program(conn, program, "献血", "健康福祉局", GRANT_POINTS, now=at)
    event_grant = op.create_grant_program(
        conn, event, "実証実験参加", "健康福祉局", EVENT_GRANT_POINTS, now=at
    )
    return Catalog(program, event, grant, event_grant)
