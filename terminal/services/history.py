"""History and settlement totals (履歴・精算) from the local store, with each row's sync state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sync.protocol import TransactionKind
from terminal.services.counter import Counter
from terminal.store import OutboxRow, OutboxState

JST = ZoneInfo("Asia/Tokyo")
#: rows whose points count in a settlement: the server applied them or they were accepted offline
COUNTED = frozenset({OutboxState.APPLIED, OutboxState.ACCEPTED_OFFLINE})
UNSYNCED = frozenset({OutboxState.PENDING, OutboxState.SENT})


def day_range(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a JST calendar day."""
    start = datetime.combine(day, time(0), JST)
    return start, datetime.combine(date.fromordinal(day.toordinal() + 1), time(0), JST)


def month_range(year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) of a JST calendar month."""
    start = datetime(year, month, 1, tzinfo=JST)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=JST)
    return start, end


@dataclass(frozen=True)
class Totals:
    """Counts and points of a period, as the office's settlement needs them."""

    transactions: int
    points_used: int
    points_granted: int
    points_in_vouchers: int
    vouchers_redeemed: int
    unsynced: int
    offline: int
    refused: int


def history(counter: Counter, start: datetime, end: datetime) -> list[OutboxRow]:
    """This terminal's rows made in [start, end), newest first."""
    return counter.store.rows(since=start, until=end)


def totals(rows: Iterable[OutboxRow]) -> Totals:
    """Settlement totals: points count when applied or accepted offline, or still unsynced."""
    used = granted = vouchers = redeemed = unsynced = offline = refused = count = 0
    for row in rows:
        count += 1
        if row.state in UNSYNCED:
            unsynced += 1
        if row.state in (OutboxState.REJECTED, OutboxState.CONFLICT):
            refused += 1
            continue
        if row.transaction.offline:
            offline += 1
        if row.state not in COUNTED and row.state not in UNSYNCED:
            continue
        if row.kind is TransactionKind.POINT_USE:
            used += row.points
        elif row.kind is TransactionKind.GRANT:
            granted += row.points
        elif row.kind is TransactionKind.VOUCHER_ISSUE:
            vouchers += row.points
        elif row.kind is TransactionKind.VOUCHER_REDEEM:
            redeemed += 1
    return Totals(count, used, granted, vouchers, redeemed, unsynced, offline, refused)
