"""Ledger rules through the operator library and the posting engine (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select, update

from cardio.virtual.profile import CardProfile
from server_stub import catalog, ledger
from server_stub import operator as op
from server_stub.audit import audit
from server_stub.clock import jst_date, utc_now
from server_stub.db.schema import accounts, lots, vouchers
from server_stub.errors import (
    AlreadyExistsError,
    InsufficientBalanceError,
    InvalidMunicipalityCodeError,
    MyKeyIdTakenError,
)
from server_stub.posting import AccountKind, balance_of
from sync.protocol import is_valid_municipality_code, is_valid_voucher_number
from tests.ledger.conftest import KAWASAKI, World, resident
from tests.ledger.support import voucher_number


def test_municipality_check_digits() -> None:
    assert is_valid_municipality_code("141305")  # Kawasaki
    assert is_valid_municipality_code("131164")  # Toshima
    assert not is_valid_municipality_code("141306")
    assert not is_valid_municipality_code("14130")
    assert not is_valid_municipality_code("１４１３０５")


def test_voucher_number_check_digit() -> None:
    assert is_valid_voucher_number(voucher_number(123456789012))
    assert is_valid_voucher_number("4901234567894")
    assert not is_valid_voucher_number("4901234567895")


def test_bad_municipality_code_is_refused(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(InvalidMunicipalityCodeError) as caught:
        op.create_municipality(conn, "141306", "誤り市")
    assert "自治体コード" in caught.value.title_ja


def test_duplicates_are_refused_without_breaking_the_transaction(
    engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    with engine.begin() as conn:
        with pytest.raises(AlreadyExistsError):
            op.create_municipality(conn, KAWASAKI, "川崎市")
        op.create_mykey_id(conn, "KEY34567", cards[0].auth_certificate)
        with pytest.raises(MyKeyIdTakenError) as caught:
            op.create_mykey_id(conn, "key34567", cards[1].auth_certificate)
        assert caught.value.candidates
        assert all(c.lower() != "key34567" for c in caught.value.candidates)


def test_lots_are_spent_earliest_expiry_first_and_expire(
    engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "MY000001")
    today = utc_now()
    with engine.begin() as conn:
        # two grants 10 days apart: the older lot expires first
        op.grant_points(
            conn, world.grant_program_id, "MY000001", 300, now=today - timedelta(days=10)
        )
        op.grant_points(conn, world.grant_program_id, "MY000001", 200, now=today)
        program = catalog.get_program(conn, world.program_id)
        shop = catalog.get_business(conn, "A0001")
        ledger.spend(conn, program, "MY000001", shop, 250, today)
        remaining = [
            (row.expires_on, row.remaining)
            for row in conn.execute(select(lots.c.expires_on, lots.c.remaining).order_by(lots.c.id))
        ]
    first_expiry = jst_date(today - timedelta(days=10)) + timedelta(days=100)
    second_expiry = jst_date(today) + timedelta(days=100)
    assert remaining == [(first_expiry, 50), (second_expiry, 200)]
    with engine.begin() as conn:
        report = op.run_expiry(conn, first_expiry + timedelta(days=1))
        assert (report.lots_expired, report.points_expired) == (1, 50)
        assert op.run_expiry(conn, first_expiry + timedelta(days=1)).points_expired == 0
        assert balance_of(conn, AccountKind.RESIDENT, world.program_id, "MY000001") == 200
        assert balance_of(conn, AccountKind.EXPIRY, world.program_id, "") == 50
        assert audit(conn) == []


def test_overdraft_only_when_allowed_and_cleared_by_grants(
    engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "MY000002")
    now = utc_now()
    with engine.begin() as conn:
        op.grant_points(conn, world.grant_program_id, "MY000002", 100)
        program = catalog.get_program(conn, world.program_id)
        shop = catalog.get_business(conn, "A0001")
        with pytest.raises(InsufficientBalanceError):
            ledger.spend(conn, program, "MY000002", shop, 400, now)
        moved = ledger.spend(conn, program, "MY000002", shop, 400, now, allow_overdraft=True)
        assert (moved.balance, moved.overdraft) == (0, 300)
        assert balance_of(conn, AccountKind.SETTLEMENT, world.program_id, "A0001") == 400
        assert op.grant_points(conn, world.grant_program_id, "MY000002", 200).balance == 0
        assert balance_of(conn, AccountKind.OVERDRAFT, world.program_id, "MY000002") == -100
        assert op.grant_points(conn, world.grant_program_id, "MY000002", 500).balance == 400
        assert balance_of(conn, AccountKind.OVERDRAFT, world.program_id, "MY000002") == 0
        assert audit(conn) == []


def test_voucher_reserve_post_and_void(
    engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    resident(engine, world, cards[0], "MY000003")
    now = utc_now()
    with engine.begin() as conn:
        op.grant_points(conn, world.grant_program_id, "MY000003", 1000)
        program = catalog.get_program(conn, world.program_id)
        for serial, points in ((1, 300), (2, 200)):
            number = voucher_number(serial)
            moved = ledger.reserve_voucher(
                conn, program, "MY000003", points, now, voucher_number=number, business_id="S0001"
            )
            conn.execute(
                vouchers.insert().values(
                    number=number,
                    program_id=program.id,
                    mykey_id="MY000003",
                    points=points,
                    issuer_business_id="S0001",
                    street_id="S0001",
                    valid_from=jst_date(now),
                    valid_until=jst_date(now),
                    status="reserved",
                    reserve_transfer_id=moved.transfer_id,
                    issued_at=now,
                )
            )
        assert balance_of(conn, AccountKind.RESIDENT, program.id, "MY000003") == 500
        post = ledger.post_voucher(conn, program, voucher_number(1), "MY000003", 300, "A0002", now)
        conn.execute(
            update(vouchers)
            .where(vouchers.c.number == voucher_number(1))
            .values(status="redeemed", post_transfer_id=post, redeemer_business_id="A0002")
        )
        assert audit(conn) == []
        # voided after its last valid day plus the offline grace (72 h: 3 days)
        report = op.run_expiry(conn, jst_date(now) + timedelta(days=1 + 3))
        assert (report.vouchers_voided, report.points_returned) == (1, 200)
        assert balance_of(conn, AccountKind.RESIDENT, program.id, "MY000003") == 700
        assert balance_of(conn, AccountKind.SETTLEMENT, program.id, "A0002") == 300
        assert balance_of(conn, AccountKind.ESCROW, program.id, "") == 0
        assert audit(conn) == []
        # paid before a void is not a late payment after it: the audit names the voucher
        void = conn.execute(
            select(vouchers.c.void_transfer_id).where(vouchers.c.number == voucher_number(2))
        ).scalar_one()
        conn.execute(
            update(vouchers)
            .where(vouchers.c.number == voucher_number(1))
            .values(void_transfer_id=void)
        )
        assert {v.code for v in audit(conn)} == {"voucher-state"}


def test_audit_finds_tampering(engine: Engine, world: World, cards: list[CardProfile]) -> None:
    resident(engine, world, cards[0], "MY000004")
    with engine.begin() as conn:
        op.grant_points(conn, world.grant_program_id, "MY000004", 100)
        conn.execute(
            update(accounts)
            .where((accounts.c.owner == "MY000004") & (accounts.c.kind == "resident"))
            .values(balance=accounts.c.balance + 1)
        )
        codes = {v.code for v in audit(conn)}
    assert {"ledger-unbalanced", "balance-mismatch", "lots-mismatch"} <= codes


def test_expiry_as_of_date_only_touches_older_lots(engine: Engine, world: World) -> None:
    with engine.begin() as conn:
        report = op.run_expiry(conn, date(2000, 1, 1))
    assert report.points_expired == 0


def test_relinking_a_service_id_replaces_the_customer_id(
    engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    from server_stub.db.schema import service_ids

    resident(engine, world, cards[0], "MY000005")
    with engine.begin() as conn:
        op.link_service_id(conn, "MY000005", "L0001", "OLD-1")
        op.link_service_id(conn, "MY000005", "L0001", "NEW-2")
        linked = conn.execute(select(service_ids.c.customer_id)).scalars().all()
    assert linked == ["NEW-2"]


def test_migrations_match_the_schema(db_url: str) -> None:
    from alembic import command

    from server_stub.db.migrate import alembic_config, migrate

    migrate(db_url)  # idempotent
    command.check(alembic_config(db_url))  # raises when schema.py and migrations differ
