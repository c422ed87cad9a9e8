"""Double-entry posting: accounts, row locks, transfers with legs that sum to zero, and lots.

Every balance change goes through :func:`post_transfer`. Callers first fetch the accounts with
:func:`account_id` and lock them with :func:`lock_accounts` (``SELECT … FOR UPDATE`` in id
order on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers), decide using the
locked balances, then post.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Connection, bindparam, func, insert, select, update

from server_stub.db.schema import accounts, legs, lot_moves, lots, transfers
from server_stub.db.upsert import insert_ignore


class AccountKind(StrEnum):
    """The kinds of ledger account (DOMAIN.md §4)."""

    ISSUANCE = "issuance"
    RESIDENT = "resident"
    ESCROW = "escrow"
    SETTLEMENT = "settlement"
    EXPIRY = "expiry"
    OVERDRAFT = "overdraft"


class TransferKind(StrEnum):
    """What a transfer records."""

    GRANT = "grant"
    USE = "use"
    VOUCHER_RESERVE = "voucher_reserve"
    VOUCHER_POST = "voucher_post"
    VOUCHER_VOID = "voucher_void"
    EXPIRY = "expiry"


_FIND_ACCOUNT = select(accounts.c.id).where(
    (accounts.c.kind == bindparam("kind"))
    & (accounts.c.program_id == bindparam("program_id"))
    & (accounts.c.owner == bindparam("owner"))
)
_LOCK_BY_ID = (
    select(accounts.c.id, accounts.c.balance)
    .where(accounts.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(accounts.c.id)
    .with_for_update()
)
_LOCK_BY_NAME = (
    select(accounts.c.id, accounts.c.kind, accounts.c.owner, accounts.c.balance)
    .where(
        (accounts.c.program_id == bindparam("program_id"))
        & accounts.c.kind.in_(bindparam("kinds", expanding=True))
        & accounts.c.owner.in_(bindparam("owners", expanding=True))
    )
    .order_by(accounts.c.id)
    .with_for_update()
)


def account_id(conn: Connection, kind: AccountKind, program_id: int, owner: str = "") -> int:
    """The id of the (kind, program, owner) account, created with balance 0 if missing."""
    key = {"kind": kind.value, "program_id": program_id, "owner": owner}
    found = conn.execute(_FIND_ACCOUNT, key).scalar_one_or_none()
    if found is not None:
        return int(found)
    insert_ignore(conn, accounts, {**key, "balance": 0})
    return int(conn.execute(_FIND_ACCOUNT, key).scalar_one())


def lock_accounts(conn: Connection, ids: Iterable[int]) -> dict[int, int]:
    """Lock the accounts (in id order, so two transfers never deadlock); return id -> balance."""
    rows = conn.execute(_LOCK_BY_ID, {"ids": sorted(set(ids))}).all()
    return {int(row.id): int(row.balance) for row in rows}


@dataclass(frozen=True)
class LockedAccount:
    """An account locked for this transaction: its id and balance at locking time."""

    id: int
    balance: int


def lock_program_accounts(
    conn: Connection, program_id: int, names: Iterable[tuple[AccountKind, str]]
) -> dict[tuple[AccountKind, str], LockedAccount]:
    """Lock (creating when missing) the program's accounts named (kind, owner), in id order;
    one query in the common case where they all exist."""
    wanted = set(names)
    params = {
        "program_id": program_id,
        "kinds": sorted({kind.value for kind, _ in wanted}),
        "owners": sorted({owner for _, owner in wanted}),
    }
    for attempt in range(2):
        found = {
            (AccountKind(row.kind), str(row.owner)): LockedAccount(int(row.id), int(row.balance))
            for row in conn.execute(_LOCK_BY_NAME, params)
        }
        missing = wanted - set(found)
        if not missing:
            return {name: found[name] for name in wanted}
        if attempt:
            break
        for kind, owner in sorted(missing):
            values = {"kind": kind.value, "program_id": program_id, "owner": owner, "balance": 0}
            insert_ignore(conn, accounts, values)
    raise AssertionError(f"accounts {sorted(missing)} could not be created")


def balance_of(conn: Connection, kind: AccountKind, program_id: int, owner: str) -> int:
    """The balance of an account (0 when it does not exist yet)."""
    value = conn.execute(
        select(accounts.c.balance).where(
            (accounts.c.kind == kind.value)
            & (accounts.c.program_id == program_id)
            & (accounts.c.owner == owner)
        )
    ).scalar_one_or_none()
    return int(value or 0)


@dataclass(frozen=True)
class TransferInfo:
    """Descriptive columns of a transfer (no item-level data exists to put here)."""

    kind: TransferKind
    program_id: int
    points: int
    now: datetime
    overdraft: int = 0
    transaction_id: str | None = None
    mykey_id: str | None = None
    business_id: str | None = None
    grant_program_id: int | None = None
    voucher_number: str | None = None
    terminal_time: datetime | None = None
    reference: str | None = None


_INSERT_TRANSFER = insert(transfers).returning(transfers.c.id)
_INSERT_LEG = insert(legs)
_ADD_TO_BALANCE = (
    update(accounts)
    .where(accounts.c.id == bindparam("acc"))
    .values(balance=accounts.c.balance + bindparam("amt"))
)
_INSERT_LOT = insert(lots)
_INSERT_MOVE = insert(lot_moves)
_LOTS_WITH_POINTS = (
    select(lots.c.id, lots.c.remaining)
    .where((lots.c.account_id == bindparam("account")) & (lots.c.remaining > 0))
    .order_by(lots.c.expires_on, lots.c.id)
)
_ADD_TO_LOT = (
    update(lots)
    .where(lots.c.id == bindparam("lot"))
    .values(remaining=lots.c.remaining + bindparam("amt"))
)


def post_transfer(conn: Connection, info: TransferInfo, amounts: Mapping[int, int]) -> int:
    """Record one transfer: its legs (account id -> signed amount, summing to zero) and the
    balance updates. The accounts must already be locked by the caller."""
    nonzero = {acc: amt for acc, amt in amounts.items() if amt != 0}
    if sum(nonzero.values()) != 0:
        raise AssertionError(f"transfer legs do not sum to zero: {nonzero}")
    transfer_id = int(
        conn.execute(
            _INSERT_TRANSFER,
            {
                "kind": info.kind.value,
                "program_id": info.program_id,
                "transaction_id": info.transaction_id,
                "mykey_id": info.mykey_id,
                "business_id": info.business_id,
                "grant_program_id": info.grant_program_id,
                "voucher_number": info.voucher_number,
                "points": info.points,
                "overdraft": info.overdraft,
                "created_at": info.now,
                "terminal_time": info.terminal_time,
                "reference": info.reference,
            },
        ).scalar_one()
    )
    if nonzero:
        ordered = sorted(nonzero.items())
        conn.execute(
            _INSERT_LEG,
            [{"transfer_id": transfer_id, "account_id": a, "amount": n} for a, n in ordered],
        )
        conn.execute(_ADD_TO_BALANCE, [{"acc": a, "amt": n} for a, n in ordered])
    return transfer_id


def add_lot(
    conn: Connection, account: int, transfer_id: int, expires_on: date, points: int
) -> None:
    """A new lot of ``points`` expiring at the end of ``expires_on`` (JST)."""
    if points > 0:
        conn.execute(
            _INSERT_LOT,
            {
                "account_id": account,
                "transfer_id": transfer_id,
                "expires_on": expires_on,
                "original": points,
                "remaining": points,
            },
        )


def consume_lots(conn: Connection, account: int, transfer_id: int, points: int) -> int:
    """Take up to ``points`` from the account's lots, earliest expiry first; return the amount
    taken (less than ``points`` only when the lots run out)."""
    left = points
    moves: list[dict[str, int]] = []
    for row in conn.execute(_LOTS_WITH_POINTS, {"account": account}).all():
        if left <= 0:
            break
        take = min(left, int(row.remaining))
        moves.append({"transfer_id": transfer_id, "lot_id": int(row.id), "amount": -take})
        left -= take
    if moves:
        conn.execute(_ADD_TO_LOT, [{"lot": m["lot_id"], "amt": m["amount"]} for m in moves])
        conn.execute(_INSERT_MOVE, moves)
    return points - left


def restore_lots(conn: Connection, from_transfer: int, transfer_id: int) -> int:
    """Give back to their lots the points that ``from_transfer`` consumed; return the total."""
    rows = conn.execute(
        select(lot_moves.c.lot_id, func.sum(lot_moves.c.amount).label("amount"))
        .where(lot_moves.c.transfer_id == from_transfer)
        .group_by(lot_moves.c.lot_id)
    ).all()
    total = 0
    for row in rows:
        give = -int(row.amount)
        if give <= 0:
            continue
        conn.execute(
            update(lots).where(lots.c.id == row.lot_id).values(remaining=lots.c.remaining + give)
        )
        conn.execute(
            insert(lot_moves).values(transfer_id=transfer_id, lot_id=row.lot_id, amount=give)
        )
        total += give
    return total
