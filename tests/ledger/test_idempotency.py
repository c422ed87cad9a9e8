"""Idempotency by transaction ID, forever: repeats, lost replies, half-accepted batches."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from server_stub.audit import audit
from server_stub.db.schema import transfers
from sync.protocol import PointUse
from tests.ledger.conftest import World, resident, use
from tests.ledger.support import SigningTerminal, certificate_b64, sign_with_card


def _transfer_count(engine: Engine) -> int:
    with engine.begin() as conn:
        return int(conn.execute(select(func.count()).select_from(transfers)).scalar_one())


def test_same_batch_twice_applies_once(
    shop: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "IDEM0001", 1000)
    batch = [shop.tx(use(world, 100), cards[0]) for _ in range(5)]
    first = shop.push(*batch).json()["results"]
    assert [r["status"] for r in first] == ["applied"] * 5
    assert [r["balance"] for r in first] == [900, 800, 700, 600, 500]
    count = _transfer_count(engine)
    again = shop.push(*batch).json()["results"]
    assert [r["status"] for r in again] == ["duplicate"] * 5
    assert [r["original_status"] for r in again] == ["applied"] * 5
    assert [r["balance"] for r in again] == [900, 800, 700, 600, 500]  # the first answers
    assert _transfer_count(engine) == count


def test_retry_after_lost_reply_and_mixed_resend(
    shop: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "IDEM0002", 300)
    sent = shop.tx(use(world, 200), cards[0])
    shop.push(sent)  # the server commits; the terminal never sees the reply
    fresh = shop.tx(use(world, 50), cards[0])
    results = shop.push(sent, fresh).json()["results"]
    assert [r["status"] for r in results] == ["duplicate", "applied"]
    assert results[1]["balance"] == 50
    # the online path agrees with the batch path on the same ID
    assert shop.authorize(sent)["status"] == "duplicate"


def test_half_accepted_batch_keeps_each_item_atomic(
    shop: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "IDEM0003", 250)
    batch = [
        shop.tx(use(world, 100), cards[0]),
        shop.tx(use(world, 1000), cards[0]),  # refused: nothing of it stays
        shop.tx(use(world, 150), cards[0]),
        shop.tx(use(world, 1), cards[0], signed=False),  # refused: no card signature
    ]
    results = shop.push(*batch).json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied", "rejected"]
    assert results[2]["balance"] == 0
    # the refusal is part of the record: a resend gets the same answers, even after a top-up
    with engine.begin() as conn:
        op.grant_points(conn, world.grant_program_id, "IDEM0003", 5000)
    again = shop.push(*batch).json()["results"]
    assert [r["original_status"] for r in again] == ["applied", "rejected", "applied", "rejected"]
    assert again[1]["reason"] == "insufficient-balance"
    with engine.begin() as conn:
        assert audit(conn) == []


def test_same_id_with_other_content_is_a_conflict(
    shop: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "IDEM0004", 500)
    original = shop.tx(use(world, 100), cards[0])
    assert shop.authorize(original)["status"] == "applied"

    altered = sign_with_card(
        original.model_copy(update={"payload": PointUse(program_id=world.program_id, points=400)}),
        cards[0],
    )
    result = shop.authorize(altered)
    assert (result["status"], result["reason"]) == ("conflict", "transaction-id-conflict")
    look = shop.call("POST", "/v1/lookup", {"certificate": certificate_b64(cards[0])}).json()
    assert look["balances"][0]["points"] == 400
