"""Applying terminal transactions: idempotent by transaction ID forever, each one atomic.

A transaction is stored with its first result; a repeat with the same content gets that result
back (status ``duplicate``), a repeat with other content is a ``conflict``. Each transaction runs
in its own savepoint, so a refused one leaves no trace but its refusal record.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from cardio.auth import TrustStore
from server_stub import cards, ledger, views
from server_stub.batch_cache import BatchCache
from server_stub.catalog import Business, Program
from server_stub.clock import JST, as_utc, jst_date
from server_stub.db.raw import RawStatement, Statements, run_together, savepoint
from server_stub.db.schema import (
    grant_events,
    mykey_challenges,
    transactions,
    transfers,
    voucher_conflicts,
    vouchers,
)
from server_stub.db.upsert import insert_ignore
from server_stub.errors import (
    AlreadyGrantedError,
    CardSignatureError,
    ChallengeError,
    InvalidVoucherError,
    LedgerError,
    MyKeyNotActiveError,
    OfflineLimitError,
    ProgramNotAcceptedError,
    TransactionIdConflictError,
    UnknownMyKeyIdError,
    UnknownVoucherError,
    VoucherAlreadyRedeemedError,
    VoucherNotUsableError,
    VoucherNumberTakenError,
)
from server_stub.events import EventKind, record_event
from server_stub.operator import link_service_id
from sync.protocol import (
    CARD_SIGNED_KINDS,
    Grant,
    MyKeySetup,
    PointUse,
    ResultStatus,
    ServiceIdLink,
    Transaction,
    TransactionResult,
    VoucherConflict,
    VoucherConflictSide,
    VoucherIssue,
    VoucherRedeem,
    canonical_bytes,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TerminalContext:
    """Who is sending: the authenticated terminal, its business, and the server's trust."""

    terminal_id: str
    business: Business
    trust: TrustStore | None
    now: datetime
    last_pull_at: datetime | None = None
    #: reference rows and committed writes remembered within the batch's database transaction
    cache: BatchCache = field(default_factory=BatchCache, compare=False, repr=False)


@dataclass
class _Outcome:
    status: ResultStatus = ResultStatus.APPLIED
    mykey_id: str | None = None
    program_id: int | None = None
    balance: int | None = None
    overdraft: int = 0
    conflict: VoucherConflict | None = None
    reason: LedgerError | None = None


def _result(tx: Transaction, outcome: _Outcome, now: datetime) -> TransactionResult:
    reason = outcome.reason
    return TransactionResult(
        id=tx.id,
        status=outcome.status,
        reason=None if reason is None else reason.code,
        message_ja=None if reason is None else reason.title_ja,
        message_en=None if reason is None else reason.title_en,
        mykey_id=outcome.mykey_id,
        program_id=outcome.program_id,
        balance=outcome.balance,
        overdraft=outcome.overdraft,
        candidates=list(getattr(reason, "candidates", []) or []),
        conflict=outcome.conflict,
        server_time=now,
    )


_STORED = select(
    transactions.c.payload_sha256,
    transactions.c.result_json,
    transactions.c.status,
    transactions.c.offline,
).where(transactions.c.id == bindparam("id"))
_MARK_OFFLINE = RawStatement("UPDATE transactions SET offline = :offline WHERE id = :tx_id")
_RECORD_RESULT = RawStatement(
    "UPDATE transactions SET status = :status, reason = :reason, mykey_id = :mykey_id,"
    " result_json = :result_json WHERE id = :tx_id"
)
_INSERT_PENDING = RawStatement(
    "INSERT INTO transactions (id, terminal_id, business_id, kind, payload_sha256, canonical,"
    " offline, terminal_time, received_at, mykey_id, certificate_fingerprint, card_signature,"
    " status, reason, result_json) VALUES (:id, :terminal_id, :business_id, :kind,"
    " :payload_sha256, :canonical, :offline, :terminal_time, :received_at, :mykey_id,"
    " :certificate_fingerprint, :card_signature, :status, :reason, :result_json)"
    " ON CONFLICT DO NOTHING RETURNING id"
)


def process_all(
    conn: Connection, ctx: TerminalContext, txs: list[Transaction]
) -> list[TransactionResult]:
    """Apply each transaction in turn (or replay its first result) inside the caller's
    database transaction, in fewer round trips: a transaction's result is written and its
    savepoint released in the same round trip as the next one's opening (the last one's
    before returning)."""
    carry: Statements = []
    results = [_process(conn, ctx, tx, carry) for tx in txs]
    if carry:
        run_together(conn, carry)
    return results


