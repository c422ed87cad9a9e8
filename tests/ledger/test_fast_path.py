"""The ingest fast path keeps the rules: cached certificate checks still judge time and trust,
revocation is read fresh, a refused item's writes are not remembered by the batch, and the
raw statements fail with SQLAlchemy's error types."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from cardio.auth import TrustStore
from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from server_stub import cards as card_rules
from server_stub import operator as op
from server_stub.audit import audit
from server_stub.catalog import get_business
from server_stub.clock import utc_now
from server_stub.db.raw import RawStatement, savepoint
from server_stub.db.schema import business_cards, municipalities
from server_stub.errors import CertificateRejectedError
from server_stub.processing import TerminalContext, process_all
from tests.ledger.conftest import World, resident
from tests.ledger.support import SigningTerminal


def _der(card: CardProfile) -> bytes:
    return card.auth_certificate.public_bytes(serialization.Encoding.DER)


def test_cached_certificate_is_still_judged_at_each_time_and_trust(
    test_ca: TestCA, cards: list[CardProfile]
) -> None:
    certificate = cards[0].auth_certificate
    trust = TrustStore.from_directory(test_ca.trust_directory)
    inside = certificate.not_valid_before_utc + timedelta(seconds=1)
    first = card_rules.validate_card_certificate(trust, _der(cards[0]), inside)
    assert card_rules.validate_card_certificate(trust, _der(cards[0]), inside) == first
    with pytest.raises(CertificateRejectedError):
        card_rules.validate_card_certificate(
            trust, _der(cards[0]), certificate.not_valid_after_utc + timedelta(seconds=1)
        )
    with pytest.raises(CertificateRejectedError):
        card_rules.validate_card_certificate(
            trust, _der(cards[0]), certificate.not_valid_before_utc - timedelta(seconds=1)
        )
    stranger = TrustStore.from_certificates([cards[1].auth_certificate])
    with pytest.raises(CertificateRejectedError):
        card_rules.validate_card_certificate(stranger, _der(cards[0]), inside)


def test_revocation_is_read_fresh_within_one_batch(
    shop: SigningTerminal,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    test_ca: TestCA,
) -> None:
    resident(engine, world, cards[3], "FAST0001", 100)
    use = {"kind": "point_use", "program_id": world.program_id, "points": 10}
    assert shop.authorize(shop.tx(use, cards[3]))["status"] == "applied"  # certificate cached
    with engine.begin() as conn:
        test_ca.revoke(cards[3].auth_certificate)
        op.import_crl(
            conn,
            test_ca.crl().public_bytes(Encoding.DER),
            TrustStore.from_directory(test_ca.trust_directory),
        )
    results = shop.push(shop.tx(use, cards[3]), shop.tx(use, cards[3])).json()["results"]
    assert [r["reason"] for r in results] == ["certificate-revoked"] * 2


def test_refused_item_does_not_leave_its_card_remembered_for_the_batch(
    shop: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[1], "FAST0002", 100)
    too_much = {"kind": "point_use", "program_id": world.program_id, "points": 1000}
    fine = {"kind": "point_use", "program_id": world.program_id, "points": 40}
    results = shop.push(shop.tx(too_much, cards[1]), shop.tx(fine, cards[1])).json()["results"]
    assert [r["status"] for r in results] == ["rejected", "applied"]
    assert results[1]["balance"] == 60
    with engine.begin() as conn:
        seen = conn.execute(
            select(business_cards.c.mykey_id).where(business_cards.c.business_id == "A0001")
        ).scalars()
        assert list(seen) == ["FAST0002"]  # the applied item's note survived the refusal
        assert audit(conn) == []


_INSERT_MUNICIPALITY = RawStatement(
    "INSERT INTO municipalities (code, name, created_at) VALUES (:code, :name, :created_at)"
)


def test_raw_statements_roll_back_their_savepoint_and_raise_sqlalchemy_errors(
    engine: Engine, world: World
) -> None:
    row = {"code": "141305", "name": "二重", "created_at": utc_now()}
    with engine.begin() as conn:
        with pytest.raises(IntegrityError), savepoint(conn):
            _INSERT_MUNICIPALITY.run(conn, {**row, "code": "131105"})
            _INSERT_MUNICIPALITY.run(conn, row)  # Kawasaki exists already
        codes = conn.execute(select(municipalities.c.code).order_by(municipalities.c.code))
        assert list(codes.scalars()) == ["131164", "141305"]  # the first insert was undone


def test_batch_memory_does_not_outlive_its_database_transaction(
    shop: SigningTerminal,
    engine: Engine,
    world: World,
    cards: list[CardProfile],
    test_ca: TestCA,
) -> None:
    resident(engine, world, cards[0], "FAST0003", 100)
    trust = TrustStore.from_directory(test_ca.trust_directory)
    use = {"kind": "point_use", "program_id": world.program_id, "points": 5}
    with engine.begin() as conn:
        ctx = TerminalContext(shop.terminal_id, get_business(conn, "A0001"), trust, utc_now())
    with engine.connect() as conn:
        with conn.begin() as rolled_back:
            assert process_all(conn, ctx, [shop.tx(use, cards[0])])[0].status == "applied"
            rolled_back.rollback()  # the batch never commits: its note of the card is gone
        with conn.begin():
            assert process_all(conn, ctx, [shop.tx(use, cards[0])])[0].balance == 95
    with engine.begin() as conn:
        seen = conn.execute(select(business_cards.c.mykey_id)).scalars()
        assert list(seen) == ["FAST0003"]
