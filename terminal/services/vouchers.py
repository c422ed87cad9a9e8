"""Point vouchers at the counter: issue at the street office, redeem (消込) at a shop or office.

Issue (online only, office role): the resident's card (PIN verified) signs ONE VoucherIssue
transaction for all vouchers asked for (e.g. 5 × 500 pt); the server reserves the points. Only
when the server applied it are the faces made, each QR payload signed with this terminal's
voucher key. A lost answer leaves the issue undecided; once sync shows it applied,
:func:`reprint_faces` prints them (marked 再発行).

Redeem a scanned payload: verified offline first (signature against the street's synced office
keys, JST dates, this terminal's and the street's redemptions), then authorised online with a
VoucherRedeem transaction. When the server does not answer, the voucher rule decides:

    A voucher is accepted offline only if this terminal synced within the program's
    ``max_hours_without_sync``, the voucher's points are at most the program's
    ``max_per_transaction``, and this terminal's offline total since its last sync (point uses
    and vouchers together) plus the voucher's points stays within
    ``max_per_terminal_since_sync``.

The per-card daily limit and the revocation age do not apply (no card is involved; the signature
proves the voucher genuine, the limits bound what a double redemption can cost). An accepted
voucher is queued and applied at sync; if another shop redeemed it meanwhile, the server reports a
conflict naming both shops (``store.problems()``).

A typed 13-digit number cannot be verified offline: it is redeemed online only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cardio.jpki import JpkiSession
from sync.protocol import (
    CardAuthorisation,
    ProgramSettings,
    Role,
    Transaction,
    TransactionKind,
    VoucherIssue,
    VoucherRedeem,
    VoucherSpec,
    b64encode,
    uuid7,
)
from terminal.config import TerminalIdentity
from terminal.errors import InsufficientBalanceError, InvalidAmountError, ProgramNotAcceptedError
from terminal.offline import OfflineDecision
from terminal.services.counter import CardHolder, Counter
from terminal.services.point_use import JST
from terminal.services.submit import Outcome, OutcomeStatus, submit
from terminal.store import LocalDecision, OutboxState, TerminalStore
from terminal.vouchers.errors import (
    VoucherIssueError,
    VoucherNeedsServerError,
    VoucherNotFoundError,
    VoucherRedeemedElsewhereError,
    VoucherRedeemedHereError,
)
from terminal.vouchers.layout import TITLE, VoucherFace, usable_at_text
from terminal.vouchers.numbers import normalise_number, reserve_numbers
from terminal.vouchers.payload import VoucherData, encode_payload
from terminal.vouchers.verify import VerifiedVoucher, verify_voucher

log = logging.getLogger(__name__)

#: the server's limit on vouchers per issue transaction
MAX_VOUCHERS_PER_ISSUE = 50
#: validity when the program's settings were never synced (the server's default)
DEFAULT_VALIDITY_DAYS = 3

KEEP_VOUCHER_JA = (
    "通信が途切れたため、消込の結果は同期後に確定します。ポイント券はお返しせずお預かりください。"
)
KEEP_VOUCHER_EN = (
    "The connection dropped; the redemption is settled at the next sync. Keep the voucher."
)


@dataclass(frozen=True)
class IssuedVouchers:
    """One issue: its outcome, the vouchers asked for, and their faces (only when applied)."""

    outcome: Outcome
    vouchers: list[VoucherData]
    faces: list[VoucherFace]


def jst_today(counter: Counter) -> date:
    """Today's JST calendar date on the terminal's clock."""
    return counter.clock().astimezone(JST).date()


# --- issue ----------------------------------------------------------------------------------


def _check_points(points_each: Sequence[int], program: ProgramSettings | None) -> list[int]:
    points = list(points_each)
    if not 1 <= len(points) <= MAX_VOUCHERS_PER_ISSUE:
        raise VoucherIssueError(
            f"一度に発行できるポイント券は1〜{MAX_VOUCHERS_PER_ISSUE}枚です。",
            f"Issue 1 to {MAX_VOUCHERS_PER_ISSUE} vouchers at a time.",
            f"{len(points)} vouchers",
        )
    for value in points:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidAmountError(repr(value))
        if program is not None and value > program.voucher_max_points:
            top = program.voucher_max_points
            raise VoucherIssueError(
                f"ポイント券1枚は {top:,} ポイントまでです。",
                f"At most {top:,} points per voucher.",
                f"{value} > {top}",
            )
    return points


def _validity(program: ProgramSettings | None, days: int | None) -> int:
    limit = program.voucher_validity_days if program is not None else None
    chosen = days if days is not None else (limit or DEFAULT_VALIDITY_DAYS)
    if chosen < 1 or (limit is not None and chosen > limit):
        raise VoucherIssueError(
            f"有効期間は1〜{limit or DEFAULT_VALIDITY_DAYS}日で指定してください。",
            f"The validity must be 1 to {limit or DEFAULT_VALIDITY_DAYS} days.",
            f"{chosen} days",
        )
    return chosen


def _faces(
    vouchers: Sequence[VoucherData],
    key: Ed25519PrivateKey,
    *,
    program_name: str,
    issued_on: date,
    street_name: str | None,
    reissue: bool,
) -> list[VoucherFace]:
    return [
        VoucherFace(
            title=TITLE,
            program_name=program_name,
            points=voucher.points,
            valid_from=voucher.valid_from,
            valid_until=voucher.valid_until,
            issued_on=issued_on,
            number=voucher.number,
            usable_at=usable_at_text(street_name),
            payload=encode_payload(voucher, key),
            reissue=reissue,
        )
        for voucher in vouchers
    ]


def issue_vouchers(
    counter: Counter,
    session: JpkiSession,
    holder: CardHolder,
    program_id: int,
    points_each: Sequence[int],
    *,
    voucher_key: Ed25519PrivateKey,
    valid_days: int | None = None,
    street_name: str | None = None,
) -> IssuedVouchers:
    """Issue one voucher per entry of ``points_each`` from the holder's ``program_id`` balance,
    valid from today (JST) for ``valid_days`` days (default: the program's validity).

    ``holder`` must have been resolved online; the card (PIN verified in ``session``) signs.
    ``voucher_key`` is this terminal's voucher key (``TerminalPaths.voucher_key``);
    ``street_name`` goes on the faces ("★<name>の各店舗でご利用頂けます。").
    """
    counter.require_role(Role.OFFICE)
    if not holder.online:
        raise VoucherNeedsServerError("voucher issue with a holder resolved offline")
    mykey_id = holder.require_active()
    program = counter.store.program(program_id)
    points = _check_points(points_each, program)
    balance = holder.balance(program_id)
    if balance is None:
        raise ProgramNotAcceptedError(f"program {program_id}")
    if sum(points) > balance.points:
        raise InsufficientBalanceError(f"{sum(points)} > {balance.points}")
    identity = counter.identity
    if identity.street_id is None:
        raise VoucherIssueError(
            "この事業者は商店街に属していないため、ポイント券を発行できません。",
            "This business belongs to no shopping street, so it cannot issue vouchers.",
        )
    days = _validity(program, valid_days)
    now = counter.clock()
    today = now.astimezone(JST).date()
    valid_until = today + timedelta(days=days - 1)
    numbers = reserve_numbers(counter.store, identity.voucher_prefix, len(points))
    vouchers = [
        VoucherData(
            number=number,
            program_id=program_id,
            points=value,
            valid_from=today,
            valid_until=valid_until,
            issuer_terminal_id=identity.terminal_id,
            issuer_street_id=identity.street_id,
        )
        for number, value in zip(numbers, points, strict=True)
    ]
    tx = Transaction(
        id=uuid7(now),
        terminal_id=identity.terminal_id,
        business_id=identity.business_id,
        terminal_time=now,
        payload=VoucherIssue(
            program_id=program_id,
            vouchers=[VoucherSpec(number=v.number, points=v.points) for v in vouchers],
            valid_from=today,
            valid_until=valid_until,
        ),
        card=CardAuthorisation(certificate=b64encode(holder.certificate_der)),
    )
    outcome = submit(
        counter,
        tx,
        session=session,
        mykey_id=mykey_id,
        program_id=program_id,
        points=sum(points),
        offline_fallback=None,
    )
    faces: list[VoucherFace] = []
    if outcome.status is OutcomeStatus.APPLIED:
        faces = _faces(
            vouchers,
            voucher_key,
            program_name=program.name if program is not None else balance.program_name,
            issued_on=today,
            street_name=street_name,
            reissue=False,
        )
    log.info("voucher issue %s: %s, %d vouchers", tx.id, outcome.status.value, len(vouchers))
    return IssuedVouchers(outcome, vouchers, faces)


def reprint_faces(
    counter: Counter,
    tx_id: UUID,
    voucher_key: Ed25519PrivateKey,
    *,
    street_name: str | None = None,
) -> list[VoucherFace]:
    """The faces of an issue this terminal made and the server applied, marked 再発行.

    The payloads are the same as first printed (Ed25519 signatures are deterministic).
    """
    row = counter.store.get(tx_id)
    payload = None if row is None else row.transaction.payload
    if row is None or not isinstance(payload, VoucherIssue):
        raise VoucherNotFoundError(f"no voucher issue {tx_id} here")
    if row.state is not OutboxState.APPLIED:
        raise VoucherNotFoundError(f"issue {tx_id} is {row.state.value}")
    identity = counter.identity
    vouchers = [
        VoucherData(
            number=spec.number,
            program_id=payload.program_id,
            points=spec.points,
            valid_from=payload.valid_from,
            valid_until=payload.valid_until,
            issuer_terminal_id=row.transaction.terminal_id,
            issuer_street_id=identity.street_id or "",
        )
        for spec in payload.vouchers
    ]
    program = counter.store.program(payload.program_id)
    return _faces(
        vouchers,
        voucher_key,
        program_name=program.name if program is not None else "",
        issued_on=row.transaction.terminal_time.astimezone(JST).date(),
        street_name=street_name,
        reissue=True,
    )


# --- redeem ---------------------------------------------------------------------------------


def redeemed_on_this_terminal(store: TerminalStore, number: str) -> bool:
    """True if this terminal redeemed ``number`` (and the server did not refuse it)."""
    for row in store.rows(kinds=[TransactionKind.VOUCHER_REDEEM]):
        payload = row.transaction.payload
        if (
            isinstance(payload, VoucherRedeem)
            and payload.number == number
            and row.state is not OutboxState.REJECTED
        ):
            return True
    return False


def verify_scanned(
    store: TerminalStore, identity: TerminalIdentity, text: str, *, today: date
) -> VerifiedVoucher:
    """Verify a scanned payload with what this terminal synced (see ``verify_voucher``)."""
    return verify_voucher(
        text,
        keys=store.voucher_keys(),
        today=today,
        business_id=identity.business_id,
        street_id=identity.street_id,
        is_redeemed=store.is_redeemed,
        redeemed_here=lambda number: redeemed_on_this_terminal(store, number),
    )


def _offline_voucher_points(store: TerminalStore, since: datetime) -> int:
    return sum(
        row.points
        for row in store.rows(since=since, kinds=[TransactionKind.VOUCHER_REDEEM])
        if row.decision is LocalDecision.OFFLINE and row.state is not OutboxState.REJECTED
    )


def _refuse(reason: str, ja: str, en: str) -> OfflineDecision:
    return OfflineDecision(False, reason, ja, en)


def voucher_offline_decision(counter: Counter, voucher: VoucherData) -> OfflineDecision:
    """The voucher rule of the module docstring, judged now."""
    limits = counter.offline_limits(voucher.program_id)
    now = counter.clock()
    last_sync = counter.store.sync_state().last_pull_server_time
    if last_sync is None:
        return _refuse(
            "never-synced",
            "この端末はまだ同期していないため、オフラインではポイント券を受け付けられません。",
            "This terminal has never synced, so it cannot accept vouchers offline.",
        )
    if now - last_sync > timedelta(hours=limits.max_hours_without_sync):
        return _refuse(
            "sync-too-old",
            f"{limits.max_hours_without_sync}時間以上同期していないため、"
            "オフラインではポイント券を受け付けられません。",
            f"No sync for over {limits.max_hours_without_sync} hours: vouchers cannot be"
            " accepted offline.",
        )
    if voucher.points > limits.max_per_transaction:
        return _refuse(
            "over-transaction-limit",
            f"オフラインでは {limits.max_per_transaction:,} ポイントを超えるポイント券は"
            "受け付けられません。",
            f"Offline, vouchers over {limits.max_per_transaction:,} points cannot be accepted.",
        )
    used = counter.store.offline_points(since=last_sync) + _offline_voucher_points(
        counter.store, last_sync
    )
    if used + voucher.points > limits.max_per_terminal_since_sync:
        return _refuse(
            "over-terminal-limit",
            "オフラインで受け付けられる合計に達しました。同期してからお試しください。",
            "This terminal has reached its offline total. Sync before accepting more.",
        )
    return OfflineDecision(
        True,
        "accepted-offline",
        "ポイント券をオフラインで受け付けました。通信が戻ると自動で消込します。",
        "Voucher accepted offline; it is redeemed automatically when the network is back.",
    )


def _explained(outcome: Outcome) -> Outcome:
    """Voucher wording for an undecided outcome; the first redeemer named on a refusal."""
    if outcome.status is OutcomeStatus.UNDECIDED:
        return replace(outcome, message_ja=KEEP_VOUCHER_JA, message_en=KEEP_VOUCHER_EN)
    conflict = None if outcome.result is None else outcome.result.conflict
    if outcome.status is OutcomeStatus.REFUSED and conflict is not None:
        first = conflict.first.business_id
        return replace(
            outcome,
            message_ja=f"{outcome.message_ja}（使用店舗: {first}）",
            message_en=f"{outcome.message_en} (redeemed at {first})",
        )
    return outcome


def _redeem_tx(counter: Counter, number: str) -> Transaction:
    now = counter.clock()
    return Transaction(
        id=uuid7(now),
        terminal_id=counter.identity.terminal_id,
        business_id=counter.identity.business_id,
        terminal_time=now,
        payload=VoucherRedeem(number=number),
    )


def redeem_voucher(counter: Counter, text: str) -> Outcome:
    """Redeem a scanned payload: verify offline (typed ``VoucherError`` when it fails), then
    authorise online, falling back to the voucher rule when the server does not answer."""
    counter.require_role(Role.SHOP, Role.OFFICE)
    verified = verify_scanned(counter.store, counter.identity, text, today=jst_today(counter))
    voucher = verified.data
    outcome = submit(
        counter,
        _redeem_tx(counter, voucher.number),
        session=None,
        mykey_id=None,
        program_id=voucher.program_id,
        points=voucher.points,
        offline_fallback=lambda: voucher_offline_decision(counter, voucher),
    )
    log.info("voucher %s redeemed: %s", voucher.number, outcome.status.value)
    return _explained(outcome)


def redeem_by_number(counter: Counter, number: str) -> Outcome:
    """Redeem a typed 13-digit number: online only (no signature to verify offline).

    :class:`VoucherNumberError` for a wrong number; a number this terminal knows as redeemed is
    refused at once. Without an answer the outcome is undecided (the server may have applied it)
    and the clerk is told to keep the voucher until sync settles it.
    """
    counter.require_role(Role.SHOP, Role.OFFICE)
    digits = normalise_number(number)
    if counter.store.is_redeemed(digits):
        if redeemed_on_this_terminal(counter.store, digits):
            raise VoucherRedeemedHereError(digits)
        raise VoucherRedeemedElsewhereError(digits)
    outcome = submit(
        counter,
        _redeem_tx(counter, digits),
        session=None,
        mykey_id=None,
        program_id=None,
        points=0,
        offline_fallback=None,
    )
    return _explained(outcome)