def _process(
    conn: Connection, ctx: TerminalContext, tx: Transaction, carry: Statements
) -> TransactionResult:
    """One transaction of :func:`process_all`; ``carry``: statements a previous transaction
    left to run (sent with this one's first round trip), and where this one leaves its own
    closing statements."""
    canonical = canonical_bytes(tx)
    digest = hashlib.sha256(canonical)
    payload_hash = digest.hexdigest()
    tx_id = str(tx.id)
    cache = ctx.cache.bind(conn)
    pending = _pending_row(ctx, tx, canonical, payload_hash)
    try:
        opening = [(_INSERT_PENDING, pending)]
        card_query = _card_state_query(tx)
        if card_query is not None:
            opening.append(card_query)
        with savepoint(conn, *opening, before=list(carry)) as item:
            carry.clear()
            item.release_later(carry)
            if item.opened[0] is None:
                raise _AlreadyStoredError(tx_id)
            card_state = item.opened[1] if card_query is not None else None
            outcome = _apply(conn, ctx, tx, digest.digest(), card_state)
            result = _result(tx, outcome, ctx.now)
            for business_id, mykey_id in sorted(cache.pending):
                seen = {"business_id": business_id, "mykey_id": mykey_id, "now": ctx.now}
                item.close_with(views.REMEMBER_CARD, seen)
            item.close_with(_RECORD_RESULT, _result_row(tx_id, result))
        cache.commit()
        return result
    except _AlreadyStoredError:
        cache.discard()
        stored = conn.execute(_STORED, {"id": tx_id}).one()
        if tx.offline and _online_refusal_of(stored, payload_hash):
            redecided = _redecide_offline(conn, ctx, tx, digest.digest())
            if redecided is not None:
                return redecided
        return _replay(tx, stored, payload_hash, ctx.now)
    except LedgerError as error:
        cache.discard()
        # The savepoint undid every effect; keep only the refusal, so a resend gets it back.
        log.info("transaction %s refused: %s", tx_id, error)
        refused = _Outcome(
            status=ResultStatus.REJECTED, reason=error, conflict=getattr(error, "conflict", None)
        )
        result = _result(tx, refused, ctx.now)
        # stored with its result at once (a refusal's row has no MyKey ID)
        row = pending | {
            "status": result.status.value,
            "reason": result.reason,
            "result_json": result.model_dump_json(),
        }
        if _INSERT_PENDING.first(conn, row) is None:
            return _replay(tx, conn.execute(_STORED, {"id": tx_id}).one(), payload_hash, ctx.now)
        return result


class _AlreadyStoredError(Exception):
    """The transaction ID is already in the ledger (a resend, or a concurrent twin)."""


def _result_row(tx_id: str, result: TransactionResult) -> dict[str, Any]:
    return {
        "tx_id": tx_id,
        "status": result.status.value,
        "reason": result.reason,
        "mykey_id": result.mykey_id,
        "result_json": result.model_dump_json(),
    }


def _online_refusal_of(stored: Any, payload_hash: str) -> bool:
    """The stored row is this transaction (same content) refused when it came online."""
    return bool(
        stored.payload_sha256 == payload_hash
        and stored.status == ResultStatus.REJECTED.value
        and not stored.offline
    )


def _redecide_offline(
    conn: Connection, ctx: TerminalContext, tx: Transaction, digest: bytes
) -> TransactionResult | None:
    """Decide again, under the offline rules, a transaction refused online whose answer never
    reached the terminal, which then accepted it offline (DOMAIN §6: within the offline limits
    the merchant is paid). The new result replaces the stored refusal (logged); None, changing
    nothing, when the offline rules refuse it too."""
    tx_id = str(tx.id)
    cache = ctx.cache.bind(conn)
    try:
        with savepoint(conn) as item:
            outcome = _apply(conn, ctx, tx, digest)
            result = _result(tx, outcome, ctx.now)
            for business_id, mykey_id in sorted(cache.pending):
                seen = {"business_id": business_id, "mykey_id": mykey_id, "now": ctx.now}
                item.close_with(views.REMEMBER_CARD, seen)
            item.close_with(_RECORD_RESULT, _result_row(tx_id, result))
            item.close_with(_MARK_OFFLINE, {"offline": True, "tx_id": tx_id})
    except LedgerError as error:
        cache.discard()
        log.info("offline resend of %s refused as it was online: %s", tx_id, error)
        return None
    cache.commit()
    log.warning(
        "transaction %s: refused online, the answer lost; its offline acceptance now %s",
        tx_id,
        result.status.value,
    )
    return result


