"""The ledger audit: every global invariant, checked from the stored rows.

- every transfer's legs sum to zero, and all balances together sum to zero;
- each account's balance equals the sum of its legs;
- no balance on the wrong side of zero (residents never negative: a shortfall sits on the
  resident's overdraft account, which is never positive);
- each resident balance equals its lots' remaining points; each lot equals its moves;
- every voucher is in exactly one state with the transfers that state needs (a voucher redeemed
  offline that reached the server after its expiry void has both, the payment after the void),
  and escrow holds exactly the reserved vouchers' points;
- no transaction applied twice, and no refused transaction moved points.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from server_stub.db.schema import (
    accounts,
    legs,
    lot_moves,
    lots,
    transactions,
    transfers,
    vouchers,
)
from server_stub.posting import AccountKind


@dataclass(frozen=True)
class Violation:
    """One broken invariant."""

    code: str
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


#: Which side of zero each account kind must stay on: +1 never negative, -1 never positive.
SIGN = {
    AccountKind.RESIDENT: 1,
    AccountKind.ESCROW: 1,
    AccountKind.SETTLEMENT: 1,
    AccountKind.EXPIRY: 1,
    AccountKind.ISSUANCE: -1,
    AccountKind.OVERDRAFT: -1,
}


def audit(conn: Connection) -> list[Violation]:
    """Check every invariant; an empty list means the ledger is sound."""
    found: list[Violation] = []
    for r0 in conn.execute(
        select(legs.c.transfer_id, func.sum(legs.c.amount))
        .group_by(legs.c.transfer_id)
        .having(func.sum(legs.c.amount) != 0)
    ):
        found.append(Violation("transfer-unbalanced", f"transfer {r0[0]} sums to {r0[1]}"))
    total = conn.execute(select(func.coalesce(func.sum(accounts.c.balance), 0))).scalar_one()
    if int(total) != 0:
        found.append(Violation("ledger-unbalanced", f"all balances sum to {total}"))
    leg_sums = (
        select(legs.c.account_id, func.sum(legs.c.amount).label("total"))
        .group_by(legs.c.account_id)
        .subquery()
    )
    for r1 in conn.execute(
        select(accounts.c.id, accounts.c.balance, func.coalesce(leg_sums.c.total, 0)).outerjoin(
            leg_sums, leg_sums.c.account_id == accounts.c.id
        )
    ):
        if int(r1[1]) != int(r1[2]):
            found.append(
                Violation("balance-mismatch", f"account {r1[0]}: balance {r1[1]}, legs {r1[2]}")
            )
    for r2 in conn.execute(select(accounts.c.id, accounts.c.kind, accounts.c.balance)):
        if int(r2.balance) * SIGN[AccountKind(r2.kind)] < 0:
            found.append(
                Violation("balance-wrong-sign", f"{r2.kind} account {r2.id} holds {r2.balance}")
            )
    lot_sums = (
        select(lots.c.account_id, func.sum(lots.c.remaining).label("total"))
        .group_by(lots.c.account_id)
        .subquery()
    )
    for r3 in conn.execute(
        select(accounts.c.id, accounts.c.balance, func.coalesce(lot_sums.c.total, 0))
        .outerjoin(lot_sums, lot_sums.c.account_id == accounts.c.id)
        .where(accounts.c.kind == AccountKind.RESIDENT.value)
    ):
        if int(r3[1]) != int(r3[2]):
            found.append(
                Violation("lots-mismatch", f"account {r3[0]}: balance {r3[1]}, lots {r3[2]}")
            )
    move_sums = (
        select(lot_moves.c.lot_id, func.sum(lot_moves.c.amount).label("total"))
        .group_by(lot_moves.c.lot_id)
        .subquery()
    )
    for r4 in conn.execute(
        select(
            lots.c.id, lots.c.original, lots.c.remaining, func.coalesce(move_sums.c.total, 0)
        ).outerjoin(move_sums, move_sums.c.lot_id == lots.c.id)
    ):
        lot_id, original, remaining, moved = (int(v) for v in r4)
        if remaining != original + moved or not 0 <= remaining <= original:
            found.append(
                Violation(
                    "lot-inconsistent",
                    f"lot {lot_id}: original {original}, moves {moved}, remaining {remaining}",
                )
            )
    found.extend(_audit_vouchers(conn))
    found.extend(_audit_transactions(conn))
    return found


def _audit_vouchers(conn: Connection) -> list[Violation]:
    found: list[Violation] = []
    #: (status, (posted, voided)) a voucher may be in; a voucher redeemed offline in time whose
    #: redemption arrived after the expiry void is paid after the void
    states = {
        ("reserved", (False, False)),
        ("redeemed", (True, False)),
        ("redeemed", (True, True)),
        ("voided", (False, True)),
    }
    for r5 in conn.execute(select(vouchers)):
        have = (r5.post_transfer_id is not None, r5.void_transfer_id is not None)
        paid_before_void = have == (True, True) and r5.post_transfer_id < r5.void_transfer_id
        if (r5.status, have) not in states or paid_before_void or r5.reserve_transfer_id is None:
            found.append(
                Violation(
                    "voucher-state",
                    f"voucher {r5.number}: status {r5.status}, posted {have[0]}, voided {have[1]}",
                )
            )
    reserved = dict(
        conn.execute(
            select(vouchers.c.program_id, func.sum(vouchers.c.points))
            .where(vouchers.c.status == "reserved")
            .group_by(vouchers.c.program_id)
        ).all()
    )
    for r6 in conn.execute(
        select(accounts.c.program_id, accounts.c.balance).where(
            accounts.c.kind == AccountKind.ESCROW.value
        )
    ):
        expected = int(reserved.pop(r6.program_id, 0) or 0)
        if int(r6.balance) != expected:
            found.append(
                Violation(
                    "escrow-mismatch",
                    f"program {r6.program_id}: escrow {r6.balance}, vouchers {expected}",
                )
            )
    for program_id, points in reserved.items():
        if points:
            found.append(Violation("escrow-mismatch", f"program {program_id}: no escrow account"))
    per_voucher = (
        select(transfers.c.voucher_number, transfers.c.kind, func.count())
        .where(transfers.c.voucher_number.is_not(None))
        .group_by(transfers.c.voucher_number, transfers.c.kind)
        .having(func.count() > 1)
    )
    for r7 in conn.execute(per_voucher):
        found.append(Violation("voucher-twice", f"voucher {r7[0]}: {r7[2]} {r7[1]} transfers"))
    return found


def _audit_transactions(conn: Connection) -> list[Violation]:
    found: list[Violation] = []
    refused = conn.execute(
        select(transactions.c.id)
        .join(transfers, transfers.c.transaction_id == transactions.c.id)
        .where(transactions.c.status.in_(["rejected", "conflict"]))
        .distinct()
    ).scalars()
    for transaction_id in refused:
        found.append(Violation("refused-moved-points", f"transaction {transaction_id}"))
    twice = (
        select(transfers.c.transaction_id, transfers.c.kind, func.count())
        .where(
            transfers.c.transaction_id.is_not(None)
            & transfers.c.kind.in_(["grant", "use", "voucher_post"])
        )
        .group_by(transfers.c.transaction_id, transfers.c.kind)
        .having(func.count() > 1)
    )
    for r8 in conn.execute(twice):
        found.append(Violation("applied-twice", f"transaction {r8[0]}: {r8[2]} {r8[1]}"))
    return found
