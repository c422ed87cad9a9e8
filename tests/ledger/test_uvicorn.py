"""The real thing: `mykey ledger serve` (uvicorn) on a random loopback port, signed requests
over TCP, and the `migrate` / `audit` commands (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, insert, update

from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from server_stub.clock import utc_now
from server_stub.db.schema import accounts, mykey_ids
from tests.ledger.conftest import OPERATOR_KEY, World, build_world
from tests.ledger.support import SigningTerminal, raw_public

MYKEY = str(Path(sys.executable).with_name("mykey"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(db_url: str, test_ca: TestCA, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = dict(
        os.environ,
        MYKEY_LEDGER_OPERATOR_KEY=OPERATOR_KEY,
        MYKEY_LEDGER_SIGNING_KEY_PATH=str(tmp_path / "server-key.pem"),
    )
    log_path = tmp_path / "server.log"
    trust = str(test_ca.trust_directory)
    command = [MYKEY, "ledger", "serve", "--db", db_url, "--port", str(port), "--trust", trust]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise AssertionError(log_path.read_text(encoding="utf-8"))
            time.sleep(0.05)
        else:
            raise AssertionError("the server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_signed_requests_over_tcp(server: str, engine: Engine, cards: list[CardProfile]) -> None:
    world: World = build_world(engine)
    with engine.begin() as conn:
        code = op.create_enrollment_code(conn, "A0001", ["shop"]).code
        op.create_mykey_id(conn, "TCP00001", cards[0].auth_certificate)
        op.grant_points(conn, world.grant_program_id, "TCP00001", 700)
    key = Ed25519PrivateKey.generate()
    with httpx.Client(base_url=server, timeout=10) as client:
        enrolled = client.post("/v1/enroll", json={"code": code, "public_key": raw_public(key)})
        assert enrolled.status_code == 200, enrolled.text
        shop = SigningTerminal(client, enrolled.json()["terminal_id"], "A0001", key)
        batch = [
            shop.tx({"kind": "point_use", "program_id": world.program_id, "points": 200}, cards[0])
            for _ in range(3)
        ]
        results = shop.push(*batch).json()["results"]
        assert [r["balance"] for r in results] == [500, 300, 100]
        assert [r["status"] for r in shop.push(*batch).json()["results"]] == ["duplicate"] * 3
        assert shop.call("GET", "/v1/pull", sign=False).status_code == 401
        pulled = shop.call("GET", "/v1/pull")
        assert pulled.status_code == 200
        assert pulled.json()["cards"][0]["balances"][0]["points"] == 100
        assert client.get("/openapi.json").json()["info"]["title"] == "MyKey ledger"


def test_migrate_and_audit_commands(db_url: str, engine: Engine) -> None:
    migrated = subprocess.run(
        [MYKEY, "ledger", "migrate", "--db", db_url], capture_output=True, text=True, check=False
    )
    assert migrated.returncode == 0, migrated.stderr
    world = build_world(engine)
    audited = subprocess.run(
        [MYKEY, "ledger", "audit", "--db", db_url], capture_output=True, text=True, check=False
    )
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert "audit passed" in audited.stdout
    with engine.begin() as conn:
        conn.execute(
            insert(mykey_ids).values(
                id="AUDIT001", id_folded="audit001", status="active", created_at=utc_now()
            )
        )
        op.grant_points(conn, world.grant_program_id, "AUDIT001", 100)
        conn.execute(update(accounts).where(accounts.c.owner == "AUDIT001").values(balance=-5))
    broken = subprocess.run(
        [MYKEY, "ledger", "audit", "--db", db_url], capture_output=True, text=True, check=False
    )
    assert broken.returncode == 1
    assert "balance-wrong-sign" in broken.stdout


def test_audit_of_a_missing_database_says_what_to_do(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'never-migrated.db'}"
    result = subprocess.run(
        [MYKEY, "ledger", "audit", "--db", url], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "mykey ledger migrate" in result.stdout