def _replay(tx: Transaction, stored: Any, payload_hash: str, now: datetime) -> TransactionResult:
    """The first result again (``duplicate``), or ``conflict`` when the content differs."""
    stored_hash, result_json = stored.payload_sha256, stored.result_json
    if stored_hash != payload_hash:
        error = TransactionIdConflictError(str(tx.id))
        log.warning("transaction %s repeated with different content", tx.id)
        return _result(tx, _Outcome(status=ResultStatus.CONFLICT, reason=error), now)
    first = TransactionResult.model_validate_json(result_json)
    return first.model_copy(
        update={"status": ResultStatus.DUPLICATE, "original_status": first.status}
    )


def _pending_row(
    ctx: TerminalContext, tx: Transaction, canonical: bytes, payload_hash: str
) -> dict[str, Any]:
    """The transaction's row as first stored (status pending, no result yet)."""
    fingerprint = None
    signature = None
    if tx.card is not None:
        try:
            fingerprint = cards.card_ref(tx.card.certificate_der()).fingerprint_sha256
        except LedgerError:
            fingerprint = None
        signature = tx.card.signature_bytes()
    return {
        "id": str(tx.id),
        "terminal_id": ctx.terminal_id,
        "business_id": ctx.business.id,
        "kind": tx.kind.value,
        "payload_sha256": payload_hash,
        "canonical": canonical.decode("utf-8"),
        "offline": tx.offline,
        "terminal_time": tx.terminal_time,
        "received_at": ctx.now,
        "mykey_id": None,
        "certificate_fingerprint": fingerprint,
        "card_signature": signature,
        "status": "pending",
        "reason": None,
        "result_json": "{}",
    }


def _card_state_query(tx: Transaction) -> tuple[RawStatement, dict[str, str]] | None:
    """The card's database state to read together with storing the transaction, if any."""
    if tx.card is None or isinstance(tx.payload, VoucherRedeem):
        return None
    return cards.card_state_query(tx.card.certificate_der())


def _apply(
    conn: Connection,
    ctx: TerminalContext,
    tx: Transaction,
    digest: bytes,
    card_state: tuple[Any, ...] | None = None,
) -> _Outcome:
    """``digest``: the transaction digest (SHA-256 of its canonical bytes) the card signed;
    ``card_state``: the card's row of :func:`cards.card_state_query` if already read."""
    payload = tx.payload
    if isinstance(payload, VoucherRedeem):
        return _redeem(conn, ctx, tx, payload)
    holder = _card_holder(conn, ctx, tx, digest, card_state)
    if isinstance(payload, MyKeySetup):
        return _mykey_setup(conn, ctx, tx, payload, holder.ref)
    mykey_id = holder.mykey_id
    if mykey_id is None:
        mykey_id = cards.resolve_card(conn, holder.ref, ctx.now)
        if mykey_id is None:
            raise UnknownMyKeyIdError(holder.ref.fingerprint_sha256)
        cards.require_active(conn, mykey_id)
    elif holder.status is None:
        raise UnknownMyKeyIdError(mykey_id)
    elif holder.status != "active":
        raise MyKeyNotActiveError(mykey_id)
    _remember_card(ctx, mykey_id)
    if isinstance(payload, PointUse):
        return _point_use(conn, ctx, tx, payload, mykey_id)
    if isinstance(payload, VoucherIssue):
        return _voucher_issue(conn, ctx, tx, payload, mykey_id)
    if isinstance(payload, Grant):
        return _grant(conn, ctx, tx, payload, mykey_id)
    if isinstance(payload, ServiceIdLink):
        link_service_id(conn, mykey_id, ctx.business.id, payload.customer_id, now=ctx.now)
        return _Outcome(mykey_id=mykey_id)
    raise AssertionError(f"unhandled kind {tx.kind}")  # pragma: no cover


