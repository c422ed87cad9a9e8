"""End to end with every part a real process: the ledger server (uvicorn, SQLite), pcscd + vpcd
with our emulator as the card, and two enrolled terminals driven through `mykey terminal`.

The story: a municipal desk grants points; a shop uses some online; the server stops; the shop
keeps accepting inside the offline limits and refuses beyond them, saying why; the server comes
back; one sync settles everything; balances, history and the ledger audit agree.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from cardio.auth import TrustStore
from cardio.virtual.ca import TestCA
from cardio.virtual.card import VirtualJpkiCard
from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from server_stub.db.engine import make_engine
from tests.card_pcsc.support import PIN, READER, Reader
from tests.support.processes import LedgerProcess, free_port, mykey, mykey_json

KAWASAKI = "141305"


@pytest.fixture
def ledger(tmp_path: Path, test_ca: TestCA) -> Iterator[LedgerProcess]:
    """A migrated, seeded SQLite ledger served by its own process (with a fresh CRL)."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert mykey("ledger", "migrate", "--db", url).returncode == 0
    process = LedgerProcess(url, test_ca.trust_directory, tmp_path, free_port())
    yield process
    process.stop()


def _seed(ledger: LedgerProcess, test_ca: TestCA, card: CardProfile) -> dict[str, object]:
    engine = make_engine(ledger.database_url)
    with engine.begin() as conn:
        op.create_municipality(conn, KAWASAKI, "川崎市")
        op.create_business(conn, "B0001", KAWASAKI, "元住吉商店街", "street")
        op.create_business(conn, "A0001", KAWASAKI, "パン屋", "shop", street_id="B0001")
        op.create_business(conn, "D0001", KAWASAKI, "健康福祉局", "department")
        program = op.create_point_program(conn, KAWASAKI, "川崎市ポイント")
        grant = op.create_grant_program(conn, program, "普通救命講習", "消防局", 300)
        op.create_mykey_id(conn, "E2E00001", card.auth_certificate)
        crl = test_ca.crl().public_bytes(Encoding.DER)
        op.import_crl(conn, crl, TrustStore.from_directory(test_ca.trust_directory))
        codes = {
            "shop": op.create_enrollment_code(conn, "A0001", ["shop"]).code,
            "desk": op.create_enrollment_code(conn, "D0001", ["municipal"]).code,
        }
    engine.dispose()
    return {"program": program, "grant": grant, **codes}


def _terminal(tmp_path: Path, name: str, server_url: str, code: str, trust: Path) -> Path:
    """Enroll a terminal in ``tmp_path/name`` through `mykey terminal enroll`."""
    data = tmp_path / name
    (data / "trust").mkdir(parents=True)
    for pem in trust.iterdir():
        shutil.copy(pem, data / "trust" / pem.name)
    enrolled = mykey_json(
        "terminal", "enroll", "--server", server_url, "--code", code, "--data", str(data)
    )
    assert enrolled["ok"], enrolled
    return data


def _use(data: Path, points: int) -> dict[str, object]:
    result: dict[str, object] = mykey_json(
        "terminal",
        "use",
        "--points",
        str(points),
        "--pin-stdin",
        "--reader",
        READER,
        "--data",
        str(data),
        stdin=PIN + "\n",
    )
    return result


@pytest.mark.pcsc
def test_offline_counter_within_limits_then_one_sync_settles_everything(
    tmp_path: Path,
    ledger: LedgerProcess,
    test_ca: TestCA,
    issue_card: Callable[[], CardProfile],
    reader: Reader,
) -> None:
    card = issue_card()
    seed = _seed(ledger, test_ca, card)
    ledger.start()
    desk = _terminal(tmp_path, "desk", ledger.url, str(seed["desk"]), test_ca.trust_directory)
    shop = _terminal(tmp_path, "shop", ledger.url, str(seed["shop"]), test_ca.trust_directory)
    reader.insert(VirtualJpkiCard(card))

    granted = mykey_json(
        "terminal",
        "grant",
        "--program",
        str(seed["grant"]),
        "--points",
        "6000",
        "--reader",
        READER,
        "--data",
        str(desk),
    )
    assert (granted["status"], granted["balance"]) == ("applied", 6000), granted
    assert mykey_json("terminal", "sync", "--data", str(shop))["ok"]

    online = _use(shop, 500)
    assert (online["status"], online["balance"], online["online"]) == ("applied", 5500, True)

    ledger.stop()  # the network is gone; the counter is not
    first = _use(shop, 1000)
    assert (first["status"], first["online"], first["exit_code"]) == ("accepted_offline", False, 0)
    too_big = _use(shop, 3500)
    assert (too_big["exit_code"], too_big["reason"]) == (1, "over-transaction-limit")
    assert "3,000" in str(too_big["message_ja"])
    second = _use(shop, 2500)
    assert second["status"] == "accepted_offline"
    over_day = _use(shop, 2000)
    assert (over_day["exit_code"], over_day["reason"]) == (1, "over-card-daily-limit")
    status = mykey_json("terminal", "status", "--data", str(shop))
    assert status["unsynced"] == 2

    offline_sync = mykey_json("terminal", "sync", "--data", str(shop))
    assert not offline_sync["ok"] and offline_sync["error"]
    assert mykey_json("terminal", "status", "--data", str(shop))["unsynced"] == 2

    ledger.start()
    synced = mykey_json("terminal", "sync", "--data", str(shop))
    assert synced["ok"] and synced["unsynced"] == 0, synced
    looked = mykey_json("terminal", "lookup", "--reader", READER, "--data", str(shop))
    assert looked["online"] and looked["balances"][0]["points"] == 2000  # 6000-500-1000-2500
    assert looked["balances"][0]["overdraft"] == 0

    history = mykey_json("terminal", "history", "--data", str(shop))
    assert history["totals"]["points_used"] == 4000
    assert history["totals"]["unsynced"] == 0
    assert sorted(r["state"] for r in history["rows"]) == ["applied", "applied", "applied"]
    audit = mykey("ledger", "audit", "--db", ledger.database_url)
    assert audit.returncode == 0, audit.stdout + audit.stderr
