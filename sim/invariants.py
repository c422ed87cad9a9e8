"""The invariants every run must end with (after the final fault-free sync).

- the server audit holds (every transfer and all accounts sum to zero, lots, vouchers, escrow,
  nothing refused moved points, nothing applied twice: :func:`server_stub.audit.audit`);
- every terminal has sent everything (no row left unsynced);
- no confirmed transaction lost: every row the screen called done, and every point use accepted
  offline, is applied on the server, exactly once;
- the terminal and the server agree on every row's fate, and the server holds no transaction
  that no terminal made;
- every balance equals the replay of the resident's transfers (and so does the overdraft owed);
- every offline acceptance was within its program's limits, judged from what the simulator saw
  (which pulls the terminal had applied before it decided);
- whatever the network layer noticed on the way (a replay accepted, a resend not recognised as a
  duplicate, a 5xx).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection, func, select

from server_stub.audit import audit
from server_stub.clock import as_utc, jst_date
from server_stub.db.engine import make_engine
from server_stub.db.schema import accounts, transactions, transfers, vouchers
from sim.kit import OFFLINE_LIMITS
from sim.terminals import SimTerminal
from sync.protocol import TransactionKind, VoucherIssue
from terminal.store import LocalDecision, OutboxRow, OutboxState

if TYPE_CHECKING:
    from sim.world import World


_DONE = (OutboxState.APPLIED, OutboxState.ACCEPTED_OFFLINE)
_SERVER_DONE = ("applied", "accepted_offline")
_REFUSED = (OutboxState.REJECTED, OutboxState.CONFLICT)
#: Transaction kinds that move points with exactly one transfer of their own (a voucher issue:
#: one per voucher).
_MOVING = {
    TransactionKind.POINT_USE: "use",
    TransactionKind.GRANT: "grant",
    TransactionKind.VOUCHER_REDEEM: "voucher_post",
    TransactionKind.VOUCHER_ISSUE: "voucher_reserve",
}
#: Offline acceptances the limits apply to.
_OFFLINE_KINDS = (TransactionKind.POINT_USE, TransactionKind.VOUCHER_REDEEM)


def check(world: World) -> list[str]:
    """Every broken invariant of the finished run, as one line each (empty: all hold)."""
    found: list[str] = list(world.violations)
    found += world.network.violations
    rows = {name: t.store.rows() for name, t in world.terminals.items()}
    for name, terminal_rows in rows.items():
        left = [r for r in terminal_rows if not r.is_final]
        if left:
            found.append(f"not-synced: {name} still has {len(left)} unsynced rows")
    engine = make_engine(world.database_url)
    try:
        with engine.connect() as conn:
            found += [f"audit: {v}" for v in audit(conn)]
            found += _check_rows(conn, world, rows)
            found += _check_replay(conn)
    finally:
        engine.dispose()
    found += _check_vouchers(rows)
    for name, terminal_rows in rows.items():
        found += _check_offline_limits(world.terminals[name], terminal_rows)
    return found


def _check_rows(conn: Connection, world: World, rows: dict[str, list[OutboxRow]]) -> list[str]:
    found: list[str] = []
    server = {
        r.id: r
        for r in conn.execute(
            select(
                transactions.c.id,
                transactions.c.status,
                transactions.c.terminal_id,
                transactions.c.offline,
            )
        )
    }
    moved: dict[str, int] = defaultdict(int)
    for (tx_id,) in conn.execute(
        select(transfers.c.transaction_id).where(
            transfers.c.transaction_id.is_not(None)
            & transfers.c.kind.in_(["use", "grant", "voucher_reserve", "voucher_post"])
        )
    ):
        moved[str(tx_id)] += 1
    ours: dict[str, str] = {}
    for name, terminal_rows in rows.items():
        for row in terminal_rows:
            tx_id = str(row.id)
            if tx_id in ours:
                found.append(f"same-id-twice: {tx_id} in {ours[tx_id]} and {name}")
            ours[tx_id] = name
            found += _check_row(name, row, server.get(tx_id), moved.get(tx_id, 0))
    for tx_id, confirmed in world.confirmed.items():
        shown = next((r for r in rows[confirmed.terminal] if r.id == tx_id), None)
        if shown is not None and _named_voucher_conflict(shown):
            continue  # two shops redeemed it offline: a conflict naming both (DOMAIN.md §5)
        if shown is None or shown.state not in _DONE:
            state = "missing" if shown is None else shown.state.value
            found.append(
                f"confirmed-lost: {confirmed.terminal} {confirmed.kind} {confirmed.points} "
                f"(offline={confirmed.offline}) shown as done, ends {state}"
            )
    terminal_ids = {t.spec.identity.terminal_id for t in world.terminals.values()}
    for tx_id, record in server.items():
        if record.terminal_id in terminal_ids and tx_id not in ours:
            found.append(f"phantom-transaction: server holds {tx_id} ({record.status})")
    return found


def _check_row(name: str, row: OutboxRow, server: object | None, transfers_made: int) -> list[str]:
    found: list[str] = []
    what = f"{name} {row.kind.value} {row.points} ({row.decision.value})"
    status = getattr(server, "status", None)
    expected = _MOVING.get(row.kind)
    if row.state in _DONE:
        if status not in _SERVER_DONE:
            found.append(f"applied-row-not-on-server: {what} is {row.state.value}, server {status}")
        payload = row.transaction.payload
        wanted = len(payload.vouchers) if isinstance(payload, VoucherIssue) else 1
        if expected is not None and transfers_made != wanted:
            found.append(
                f"applied-count: {what} has {transfers_made} {expected} transfers, not {wanted}"
            )
    elif row.state in _REFUSED:
        if transfers_made:
            found.append(f"refused-but-applied: {what} {row.state.value} moved points")
        if status in _SERVER_DONE:
            found.append(f"state-mismatch: {what} {row.state.value}, server {status}")
    conflict = row.kind is TransactionKind.VOUCHER_REDEEM and row.state is OutboxState.CONFLICT
    if conflict and not _named_voucher_conflict(row):
        found.append(f"conflict-without-sides: {what}")
    if (
        row.kind in _OFFLINE_KINDS
        and row.decision is LocalDecision.OFFLINE
        and row.state in _REFUSED
        and not _named_voucher_conflict(row)
    ):
        reason = row.result.reason if row.result else None
        found.append(f"offline-acceptance-refused: {what} ends {row.state.value} ({reason})")
    return found


def _named_voucher_conflict(row: OutboxRow) -> bool:
    """A redemption that lost to another shop's, with both sides named (as a conflict, or as a
    refusal when the server first saw it online)."""
    conflict = None if row.result is None else row.result.conflict
    return (
        row.kind is TransactionKind.VOUCHER_REDEEM
        and row.state in _REFUSED
        and conflict is not None
        and conflict.first.transaction_id != conflict.second.transaction_id
        and conflict.second.transaction_id == str(row.id)
    )


def _check_vouchers(rows: dict[str, list[OutboxRow]]) -> list[str]:
    """No voucher settled twice: at most one redemption of each number ends applied."""
    settled: dict[str, list[str]] = defaultdict(list)
    for name, terminal_rows in rows.items():
        for row in terminal_rows:
            payload = row.transaction.payload
            if row.kind is TransactionKind.VOUCHER_REDEEM and row.state in _DONE:
                settled[getattr(payload, "number", "?")].append(name)
    return [
        f"voucher-settled-twice: {number} at {', '.join(names)}"
        for number, names in settled.items()
        if len(names) > 1
    ]


def _check_replay(conn: Connection) -> list[str]:
    """Each resident's balance and overdraft from the sum of their transfers."""
    held: dict[tuple[str, int], int] = defaultdict(int)
    owed: dict[tuple[str, int], int] = defaultdict(int)
    # a voucher paid after its expiry void is paid from the resident's account, like a use
    after_void = select(vouchers.c.post_transfer_id).where(vouchers.c.void_transfer_id.is_not(None))
    paid_by_resident = {int(t) for t in conn.execute(after_void).scalars() if t is not None}
    for transfer_id, kind, program, mykey, points, overdraft in conn.execute(
        select(
            transfers.c.id,
            transfers.c.kind,
            transfers.c.program_id,
            transfers.c.mykey_id,
            transfers.c.points,
            transfers.c.overdraft,
        ).where(transfers.c.mykey_id.is_not(None))
    ):
        key = (str(mykey), int(program))
        points, overdraft = int(points), int(overdraft)
        if kind == "grant":
            held[key] += points + overdraft  # ``overdraft`` is minus what the grant cleared
            owed[key] += overdraft
        elif kind == "use" or int(transfer_id) in paid_by_resident:
            held[key] -= points - overdraft
            owed[key] += overdraft
        elif kind in ("voucher_reserve", "expiry"):
            held[key] -= points
        elif kind == "voucher_void":
            held[key] += points
    found: list[str] = []
    for kind, program, owner, balance in conn.execute(
        select(accounts.c.kind, accounts.c.program_id, accounts.c.owner, accounts.c.balance).where(
            accounts.c.kind.in_(["resident", "overdraft"])
        )
    ):
        key = (str(owner), int(program))
        expected = held[key] if kind == "resident" else -owed[key]
        if int(balance) != expected:
            found.append(
                f"replay-mismatch: {kind} {owner} program {program}: balance {balance}, "
                f"transfers say {expected}"
            )
    total = conn.execute(select(func.count()).select_from(transfers)).scalar_one()
    if not total:
        found.append("replay: no transfers at all (the run did nothing)")
    return found