def _card_holder(
    conn: Connection,
    ctx: TerminalContext,
    tx: Transaction,
    digest: bytes,
    card_state: tuple[Any, ...] | None,
) -> cards.CardHolder:
    """Check the card certificate (and signature, for PIN-confirmed kinds); the ID bound to
    its fingerprint, if any (renewed certificates are resolved by the caller)."""
    if tx.card is None:
        raise CardSignatureError("the transaction carries no card certificate")
    der = tx.card.certificate_der()
    at = tx.terminal_time if tx.offline else ctx.now
    holder = cards.check_card_holder(conn, ctx.trust, der, at, card_state)
    if tx.kind in CARD_SIGNED_KINDS:
        cards.check_card_signature(der, digest, tx.card.signature_bytes())
    return holder


def _remember_card(ctx: TerminalContext, mykey_id: str) -> None:
    """Note the card as seen at the business: written by :func:`process_all` when the
    transaction's savepoint is released (in the same round trip), unless already written."""
    key = (ctx.business.id, mykey_id)
    if key not in ctx.cache.remembered:
        ctx.cache.pending.add(key)


def _accepted_program(
    conn: Connection, ctx: TerminalContext, program_id: int, business: Business
) -> Program:
    program = ctx.cache.program(conn, program_id)
    if not ctx.cache.is_accepted_at(conn, program, business):
        raise ProgramNotAcceptedError(f"program {program_id} at {business.id}")
    return program


def _point_use(
    conn: Connection, ctx: TerminalContext, tx: Transaction, payload: PointUse, mykey_id: str
) -> _Outcome:
    program = _accepted_program(conn, ctx, payload.program_id, ctx.business)
    windows = (
        _check_offline_limits(conn, ctx, tx, program, mykey_id, payload.points)
        if tx.offline
        else []
    )
    moved = ledger.spend(
        conn,
        program,
        mykey_id,
        ctx.business,
        payload.points,
        ctx.now,
        allow_overdraft=tx.offline,
        transaction_id=str(tx.id),
        terminal_time=tx.terminal_time,
    )
    ctx.cache.count_offline(windows, payload.points)
    status = ResultStatus.ACCEPTED_OFFLINE if moved.overdraft else ResultStatus.APPLIED
    return _Outcome(status, mykey_id, program.id, moved.balance, moved.overdraft)


def _offline_used(
    conn: Connection,
    terminal_id: str,
    since: datetime | None,
    until: datetime | None,
    mykey_id: str | None = None,
) -> int:
    query = (
        select(func.coalesce(func.sum(transfers.c.points), 0))
        .join(transactions, transactions.c.id == transfers.c.transaction_id)
        .where(
            (transactions.c.terminal_id == terminal_id)
            & (transactions.c.offline.is_(True))
            & (transfers.c.kind == "use")
        )
    )
    if since is not None:
        query = query.where(transfers.c.terminal_time >= since)
    if until is not None:
        query = query.where(transfers.c.terminal_time < until)
    if mykey_id is not None:
        query = query.where(transfers.c.mykey_id == mykey_id)
    return int(conn.execute(query).scalar_one())


def _check_offline_limits(
    conn: Connection,
    ctx: TerminalContext,
    tx: Transaction,
    program: Program,
    mykey_id: str,
    points: int,
) -> list[tuple[object, ...]]:
    """The program's offline limits (DOMAIN.md §6), judged at the terminal's time; returns the
    limit windows the use counts in. Each window's total is read once per batch (the queries
    grow with the terminal's history) and kept current in the batch cache."""
    if points > program.offline_max_per_transaction:
        raise OfflineLimitError(f"{points} > {program.offline_max_per_transaction} per transaction")
    day = jst_date(tx.terminal_time)
    # as UTC: SQLite compares stored times as text, so the bounds must use the stored zone
    start = as_utc(datetime.combine(day, time(0), JST))
    day_key: tuple[object, ...] = ("day", ctx.terminal_id, mykey_id, start)
    used_today = ctx.cache.offline_total(
        day_key,
        lambda: _offline_used(conn, ctx.terminal_id, start, start + timedelta(days=1), mykey_id),
    )
    if used_today + points > program.offline_max_per_card_per_day:
        raise OfflineLimitError(f"{used_today} + {points} per card per day")
    sync_key: tuple[object, ...] = ("since-sync", ctx.terminal_id, ctx.last_pull_at)
    since_sync = ctx.cache.offline_total(
        sync_key, lambda: _offline_used(conn, ctx.terminal_id, ctx.last_pull_at, None)
    )
    if since_sync + points > program.offline_max_per_terminal_since_sync:
        raise OfflineLimitError(f"{since_sync} + {points} since the last sync")
    if ctx.last_pull_at is not None:
        offline_for = as_utc(tx.terminal_time) - as_utc(ctx.last_pull_at)
        if offline_for > timedelta(hours=program.offline_max_hours_without_sync):
            raise OfflineLimitError(f"no sync for {offline_for}")
    counted_since_sync = ctx.last_pull_at is None or as_utc(tx.terminal_time) >= as_utc(
        ctx.last_pull_at
    )
    return [day_key, sync_key] if counted_since_sync else [day_key]


