"""Double-entry posting: accounts, row locks, transfers with legs that sum to zero, and lots.

Every balance change goes through :func:`post_transfer`. Callers first lock the accounts with
:func:`lock_program_accounts` (``SELECT … FOR UPDATE`` in id order on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` already serialises writers), decide using the locked balances, then post.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Connection, func, insert, select, update

from server_stub.db.raw import RawStatement
from server_stub.db.schema import accounts, lot_moves, lots
from server_stub.db.upsert import insert_ignore
from server_stub.events import EventKind, record_event


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


@dataclass(frozen=True)
class LockedAccount:
    """An account locked for this transaction: its id and balance at locking time."""

    id: int
    balance: int


_LOCKS_BY_NAME: dict[tuple[int, int], RawStatement] = {}


def _placeholders(prefix: str, count: int) -> str:
    return ", ".join(f":{prefix}{i}" for i in range(count))


def _lock_by_name(kinds: int, owners: int) -> RawStatement:
    """Lock a program's accounts by kind and owner (this many of each), as a raw statement."""
    statement = _LOCKS_BY_NAME.get((kinds, owners))
    if statement is None:
        # Only numbered placeholder names are interpolated into the text.
        sql = (
            "SELECT id, kind, owner, balance FROM accounts WHERE program_id = :program_id"  # noqa: S608
            " AND kind IN (" + _placeholders("k", kinds) + ")"
            " AND owner IN (" + _placeholders("o", owners) + ") ORDER BY id"
        )
        statement = _LOCKS_BY_NAME[kinds, owners] = RawStatement(sql, for_update=True)
    return statement