def _check_offline_limits(terminal: SimTerminal, rows: list[OutboxRow]) -> list[str]:
    """Every point use and voucher this terminal accepted offline, against the limits and the
    pulls it had applied before deciding (the per-card and revocation rules apply to cards
    only; the total since the last sync counts point uses and vouchers together)."""
    limits = OFFLINE_LIMITS
    book = terminal.book
    accepted = sorted(
        (
            r
            for r in rows
            if r.kind in _OFFLINE_KINDS
            and r.decision is LocalDecision.OFFLINE
            and r.state is not OutboxState.REJECTED
        ),
        key=lambda r: book.row_ticks.get(r.id, 0),
    )
    found: list[str] = []
    per_day: dict[tuple[str | None, object], int] = defaultdict(int)
    for row in accepted:
        card = row.kind is TransactionKind.POINT_USE
        what = f"{terminal.name} offline {row.kind.value} {row.points}"
        tick = book.row_ticks.get(row.id)
        if tick is None:
            found.append(f"offline-limit: {what}: the simulator never saw it stored")
            continue
        at = as_utc(row.transaction.terminal_time)
        if row.points > limits.max_per_transaction:
            found.append(f"offline-limit: {what} > {limits.max_per_transaction} per transaction")
        if card:
            day_key = (row.mykey_id, jst_date(at))
            per_day[day_key] += row.points
            if per_day[day_key] > limits.max_per_card_per_day:
                found.append(
                    f"offline-limit: {what}: {per_day[day_key]} for one card on {day_key[1]}"
                )
        before = [p for p in book.pulls if p.tick < tick]
        if not before:
            found.append(f"offline-limit: {what} before any sync")
            continue
        last = before[-1]
        since = sum(r.points for r in accepted if last.tick < book.row_ticks.get(r.id, 0) <= tick)
        if since > limits.max_per_terminal_since_sync:
            found.append(f"offline-limit: {what}: {since} since the last sync")
        if at - as_utc(last.server_time) > timedelta(hours=limits.max_hours_without_sync):
            found.append(f"offline-limit: {what}: last sync {at - last.server_time} before")
        data_time = last.revocation_data_time
        if card and (
            data_time is None or at - data_time > timedelta(hours=limits.max_revocation_age_hours)
        ):
            found.append(f"offline-limit: {what}: revocation data too old")
    return found
