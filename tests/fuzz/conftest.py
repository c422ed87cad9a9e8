"""Fixtures of the fuzz tests: a test CA with one card, and a seeded SQLite ledger."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import Engine

from cardio.virtual.ca import TestCA, new_rsa_key
from server_stub.db.engine import make_engine
from server_stub.db.migrate import migrate
from tests.ledger.conftest import build_world, resident


@pytest.fixture(scope="session")
def fuzz_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA.init(tmp_path_factory.mktemp("fuzz-ca") / "ca")


@pytest.fixture(scope="session")
def certificate_der(fuzz_ca: TestCA) -> bytes:
    """A valid user-authentication certificate of the CA (the corpus to mutate)."""
    key = new_rsa_key()
    return fuzz_ca.issue_auth_certificate(key.public_key()).public_bytes(Encoding.DER)


@pytest.fixture(scope="module")
def seeded_ledger(
    tmp_path_factory: pytest.TempPathFactory, fuzz_ca: TestCA
) -> Iterator[tuple[Engine, int]]:
    """A migrated SQLite ledger with the reference data of tests/ledger and one resident."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz-ledger') / 'ledger.db'}"
    migrate(url)
    engine = make_engine(url)
    world = build_world(engine)
    profile = fuzz_ca.issue_card(tmp_path_factory.mktemp("fuzz-card") / "card", "1234")
    resident(engine, world, profile, "FUZZ0001", 100)
    yield engine, world.grant_program_id
    engine.dispose()
