"""Fixtures for the operator tools: a test CA, and a seeded ledger with known figures (the
migrated ledgers and their engine come from tests/conftest.py)."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from cardio.virtual.ca import TestCA, new_rsa_key
from server_stub import operator
from server_stub.clock import JST
from server_stub.db.engine import make_engine
from server_stub.db.migrate import migrate

KAWASAKI = "141305"


@dataclass(frozen=True)
class Card:
    """A test card: its RSA key and JPKI-shaped user-authentication certificate."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    """A JPKI-shaped test CA for the whole session (its own: CRL counts are asserted here)."""
    return TestCA.init(tmp_path_factory.mktemp("ledger-ops-ca") / "ca")


@pytest.fixture(scope="session")
def cards(test_ca: TestCA) -> list[Card]:
    """Four cards (RSA keys are slow to make, so once per session)."""
    result = []
    for _ in range(4):
        key = new_rsa_key()
        result.append(Card(key, test_ca.issue_auth_certificate(key.public_key())))
    return result


@pytest.fixture
def ledger_url(db_url: str) -> str:
    """A migrated, empty ledger database, on SQLite and on PostgreSQL (tests/conftest.py)."""
    return db_url


@pytest.fixture
def sqlite_ledger_url(tmp_path: Path) -> str:
    """A migrated, empty ledger on SQLite only (for tests about the command line itself)."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    migrate(url)
    return url


@dataclass(frozen=True)
class Seed:
    """IDs of the reference data every test ledger starts with."""

    program_id: int
    health_grant_id: int  # 健康福祉局 / 健康診断受診, ordinary, 500 pt
    premium_grant_id: int  # 経済労働局 / プレミアム付与, premium, 1000 pt
    mykey_ids: tuple[str, ...]


SEED_TIME = datetime(2026, 9, 1, 0, 0, tzinfo=UTC)


def seed_ledger(url: str, cards: Sequence[Card]) -> Seed:
    """Municipality, program, street + shops + library, two grant programs, residents."""
    eng = make_engine(url)
    try:
        with eng.begin() as conn:
            now = SEED_TIME
            operator.create_municipality(conn, KAWASAKI, "川崎市", now=now)
            program = operator.create_point_program(conn, KAWASAKI, "川崎市ポイント", now=now)
            operator.create_business(conn, "B0001", KAWASAKI, "元住吉商店街", "street", now=now)
            operator.create_business(
                conn, "A0001", KAWASAKI, "ブレーメン青果", "shop", street_id="B0001", now=now
            )
            operator.create_business(
                conn, "A0002", KAWASAKI, "モトスミ書店", "shop", street_id="B0001", now=now
            )
            operator.create_business(conn, "L0001", KAWASAKI, "中原図書館", "library", now=now)
            health = operator.create_grant_program(
                conn, program, "健康診断受診", "健康福祉局", 500, now=now
            )
            premium = operator.create_grant_program(
                conn, program, "プレミアム付与", "経済労働局", 1000, category="premium", now=now
            )
            names = ("MY123456", "KEY34567", "Hanako01")
            for name, card in zip(names, cards, strict=False):
                operator.create_mykey_id(conn, name, card.certificate, now=now)
    finally:
        eng.dispose()
    return Seed(program, health, premium, names)


@pytest.fixture
def seed(ledger_url: str, cards: list[Card]) -> Seed:
    """The seeded reference data on ``ledger_url``."""
    return seed_ledger(ledger_url, cards)


@dataclass
class CliResult:
    """Exit code and output of one ``mykey`` invocation."""

    code: int
    out: str
    err: str


@pytest.fixture
def mykey(monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """Run ``mykey.cli.main`` in-process with captured stdout/stderr (bytes decoded as UTF-8)."""
    from mykey.cli import main

    def run(*argv: str) -> CliResult:
        root = logging.getLogger()
        saved = (root.level, list(root.handlers))
        buffer = io.BytesIO()
        out, err = io.TextIOWrapper(buffer, encoding="utf-8"), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse usage errors
            code = int(exit_.code or 0)
        finally:
            monkeypatch.undo()
            root.handlers[:] = saved[1]
            root.setLevel(saved[0])
        out.flush()
        raw = buffer.getvalue()
        return CliResult(code, raw.decode("utf-8"), err.getvalue())

    return run


def jst(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """An instant given in Japan time."""
    return datetime(year, month, day, hour, minute, tzinfo=JST)


def build_report_scenario(url: str, seed: Seed) -> None:
    """Known movements around the October/November 2026 boundary (JST vs UTC):

    MY123456: 10-05 grant 500 (健康診断), 10-10 use 300 at A0001, 10-12 voucher 100 issued at
              B0001 and redeemed 10-13 at A0002, 11-01 00:30 JST premium grant 1000.
    KEY34567: 10-31 23:30 JST grant 500, 11-02 use 200 at A0001, 11-03 offline use 700 at A0002
              (400 overdraft), 11-05 grant 500 (clears the overdraft).
    """
    from server_stub import ledger
    from server_stub.catalog import get_business, get_program

    my, key = seed.mykey_ids[0], seed.mykey_ids[1]
    eng = make_engine(url)
    try:
        with eng.begin() as conn:
            program = get_program(conn, seed.program_id)
            a1, a2 = get_business(conn, "A0001"), get_business(conn, "A0002")
            operator.grant_points(conn, seed.health_grant_id, my, now=jst(2026, 10, 5))
            ledger.spend(conn, program, my, a1, 300, jst(2026, 10, 10))
            ledger.reserve_voucher(
                conn,
                program,
                my,
                100,
                jst(2026, 10, 12),
                voucher_number="1234567890128",
                business_id="B0001",
            )
            ledger.post_voucher(conn, program, "1234567890128", my, 100, "A0002", jst(2026, 10, 13))
            operator.grant_points(conn, seed.premium_grant_id, my, now=jst(2026, 11, 1, 0, 30))
            operator.grant_points(conn, seed.health_grant_id, key, now=jst(2026, 10, 31, 23, 30))
            ledger.spend(conn, program, key, a1, 200, jst(2026, 11, 2))
            ledger.spend(conn, program, key, a2, 700, jst(2026, 11, 3), allow_overdraft=True)
            operator.grant_points(conn, seed.health_grant_id, key, now=jst(2026, 11, 5))
    finally:
        eng.dispose()
