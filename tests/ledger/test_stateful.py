"""Hypothesis stateful test: random grants, uses (online and offline), vouchers, expiries and
resends against a model; after every step the audit holds and every balance equals both the
model and the replay of its own history."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, delete, insert, select

from cardio.auth import TrustStore
from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from server_stub.audit import audit
from server_stub.catalog import get_business
from server_stub.clock import jst_date
from server_stub.db.schema import accounts, legs, lots, metadata, terminals, transfers
from server_stub.processing import TerminalContext, process_all
from sync.protocol import Transaction, voucher_check_digit
from tests.ledger.conftest import World, build_world
from tests.ledger.support import card_tx

RESIDENTS = ("RES0A", "RES0B", "RES0C")
LOT_DAYS = 100


@dataclass
class ModelLot:
    expires_on: date
    remaining: int


@dataclass
class ModelVoucher:
    number: str
    owner: str
    points: int
    valid_until: date
    taken: list[tuple[ModelLot, int]]
    status: str = "reserved"


@dataclass
class Resident:
    lots: list[ModelLot] = field(default_factory=list)
    overdraft: int = 0

    @property
    def balance(self) -> int:
        return sum(lot.remaining for lot in self.lots)

    def take(self, points: int) -> list[tuple[ModelLot, int]]:
        taken = []
        for lot in sorted(self.lots, key=lambda x: x.expires_on):  # stable: grant order
            if points <= 0:
                break
            amount = min(points, lot.remaining)
            if amount:
                lot.remaining -= amount
                taken.append((lot, amount))
                points -= amount
        return taken


def reset(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(delete(table))


class LedgerMachine(RuleBasedStateMachine):
    """The model and the real ledger side by side."""

    engine: Engine
    trust: TrustStore
    cards: list[CardProfile]

    vouchers = Bundle("vouchers")

    def __init__(self) -> None:
        super().__init__()
        reset(self.engine)
        self.world: World = build_world(self.engine)
        self.now = datetime.now(UTC)
        self.residents = {name: Resident() for name in RESIDENTS}
        self.offline_today: dict[tuple[str, date], int] = {}
        self.offline_total = 0
        self.serial = 0
        self.model_vouchers: dict[str, ModelVoucher] = {}
        self.last: tuple[Transaction, str, dict[str, Any]] | None = None
        with self.engine.begin() as conn:
            for name, card in zip(RESIDENTS, self.cards, strict=False):
                op.create_mykey_id(conn, name, card.auth_certificate)
            for terminal_id, business in (
                ("TSHOP", "A0001"),
                ("TOFFICE", "S0001"),
                ("TSHOP2", "A0002"),
            ):
                conn.execute(
                    insert(terminals).values(
                        id=terminal_id,
                        business_id=business,
                        public_key=secrets.token_bytes(32),
                        roles="shop,office",
                        name="model",
                        status="active",
                        enrolled_at=self.now,
                    )
                )

    # -- helpers -------------------------------------------------------------------------

    def _card(self, name: str) -> CardProfile:
        return self.cards[RESIDENTS.index(name)]

    def _tx(
        self,
        terminal: str,
        business: str,
        payload: dict[str, Any],
        card: CardProfile | None,
        offline: bool = False,
    ) -> Transaction:
        return card_tx(terminal, business, payload, card, offline=offline, at=self.now)

    def _send(self, tx: Transaction, business: str) -> dict[str, Any]:
        with self.engine.begin() as conn:
            ctx = TerminalContext(
                tx.terminal_id, get_business(conn, business), self.trust, self.now
            )
            result = process_all(conn, ctx, [tx])[0].model_dump(mode="json")
        self.last = (tx, business, result)
        return result

    # -- rules ---------------------------------------------------------------------------

    @rule(name=st.sampled_from(RESIDENTS), points=st.integers(1, 3000))
    def grant(self, name: str, points: int) -> None:
        with self.engine.begin() as conn:
            op.grant_points(conn, self.world.grant_program_id, name, points, now=self.now)
        resident = self.residents[name]
        cleared = min(points, resident.overdraft)
        resident.overdraft -= cleared
        if points - cleared:
            expires = jst_date(self.now) + timedelta(days=LOT_DAYS)
            resident.lots.append(ModelLot(expires, points - cleared))

    @rule(name=st.sampled_from(RESIDENTS), points=st.integers(1, 4000), offline=st.booleans())
    def use(self, name: str, points: int, offline: bool) -> None:
        payload = {"kind": "point_use", "program_id": self.world.program_id, "points": points}
        result = self._send(self._tx("TSHOP", "A0001", payload, self._card(name), offline), "A0001")
        resident = self.residents[name]
        day_key = (name, jst_date(self.now))
        within = (
            points <= 3000
            and self.offline_today.get(day_key, 0) + points <= 5000
            and self.offline_total + points <= 50_000
        )
        if points <= resident.balance and (not offline or within):
            assert result["status"] == "applied", result
            resident.take(points)
        elif offline and within:
            assert result["status"] == "accepted_offline", result
            short = points - resident.balance
            resident.take(resident.balance)
            resident.overdraft += short
            assert result["overdraft"] == short
        else:
            assert result["status"] == "rejected", result
            return
        if offline:
            self.offline_today[day_key] = self.offline_today.get(day_key, 0) + points
            self.offline_total += points
        assert result["balance"] == resident.balance

    @rule(target=vouchers, name=st.sampled_from(RESIDENTS), points=st.integers(1, 1500))
    def issue_voucher(self, name: str, points: int) -> str:
        self.serial += 1
        first = f"{self.serial:012d}"
        number = first + voucher_check_digit(first)
        today = jst_date(self.now)
        payload = {
            "kind": "voucher_issue",
            "program_id": self.world.program_id,
            "vouchers": [{"number": number, "points": points}],
            "valid_from": today.isoformat(),
            "valid_until": (today + timedelta(days=2)).isoformat(),
        }
        result = self._send(self._tx("TOFFICE", "S0001", payload, self._card(name)), "S0001")
        resident = self.residents[name]
        if points <= resident.balance:
            assert result["status"] == "applied", result
            taken = resident.take(points)
            self.model_vouchers[number] = ModelVoucher(
                number, name, points, today + timedelta(days=2), taken
            )
        else:
            assert result["reason"] == "insufficient-balance", result
        return number

    @rule(number=vouchers, offline=st.booleans())
    def redeem(self, number: str, offline: bool) -> None:
        payload = {"kind": "voucher_redeem", "number": number}
        result = self._send(self._tx("TSHOP2", "A0002", payload, None, offline), "A0002")
        voucher = self.model_vouchers.get(number)
        if voucher is None:
            assert result["reason"] == "unknown-voucher", result
        elif jst_date(self.now) > voucher.valid_until:
            assert result["reason"] == "voucher-not-usable", result
        elif voucher.status == "reserved":
            assert result["status"] == "applied", result
            voucher.status = "redeemed"
        elif offline:
            assert result["status"] == "conflict", result
            assert result["conflict"]["first"]["business_id"] == "A0002"
        else:
            assert result["reason"] == "voucher-already-redeemed", result

    @precondition(lambda self: self.last is not None)
    @rule()
    def resend_last(self) -> None:
        assert self.last is not None
        tx, business, first = self.last
        again = self._send(tx, business)
        assert again["status"] == "duplicate"
        assert {k: v for k, v in again.items() if k not in ("status", "original_status")} == {
            k: v for k, v in first.items() if k not in ("status", "original_status")
        }
        self.last = (tx, business, first)

    @rule(days=st.integers(1, 60))
    def advance_and_expire(self, days: int) -> None:
        self.now += timedelta(days=days)
        today = jst_date(self.now)
        with self.engine.begin() as conn:
            op.run_expiry(conn, today, now=self.now)
        for voucher in self.model_vouchers.values():
            # voided once the offline grace after its last valid day is over (72 h: 3 days)
            if voucher.status == "reserved" and voucher.valid_until + timedelta(days=3) < today:
                voucher.status = "voided"
                for lot, amount in voucher.taken:
                    lot.remaining += amount
        for resident in self.residents.values():
            for lot in resident.lots:
                if lot.expires_on < today:
                    lot.remaining = 0

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def ledger_is_sound(self) -> None:
        with self.engine.begin() as conn:
            assert audit(conn) == []
            for name, resident in self.residents.items():
                rows = {
                    r.kind: (r.id, int(r.balance))
                    for r in conn.execute(
                        select(accounts.c.id, accounts.c.kind, accounts.c.balance).where(
                            (accounts.c.owner == name)
                            & (accounts.c.program_id == self.world.program_id)
                        )
                    )
                }
                assert rows.get("resident", (0, 0))[1] == resident.balance
                assert -rows.get("overdraft", (0, 0))[1] == resident.overdraft
                if "resident" in rows:
                    account = rows["resident"][0]
                    running = 0
                    for (amount,) in conn.execute(
                        select(legs.c.amount)
                        .join(transfers, transfers.c.id == legs.c.transfer_id)
                        .where(legs.c.account_id == account)
                        .order_by(transfers.c.id)
                    ):
                        running += int(amount)
                        assert running >= 0
                    assert running == resident.balance
                    stored = sorted(
                        (r.expires_on, int(r.remaining))
                        for r in conn.execute(
                            select(lots.c.expires_on, lots.c.remaining).where(
                                (lots.c.account_id == account) & (lots.c.remaining > 0)
                            )
                        )
                    )
                    modelled = sorted(
                        (lot.expires_on, lot.remaining) for lot in resident.lots if lot.remaining
                    )
                    assert stored == modelled


def test_random_histories_keep_the_ledger_sound(
    engine: Engine, test_ca: TestCA, cards: list[CardProfile], request: pytest.FixtureRequest
) -> None:
    LedgerMachine.engine = engine
    LedgerMachine.trust = TrustStore.from_directory(test_ca.trust_directory)
    LedgerMachine.cards = cards[:3]
    postgres = "postgres" in request.node.name
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=12 if postgres else 25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