def _voucher_issue(
    conn: Connection, ctx: TerminalContext, tx: Transaction, payload: VoucherIssue, mykey_id: str
) -> _Outcome:
    program = _accepted_program(conn, ctx, payload.program_id, ctx.business)
    street = ctx.business.street
    if street is None:
        raise InvalidVoucherError(f"{ctx.business.id} belongs to no shopping street")
    span = (payload.valid_until - payload.valid_from).days
    if span < 0 or span >= program.voucher_validity_days:
        raise InvalidVoucherError(f"validity {payload.valid_from}..{payload.valid_until}")
    if payload.valid_until < jst_date(tx.terminal_time):
        raise InvalidVoucherError("the validity ends before the issue date")
    balance = None
    for spec in payload.vouchers:
        if spec.points > program.voucher_max_points:
            raise InvalidVoucherError(f"{spec.points} > {program.voucher_max_points}")
        taken = conn.execute(
            select(vouchers.c.number).where(vouchers.c.number == spec.number)
        ).first()
        if taken is not None:
            raise VoucherNumberTakenError(spec.number)
        moved = ledger.reserve_voucher(
            conn,
            program,
            mykey_id,
            spec.points,
            ctx.now,
            voucher_number=spec.number,
            business_id=ctx.business.id,
            transaction_id=str(tx.id),
            terminal_time=tx.terminal_time,
        )
        balance = moved.balance
        conn.execute(
            insert(vouchers).values(
                number=spec.number,
                program_id=program.id,
                mykey_id=mykey_id,
                points=spec.points,
                issuer_business_id=ctx.business.id,
                street_id=street,
                valid_from=payload.valid_from,
                valid_until=payload.valid_until,
                status="reserved",
                issue_transaction_id=str(tx.id),
                reserve_transfer_id=moved.transfer_id,
                issued_at=ctx.now,
            )
        )
    return _Outcome(mykey_id=mykey_id, program_id=program.id, balance=balance)


def _redeem(
    conn: Connection, ctx: TerminalContext, tx: Transaction, payload: VoucherRedeem
) -> _Outcome:
    voucher = conn.execute(select(vouchers).where(vouchers.c.number == payload.number)).first()
    if voucher is None:
        raise UnknownVoucherError(payload.number)
    if ctx.business.street != voucher.street_id:
        raise VoucherNotUsableError(f"voucher of street {voucher.street_id}")
    day: date = jst_date(tx.terminal_time if tx.offline else ctx.now)
    if not voucher.valid_from <= day <= voucher.valid_until:
        raise VoucherNotUsableError(f"{day} outside {voucher.valid_from}..{voucher.valid_until}")
    if voucher.status == "voided" and not tx.offline:
        raise VoucherNotUsableError("voucher voided after expiry")
    if voucher.status == "redeemed":
        first = VoucherConflictSide(
            transaction_id=str(voucher.redeem_transaction_id),
            business_id=str(voucher.redeemer_business_id),
            terminal_time=voucher.redeemed_terminal_time,
        )
        second = VoucherConflictSide(
            transaction_id=str(tx.id), business_id=ctx.business.id, terminal_time=tx.terminal_time
        )
        conflict = VoucherConflict(voucher_number=voucher.number, first=first, second=second)
        if not tx.offline:
            raise _RedeemedError(conflict)
        conn.execute(
            insert(voucher_conflicts).values(
                voucher_number=voucher.number,
                transaction_id=str(tx.id),
                business_id=ctx.business.id,
                terminal_time=tx.terminal_time,
                created_at=ctx.now,
            )
        )
        log.warning(
            "voucher %s redeemed twice offline: %s and %s",
            voucher.number,
            first.business_id,
            second.business_id,
        )
        return _Outcome(
            status=ResultStatus.CONFLICT,
            program_id=voucher.program_id,
            conflict=conflict,
            reason=VoucherAlreadyRedeemedError(voucher.number),
        )
    program = ctx.cache.program(conn, voucher.program_id)
    if voucher.status == "voided":
        transfer = _pay_after_void(conn, ctx, tx, voucher, program)
    else:
        transfer = ledger.post_voucher(
            conn,
            program,
            voucher.number,
            voucher.mykey_id,
            int(voucher.points),
            ctx.business.id,
            ctx.now,
            transaction_id=str(tx.id),
            terminal_time=tx.terminal_time,
        )
    conn.execute(
        update(vouchers)
        .where(vouchers.c.number == voucher.number)
        .values(
            status="redeemed",
            redeem_transaction_id=str(tx.id),
            redeemer_business_id=ctx.business.id,
            post_transfer_id=transfer,
            redeemed_at=ctx.now,
            redeemed_terminal_time=tx.terminal_time,
        )
    )
    record_event(
        conn, EventKind.REDEMPTION, ctx.now, street_id=voucher.street_id, ref=voucher.number
    )
    return _Outcome(program_id=program.id)


