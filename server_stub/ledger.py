"""The ledger's movements: grants, uses (with offline overdraft), vouchers (reserve -> post or
void) and expiry. Each function runs inside the caller's database transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, and_, func, select, update

from server_stub.catalog import Business, Program, get_program
from server_stub.clock import jst_date
from server_stub.db.schema import accounts, lot_moves, lots, vouchers
from server_stub.errors import InsufficientBalanceError, LedgerError
from server_stub.posting import (
    AccountKind,
    TransferInfo,
    TransferKind,
    add_lot,
    lock_program_accounts,
    post_transfer,
    restore_lots,
)


@dataclass(frozen=True)
class Movement:
    """The outcome of one movement on a resident's account."""

    transfer_id: int
    balance: int
    overdraft: int = 0


def grant(
    conn: Connection,
    program: Program,
    mykey_id: str,
    points: int,
    now: datetime,
    *,
    grant_program_id: int | None = None,
    transaction_id: str | None = None,
    business_id: str | None = None,
    terminal_time: datetime | None = None,
    reference: str | None = None,
) -> Movement:
    """Issue ``points`` to the resident; an outstanding overdraft is cleared first, the rest
    becomes a lot expiring ``lot_validity_days`` after today (JST)."""
    if points <= 0:
        raise ValueError("grant points must be positive")
    locked = lock_program_accounts(
        conn,
        program.id,
        [
            (AccountKind.ISSUANCE, ""),
            (AccountKind.RESIDENT, mykey_id),
            (AccountKind.OVERDRAFT, mykey_id),
        ],
    )
    issuance = locked[AccountKind.ISSUANCE, ""].id
    resident = locked[AccountKind.RESIDENT, mykey_id].id
    overdraft = locked[AccountKind.OVERDRAFT, mykey_id].id
    owed = -locked[AccountKind.OVERDRAFT, mykey_id].balance
    cleared = min(points, owed)
    info = TransferInfo(
        TransferKind.GRANT,
        program.id,
        points,
        now,
        overdraft=-cleared,
        transaction_id=transaction_id,
        mykey_id=mykey_id,
        business_id=business_id,
        grant_program_id=grant_program_id,
        terminal_time=terminal_time,
        reference=reference,
    )
    transfer = post_transfer(
        conn,
        info,
        {issuance: -points, overdraft: cleared, resident: points - cleared},
        balance_event=mykey_id,
    )
    expires = jst_date(now) + timedelta(days=program.lot_validity_days)
    add_lot(conn, resident, transfer, expires, points - cleared)
    balance = locked[AccountKind.RESIDENT, mykey_id].balance
    return Movement(transfer, balance + points - cleared, owed - cleared)


def spend(
    conn: Connection,
    program: Program,
    mykey_id: str,
    business: Business,
    points: int,
    now: datetime,
    *,
    allow_overdraft: bool = False,
    transaction_id: str | None = None,
    terminal_time: datetime | None = None,
    voucher_number: str | None = None,
) -> Movement:
    """Use ``points`` at ``business`` (earliest-expiring lots first). A shortfall is refused,
    unless ``allow_overdraft`` (an offline acceptance within limits): then it is recorded on the
    resident's overdraft account and the business is still paid in full.

    With ``voucher_number`` the transfer pays that voucher (a ``voucher_post``) from the
    resident's account: a voucher redeemed offline whose points the expiry run had already
    returned to the resident (:func:`server_stub.processing` honours it)."""
    locked = lock_program_accounts(
        conn,
        program.id,
        [
            (AccountKind.RESIDENT, mykey_id),
            (AccountKind.SETTLEMENT, business.id),
            (AccountKind.OVERDRAFT, mykey_id),
        ],
    )
    resident = locked[AccountKind.RESIDENT, mykey_id].id
    settlement = locked[AccountKind.SETTLEMENT, business.id].id
    overdraft = locked[AccountKind.OVERDRAFT, mykey_id].id
    available = locked[AccountKind.RESIDENT, mykey_id].balance
    short = max(0, points - available)
    if short and not allow_overdraft:
        raise InsufficientBalanceError(f"balance {available}, wanted {points}")
    info = TransferInfo(
        TransferKind.USE if voucher_number is None else TransferKind.VOUCHER_POST,
        program.id,
        points,
        now,
        overdraft=short,
        transaction_id=transaction_id,
        mykey_id=mykey_id,
        business_id=business.id,
        voucher_number=voucher_number,
        terminal_time=terminal_time,
    )
    transfer = post_transfer(
        conn,
        info,
        {resident: -(points - short), overdraft: -short, settlement: points},
        consume_from=(resident, points - short),
        balance_event=mykey_id,
    )
    return Movement(transfer, available - (points - short), short)


def reserve_voucher(
    conn: Connection,
    program: Program,
    mykey_id: str,
    points: int,
    now: datetime,
    *,
    voucher_number: str,
    business_id: str,
    transaction_id: str | None = None,
    terminal_time: datetime | None = None,
) -> Movement:
    """Move ``points`` from the resident into voucher escrow (phase one of two)."""
    locked = lock_program_accounts(
        conn, program.id, [(AccountKind.RESIDENT, mykey_id), (AccountKind.ESCROW, "")]
    )
    resident = locked[AccountKind.RESIDENT, mykey_id].id
    escrow = locked[AccountKind.ESCROW, ""].id
    available = locked[AccountKind.RESIDENT, mykey_id].balance
    if available < points:
        raise InsufficientBalanceError(f"balance {available}, voucher {points}")
    info = TransferInfo(
        TransferKind.VOUCHER_RESERVE,
        program.id,
        points,
        now,
        transaction_id=transaction_id,
        mykey_id=mykey_id,
        business_id=business_id,
        voucher_number=voucher_number,
        terminal_time=terminal_time,
    )
    transfer = post_transfer(
        conn,
        info,
        {resident: -points, escrow: points},
        consume_from=(resident, points),
        balance_event=mykey_id,
    )
    return Movement(transfer, available - points)