def lock_program_accounts(
    conn: Connection, program_id: int, names: Iterable[tuple[AccountKind, str]]
) -> dict[tuple[AccountKind, str], LockedAccount]:
    """Lock (creating when missing) the program's accounts named (kind, owner), in id order;
    one query in the common case where they all exist."""
    wanted = set(names)
    kinds = sorted({kind.value for kind, _ in wanted})
    owners = sorted({owner for _, owner in wanted})
    statement = _lock_by_name(len(kinds), len(owners))
    params: dict[str, object] = {"program_id": program_id}
    params.update({f"k{i}": kind for i, kind in enumerate(kinds)})
    params.update({f"o{i}": owner for i, owner in enumerate(owners)})
    for attempt in range(2):
        found = {
            (AccountKind(kind), str(owner)): LockedAccount(int(id_), int(balance))
            for id_, kind, owner, balance in statement.all(conn, params)
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


_LOCK_SETTLEMENTS = RawStatement(
    "SELECT id FROM accounts WHERE kind = 'settlement' AND owner = :business_id ORDER BY id",
    for_update=True,
)


def lock_business_settlements(conn: Connection, business_id: str) -> None:
    """Lock the business's settlement accounts (all programs) before a batch of its items.

    A batch holds the locks of all its items until it commits, and each item locks its accounts
    in id order; two batches of one shop that share residents would then lock resident and
    shop accounts in crossing orders and deadlock. Taking the shop's accounts first makes its
    batches queue instead. Only the business's own batches ever lock these accounts (uses and
    redemptions pay the terminal's business), so this wait never happens while holding other
    locks. A no-op on SQLite, whose writers are serialised anyway."""
    if conn.dialect.name != "sqlite":
        _LOCK_SETTLEMENTS.all(conn, {"business_id": business_id})


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


_INSERT_TRANSFER = RawStatement(
    "INSERT INTO transfers (kind, program_id, transaction_id, mykey_id, business_id,"
    " grant_program_id, voucher_number, points, overdraft, created_at, terminal_time, reference)"
    " VALUES (:kind, :program_id, :transaction_id, :mykey_id, :business_id, :grant_program_id,"
    " :voucher_number, :points, :overdraft, :created_at, :terminal_time, :reference)"
    " RETURNING id"
)
_INSERT_LEG = RawStatement(
    "INSERT INTO legs (transfer_id, account_id, amount) VALUES (:transfer_id, :account_id, :amount)"
)
_ADD_TO_BALANCE = RawStatement("UPDATE accounts SET balance = balance + :amt WHERE id = :acc")
_INSERT_LOT = RawStatement(
    "INSERT INTO lots (account_id, transfer_id, expires_on, original, remaining)"
    " VALUES (:account_id, :transfer_id, :expires_on, :original, :remaining)"
)
_INSERT_MOVE = RawStatement(
    "INSERT INTO lot_moves (transfer_id, lot_id, amount) VALUES (:transfer_id, :lot_id, :amount)"
)
_LOTS_WITH_POINTS = RawStatement(
    "SELECT id, remaining FROM lots WHERE account_id = :account AND remaining > 0"
    " ORDER BY expires_on, id"
)
_ADD_TO_LOT = RawStatement("UPDATE lots SET remaining = remaining + :amt WHERE id = :lot")


def post_transfer(
    conn: Connection,
    info: TransferInfo,
    amounts: Mapping[int, int],
    *,
    consume_from: tuple[int, int] | None = None,
    balance_event: str | None = None,
) -> int:
    """Record one transfer: its legs (account id -> signed amount, summing to zero) and the
    balance updates. The accounts must already be locked by the caller.

    ``consume_from`` (account, points): then take the points from that account's lots
    (:func:`consume_lots`); ``balance_event``: then note a balance change of that MyKey ID in
    the change feed. On PostgreSQL all of it is one statement (one round trip)."""
    nonzero = {acc: amt for acc, amt in amounts.items() if amt != 0}
    if sum(nonzero.values()) != 0:
        raise AssertionError(f"transfer legs do not sum to zero: {nonzero}")
    ordered = sorted(nonzero.items())
    params: dict[str, object] = {
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
    }
    if conn.dialect.name == "postgresql":
        return _post_in_one_statement(conn, params, ordered, consume_from, balance_event)
    row = _INSERT_TRANSFER.first(conn, params)
    if row is None:  # pragma: no cover - RETURNING always gives the new row
        raise AssertionError("the transfer was not inserted")
    transfer_id = int(row[0])
    if ordered:
        _INSERT_LEG.executemany(
            conn, [{"transfer_id": transfer_id, "account_id": a, "amount": n} for a, n in ordered]
        )
        _ADD_TO_BALANCE.executemany(conn, [{"acc": a, "amt": n} for a, n in ordered])
    if consume_from is not None:
        consume_lots(conn, consume_from[0], transfer_id, consume_from[1])
    if balance_event is not None:
        record_event(conn, EventKind.BALANCE, info.now, mykey_id=balance_event)
    return transfer_id


_ONE_STATEMENT: dict[tuple[int, bool, bool], RawStatement] = {}


def _one_statement(legs: int, consume: bool, event: bool) -> RawStatement:
    """PostgreSQL: the transfer, its legs, the balance updates, the lot consumption (earliest
    expiry first: each lot gives what the ones before it left to take) and the change-feed
    row, as data-modifying CTEs of one statement (they all see the snapshot before it)."""
    key = (legs, consume, event)
    statement = _ONE_STATEMENT.get(key)
    if statement is not None:
        return statement
    parts = [
        "t AS (INSERT INTO transfers (kind, program_id, transaction_id, mykey_id, business_id,"
        " grant_program_id, voucher_number, points, overdraft, created_at, terminal_time,"
        " reference) VALUES (:kind, :program_id, :transaction_id, :mykey_id, :business_id,"
        " :grant_program_id, :voucher_number, :points, :overdraft, :created_at, :terminal_time,"
        " :reference) RETURNING id)"
    ]
    if legs:
        values = ", ".join(f"(CAST(:a{i} AS BIGINT), CAST(:n{i} AS BIGINT))" for i in range(legs))
        parts += [
            f"v (account_id, amount) AS (VALUES {values})",
            "l AS (INSERT INTO legs (transfer_id, account_id, amount)"
            " SELECT t.id, v.account_id, v.amount FROM t CROSS JOIN v ORDER BY v.account_id)",
            "b AS (UPDATE accounts SET balance = accounts.balance + v.amount FROM v"
            " WHERE accounts.id = v.account_id)",
        ]
    if consume:
        parts += [
            "o AS (SELECT id, remaining, expires_on, CAST(COALESCE(SUM(remaining) OVER"
            " (ORDER BY expires_on, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)"
            " AS BIGINT) AS before FROM lots WHERE account_id = :lot_account AND remaining > 0)",
            "k AS (SELECT o.id, o.expires_on, LEAST(o.remaining, :lot_points - o.before) AS take"
            " FROM o WHERE o.before < :lot_points)",
            "u AS (UPDATE lots SET remaining = lots.remaining - k.take FROM k"
            " WHERE lots.id = k.id)",
            "m AS (INSERT INTO lot_moves (transfer_id, lot_id, amount)"
            " SELECT t.id, k.id, -k.take FROM t CROSS JOIN k ORDER BY k.expires_on, k.id)",
        ]
    if event:
        parts.append(
            "e AS (INSERT INTO sync_events (kind, mykey_id, business_id, street_id, ref,"
            " created_at) VALUES (:event_kind, :event_mykey_id, NULL, NULL, NULL, :created_at))"
        )
    sql = "WITH " + ", ".join(parts) + " SELECT id FROM t"  # noqa: S608 - fixed texts only
    statement = RawStatement(sql)
    _ONE_STATEMENT[key] = statement
    return statement


def _post_in_one_statement(
    conn: Connection,
    params: dict[str, object],
    ordered: list[tuple[int, int]],
    consume_from: tuple[int, int] | None,
    balance_event: str | None,
) -> int:
    for i, (account, amount) in enumerate(ordered):
        params[f"a{i}"] = account
        params[f"n{i}"] = amount
    if consume_from is not None:
        params["lot_account"], params["lot_points"] = consume_from
    if balance_event is not None:
        params["event_kind"] = EventKind.BALANCE.value
        params["event_mykey_id"] = balance_event
    statement = _one_statement(len(ordered), consume_from is not None, balance_event is not None)
    row = statement.first(conn, params)
    if row is None:  # pragma: no cover - RETURNING always gives the new row
        raise AssertionError("the transfer was not inserted")
    return int(row[0])


def add_lot(
    conn: Connection, account: int, transfer_id: int, expires_on: date, points: int
) -> None:
    """A new lot of ``points`` expiring at the end of ``expires_on`` (JST)."""
    if points > 0:
        _INSERT_LOT.run(
            conn,
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
    for lot_id, remaining in _LOTS_WITH_POINTS.all(conn, {"account": account}):
        if left <= 0:
            break
        take = min(left, int(remaining))
        moves.append({"transfer_id": transfer_id, "lot_id": int(lot_id), "amount": -take})
        left -= take
    if moves:
        _ADD_TO_LOT.executemany(conn, [{"lot": m["lot_id"], "amt": m["amount"]} for m in moves])
        _INSERT_MOVE.executemany(conn, moves)
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