def _pay_after_void(
    conn: Connection, ctx: TerminalContext, tx: Transaction, voucher: Any, program: Program
) -> int:
    """Pay a voucher that a shop redeemed offline within its dates but whose redemption reached
    the server only after the expiry run had returned its points to the resident (the shop
    synced later than the grace allows). The shop honoured it, so it is paid (DOMAIN §6): the
    points come back from the resident, and what they no longer hold (spent, or expired since)
    becomes their overdraft, as for an offline use. Returns the transfer id."""
    moved = ledger.spend(
        conn,
        program,
        str(voucher.mykey_id),
        ctx.business,
        int(voucher.points),
        ctx.now,
        allow_overdraft=True,
        transaction_id=str(tx.id),
        terminal_time=tx.terminal_time,
        voucher_number=str(voucher.number),
    )
    log.warning(
        "voucher %s redeemed offline by %s at %s reached the server after its expiry void: "
        "%d pt taken back from the resident, %d pt of it as overdraft",
        voucher.number,
        ctx.business.id,
        tx.terminal_time,
        int(voucher.points),
        moved.overdraft,
    )
    return moved.transfer_id


class _RedeemedError(VoucherAlreadyRedeemedError):
    """An online second redemption: refused, naming the first redemption."""

    def __init__(self, conflict: VoucherConflict) -> None:
        super().__init__(conflict.voucher_number)
        self.conflict = conflict


def _grant(
    conn: Connection, ctx: TerminalContext, tx: Transaction, payload: Grant, mykey_id: str
) -> _Outcome:
    grant_program = ctx.cache.grant_program(conn, payload.grant_program_id)
    program = ctx.cache.program(conn, grant_program.program_id)
    if program.municipality_code != ctx.business.municipality_code:
        raise ProgramNotAcceptedError(f"grant program {grant_program.id} of another municipality")
    points = payload.points or grant_program.default_points
    if payload.event is not None:
        row = {
            "grant_program_id": grant_program.id,
            "event": payload.event,
            "mykey_id": mykey_id,
            "transaction_id": str(tx.id),
            "granted_at": ctx.now,
        }
        if not insert_ignore(conn, grant_events, row):
            raise AlreadyGrantedError(f"{mykey_id} at {payload.event}")
    moved = ledger.grant(
        conn,
        program,
        mykey_id,
        points,
        ctx.now,
        grant_program_id=grant_program.id,
        transaction_id=str(tx.id),
        business_id=ctx.business.id,
        terminal_time=tx.terminal_time,
    )
    return _Outcome(mykey_id=mykey_id, program_id=program.id, balance=moved.balance)


def _mykey_setup(
    conn: Connection,
    ctx: TerminalContext,
    tx: Transaction,
    payload: MyKeySetup,
    ref: cards.CardRef,
) -> _Outcome:
    row = conn.execute(
        select(mykey_challenges).where(mykey_challenges.c.challenge == payload.challenge)
    ).first()
    if (
        tx.offline
        or row is None
        or row.terminal_id != ctx.terminal_id
        or row.used_at is not None
        or as_utc(row.expires_at) < ctx.now
    ):
        raise ChallengeError("unknown, used, expired or offline")
    conn.execute(
        update(mykey_challenges)
        .where(mykey_challenges.c.challenge == payload.challenge)
        .values(used_at=ctx.now)
    )
    mykey_id = cards.create_mykey_id(conn, payload.mykey_id, ref, ctx.now)
    _remember_card(ctx, mykey_id)
    return _Outcome(mykey_id=mykey_id)
