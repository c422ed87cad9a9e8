"""Sync fixtures: a real ledger server (uvicorn + SQLite, in a thread), terminals enrolled
through ``/v1/enroll``, a fault-injecting proxy in front of the server, and test cards.

Reusable outside tests/sync: ``from tests.sync.support import LedgerServer`` and
``from tests.support.faulty_proxy import FaultyProxy, Fault``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from tests.support.faulty_proxy import FaultyProxy
from tests.sync.support import DEPARTMENT, SHOP, EnrolledTerminal, LedgerServer


@pytest.fixture(scope="session")
def sync_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    """A test JPKI CA whose certificate folder the ledger trusts."""
    return TestCA.init(tmp_path_factory.mktemp("sync-ca") / "ca")


@pytest.fixture(scope="session")
def sync_cards(sync_ca: TestCA, tmp_path_factory: pytest.TempPathFactory) -> list[CardProfile]:
    """Two residents' cards (made once per session: RSA keys are slow)."""
    base = tmp_path_factory.mktemp("sync-cards")
    return [sync_ca.issue_card(base / f"card{i}", "1234") for i in range(2)]


@pytest.fixture
def ledger(sync_ca: TestCA, tmp_path: Path) -> Iterator[LedgerServer]:
    """A running ledger server on a fresh SQLite database, seeded (Kawasaki, shop A0001,
    department D0001, a point program and a grant program)."""
    with LedgerServer(tmp_path / "ledger", sync_ca.trust_directory) as server:
        yield server


@pytest.fixture
def shop_terminal(ledger: LedgerServer) -> EnrolledTerminal:
    """A shop terminal of A0001, enrolled with a one-time code."""
    return ledger.enroll(SHOP, ("shop",))


@pytest.fixture
def desk_terminal(ledger: LedgerServer) -> EnrolledTerminal:
    """A municipal desk terminal of D0001 (grants), enrolled with a one-time code."""
    return ledger.enroll(DEPARTMENT, ("municipal",))


@pytest.fixture
def proxy(ledger: LedgerServer) -> Iterator[FaultyProxy]:
    """A fault-injecting proxy in front of ``ledger`` (mode PASS to begin with)."""
    with FaultyProxy(ledger.base_url) as faulty:
        yield faulty
