"""Ledger fixtures: a test JPKI CA with a few cards, reference data, the app, and enrolled signing
terminals (the migrated databases come from tests/conftest.py)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from server_stub.api.app import create_app
from server_stub.settings import Settings
from tests.ledger.support import SigningTerminal, raw_public

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its test client; httpx still works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

OPERATOR_KEY = "operator-secret-for-tests"
KAWASAKI = "141305"


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA.init(tmp_path_factory.mktemp("ca") / "ca")


@pytest.fixture(scope="session")
def cards(test_ca: TestCA, tmp_path_factory: pytest.TempPathFactory) -> list[CardProfile]:
    """Four cards of four residents (RSA key generation is slow: made once per session)."""
    base = tmp_path_factory.mktemp("cards")
    return [test_ca.issue_card(base / f"card{i}", "1234") for i in range(4)]


@dataclass
class World:
    """Reference data: Kawasaki, its point program, a grant program, a street with two shops,
    a library, a department, and a special event accepted only at shop A0001."""

    program_id: int
    event_program_id: int
    grant_program_id: int


def build_world(engine: Engine) -> World:
    with engine.begin() as conn:
        op.create_municipality(conn, KAWASAKI, "川崎市")
        op.create_municipality(conn, "131164", "豊島区")
        op.create_business(conn, "S0001", KAWASAKI, "元住吉商店街", "street")
        op.create_business(conn, "A0001", KAWASAKI, "パン屋", "shop", street_id="S0001")
        op.create_business(conn, "A0002", KAWASAKI, "魚屋", "shop", street_id="S0001")
        op.create_business(conn, "L0001", KAWASAKI, "中原図書館", "library")
        op.create_business(conn, "D0001", KAWASAKI, "健康福祉局", "department")
        op.create_business(conn, "T0001", "131164", "豊島の店", "shop")
        program = op.create_point_program(conn, KAWASAKI, "川崎市ポイント")
        event = op.create_point_program(
            conn,
            KAWASAKI,
            "【期間限定】川崎市実証実験ポイント",
            kind="special_event",
            accepted_business_ids=["A0001"],
        )
        grant = op.create_grant_program(conn, program, "献血", "健康福祉局", 500)
    return World(program, event, grant)


def resident(
    engine: Engine, world: World, card: CardProfile, mykey_id: str, points: int = 0
) -> None:
    """Register ``mykey_id`` for ``card`` and, if ``points``, grant them (the world's grant)."""
    with engine.begin() as conn:
        op.create_mykey_id(conn, mykey_id, card.auth_certificate)
        if points:
            op.grant_points(conn, world.grant_program_id, mykey_id, points)


def use(world: World, points: int, program: int | None = None) -> dict[str, object]:
    """A point-use payload (default: the world's municipal program)."""
    return {"kind": "point_use", "program_id": program or world.program_id, "points": points}


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


@pytest.fixture
def settings(db_url: str, test_ca: TestCA, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        trust_dir=test_ca.trust_directory,
        operator_key=OPERATOR_KEY,  # type: ignore[arg-type]
        signing_key_path=tmp_path / "server-key.pem",
        pull_cursor_lag_seconds=0,
        max_request_bytes=2 * 1024 * 1024,
    )


@pytest.fixture
def client(settings: Settings, world: World) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.ledger.engine.dispose()


def enroll(client: object, engine: Engine, business_id: str, roles: list[str]) -> SigningTerminal:
    """Enroll a new terminal through the API with an operator-made code."""
    assert isinstance(client, TestClient)
    with engine.begin() as conn:
        code = op.create_enrollment_code(conn, business_id, roles).code
    key = Ed25519PrivateKey.generate()
    response = client.post(
        "/v1/enroll", json={"code": code, "public_key": raw_public(key), "name": "test"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["business_id"] == business_id
    return SigningTerminal(client, body["terminal_id"], business_id, key)


@pytest.fixture
def shop(client: TestClient, engine: Engine) -> SigningTerminal:
    return enroll(client, engine, "A0001", ["shop"])


@pytest.fixture
def shop2(client: TestClient, engine: Engine) -> SigningTerminal:
    return enroll(client, engine, "A0002", ["shop"])


@pytest.fixture
def office(client: TestClient, engine: Engine) -> SigningTerminal:
    return enroll(client, engine, "S0001", ["office", "shop"])


@pytest.fixture
def municipal(client: TestClient, engine: Engine) -> SigningTerminal:
    return enroll(client, engine, "D0001", ["municipal"])


@pytest.fixture
def library(client: TestClient, engine: Engine) -> SigningTerminal:
    return enroll(client, engine, "L0001", ["library"])