def post_voucher(
    conn: Connection,
    program: Program,
    voucher_number: str,
    mykey_id: str,
    points: int,
    business_id: str,
    now: datetime,
    *,
    transaction_id: str | None = None,
    terminal_time: datetime | None = None,
) -> int:
    """Pay a redeemed voucher's points from escrow to the redeeming business; the transfer id."""
    locked = lock_program_accounts(
        conn, program.id, [(AccountKind.ESCROW, ""), (AccountKind.SETTLEMENT, business_id)]
    )
    escrow = locked[AccountKind.ESCROW, ""].id
    settlement = locked[AccountKind.SETTLEMENT, business_id].id
    info = TransferInfo(
        TransferKind.VOUCHER_POST,
        program.id,
        points,
        now,
        transaction_id=transaction_id,
        mykey_id=mykey_id,
        business_id=business_id,
        voucher_number=voucher_number,
        terminal_time=terminal_time,
    )
    return post_transfer(conn, info, {escrow: -points, settlement: points})


def void_voucher(
    conn: Connection,
    program: Program,
    voucher_number: str,
    mykey_id: str,
    points: int,
    reserve_transfer: int,
    now: datetime,
) -> int:
    """Return an unredeemed voucher's points to the resident (to the lots they came from)."""
    locked = lock_program_accounts(
        conn, program.id, [(AccountKind.RESIDENT, mykey_id), (AccountKind.ESCROW, "")]
    )
    resident = locked[AccountKind.RESIDENT, mykey_id].id
    escrow = locked[AccountKind.ESCROW, ""].id
    info = TransferInfo(
        TransferKind.VOUCHER_VOID,
        program.id,
        points,
        now,
        mykey_id=mykey_id,
        voucher_number=voucher_number,
    )
    transfer = post_transfer(
        conn, info, {escrow: -points, resident: points}, balance_event=mykey_id
    )
    restored = restore_lots(conn, reserve_transfer, transfer)
    if restored != points:
        raise LedgerError(f"voucher {voucher_number}: restored {restored} of {points} points")
    return transfer


@dataclass(frozen=True)
class ExpiryReport:
    """What an expiry run did."""

    as_of: date
    lots_expired: int
    points_expired: int
    vouchers_voided: int
    points_returned: int


def voucher_grace_days(program: Program) -> int:
    """Days after a voucher's last valid day during which a shop that redeemed it offline may
    still sync (the program's longest allowed offline period, in whole days)."""
    return -(-program.offline_max_hours_without_sync // 24)


def run_expiry(conn: Connection, as_of: date, now: datetime) -> ExpiryReport:
    """Void vouchers whose last valid day plus the offline grace is before ``as_of`` (points go
    back to residents), then expire lots whose expiry date is before ``as_of`` into the expiry
    sink. Idempotent. The grace keeps an offline redemption made on the last valid day
    settleable when the shop syncs later within its offline limits."""
    voided = returned = 0
    due = conn.execute(
        select(vouchers)
        .where((vouchers.c.status == "reserved") & (vouchers.c.valid_until < as_of))
        .order_by(vouchers.c.number)
    ).all()
    for voucher in due:
        program = get_program(conn, voucher.program_id)
        if voucher.valid_until + timedelta(days=voucher_grace_days(program)) >= as_of:
            continue
        transfer = void_voucher(
            conn,
            program,
            voucher.number,
            voucher.mykey_id,
            int(voucher.points),
            int(voucher.reserve_transfer_id),
            now,
        )
        conn.execute(
            update(vouchers)
            .where(vouchers.c.number == voucher.number)
            .values(status="voided", void_transfer_id=transfer)
        )
        voided += 1
        returned += int(voucher.points)
    lots_expired = points_expired = 0
    rows = conn.execute(
        select(accounts.c.id, accounts.c.program_id, accounts.c.owner, func.count(lots.c.id))
        .join(lots, lots.c.account_id == accounts.c.id)
        .where(
            and_(
                accounts.c.kind == AccountKind.RESIDENT.value,
                lots.c.remaining > 0,
                lots.c.expires_on < as_of,
            )
        )
        .group_by(accounts.c.id, accounts.c.program_id, accounts.c.owner)
        .order_by(accounts.c.id)
    ).all()
    for row in rows:
        names = [(AccountKind.RESIDENT, str(row.owner)), (AccountKind.EXPIRY, "")]
        sink = lock_program_accounts(conn, int(row.program_id), names)[AccountKind.EXPIRY, ""].id
        expiring = conn.execute(
            select(lots.c.id, lots.c.remaining).where(
                (lots.c.account_id == row.id) & (lots.c.remaining > 0) & (lots.c.expires_on < as_of)
            )
        ).all()
        total = sum(int(lot.remaining) for lot in expiring)
        if total <= 0:
            continue
        info = TransferInfo(
            TransferKind.EXPIRY, int(row.program_id), total, now, mykey_id=row.owner
        )
        transfer = post_transfer(
            conn, info, {int(row.id): -total, sink: total}, balance_event=str(row.owner)
        )
        for lot in expiring:
            conn.execute(update(lots).where(lots.c.id == lot.id).values(remaining=0))
            conn.execute(
                lot_moves.insert().values(
                    transfer_id=transfer, lot_id=lot.id, amount=-int(lot.remaining)
                )
            )
        lots_expired += len(expiring)
        points_expired += total
    return ExpiryReport(as_of, lots_expired, points_expired, voided, returned)
