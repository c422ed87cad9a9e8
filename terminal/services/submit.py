"""How every counter transaction is made final: sign, write durably, authorise, fall back.

1. The card signs the transaction digest (kinds that need the PIN).
2. The row is written to the outbox in one local transaction: from here nothing is lost.
3. Online: the server authorises it now. No answer (network) -> the caller's offline decision:
   accepted -> the row is marked offline and queued; not accepted -> "undecided" (the server may
   have applied it; sync will tell). A refusal is final and recorded.
4. The outcome says plainly what happened, for the screen and the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from cardio.auth import sign_message
from cardio.jpki import JpkiSession
from sync.protocol import (
    CARD_SIGNED_KINDS,
    LedgerRefusedError,
    LedgerUnreachableError,
    ResultStatus,
    Transaction,
    TransactionResult,
    b64encode,
    transaction_digest,
)
from terminal.failpoints import crash_point
from terminal.offline import OfflineDecision
from terminal.services.counter import Counter
from terminal.store import LocalDecision, OutboxRow, Tap

log = logging.getLogger(__name__)


class OutcomeStatus(StrEnum):
    """What the screen tells the customer and the clerk."""

    APPLIED = "applied"  # the server applied it now
    ACCEPTED_OFFLINE = "accepted_offline"  # accepted by this terminal; sent when online
    REFUSED = "refused"  # the server (or the offline policy) said no; nothing moved
    UNDECIDED = "undecided"  # the answer was lost and offline rules do not cover it


@dataclass(frozen=True)
class Outcome:
    """The end of one counter transaction."""

    row: OutboxRow
    status: OutcomeStatus
    result: TransactionResult | None
    reason: str | None
    message_ja: str
    message_en: str

    @property
    def balance(self) -> int | None:
        """The new balance the server reported (None offline)."""
        return None if self.result is None else self.result.balance

    @property
    def done(self) -> bool:
        """True when the points moved or will move for certain (applied or accepted offline)."""
        return self.status in (OutcomeStatus.APPLIED, OutcomeStatus.ACCEPTED_OFFLINE)


UNDECIDED_JA = "通信が途切れたため、結果は同期後に確定します。履歴で確認してください。"
UNDECIDED_EN = "The connection dropped; the result is settled at the next sync. See the history."
APPLIED_JA, APPLIED_EN = "完了しました。", "Done."

#: An offline decision for the current row, made when the server did not answer (None: no
#: offline fallback for this kind).
OfflineFallback = Callable[[], OfflineDecision] | None


def sign_with_card(session: JpkiSession, tx: Transaction) -> Transaction:
    """``tx`` with the card's signature over its digest (the PIN is already verified)."""
    assert tx.card is not None, "a card-signed transaction carries the certificate"
    signature = sign_message(session, transaction_digest(tx))
    card = tx.card.model_copy(update={"signature": b64encode(signature)})
    return tx.model_copy(update={"card": card})


def submit(
    counter: Counter,
    tx: Transaction,
    *,
    session: JpkiSession | None,
    mykey_id: str | None,
    program_id: int | None,
    points: int,
    offline_fallback: OfflineFallback,
    tap: Tap | None = None,
) -> Outcome:
    """Sign (if the kind needs it), store, then authorise ``tx``; see the module docstring.

    ``tx.offline`` already set means the terminal decided offline before signing: the row is
    queued for sync and reported as accepted offline. ``tap`` (attendance mode) is written with
    the row in the same local transaction (a second tap of a card raises ``AlreadyTappedError``).
    """
    if tx.kind in CARD_SIGNED_KINDS:
        if session is None:
            raise ValueError(f"{tx.kind} needs the card's signature")
        tx = sign_with_card(session, tx)
    decision = LocalDecision.OFFLINE if tx.offline else LocalDecision.ONLINE
    crash_point("before-local-commit")
    row = counter.store.add_transaction(
        tx, mykey_id=mykey_id, program_id=program_id, points=points, decision=decision, tap=tap
    )
    crash_point("after-local-commit")
    log.info("stored %s %s (%s)", tx.kind.value, tx.id, decision.value)
    if tx.offline:
        counter.on_new_row()
        return _offline(row, None)
    return authorise_stored(counter, row, offline_fallback)


def authorise_stored(
    counter: Counter, row: OutboxRow, offline_fallback: OfflineFallback
) -> Outcome:
    """Authorise an already stored row online; fall back as the module docstring says."""
    tx = row.transaction
    try:
        result = counter.ledger.authorize(tx)
    except LedgerUnreachableError as error:
        log.warning("no answer for %s (%s)", tx.id, error)
        return _no_answer(counter, row, offline_fallback)
    except LedgerRefusedError as error:
        # the request itself was refused (terminal revoked, clock off, ...): not applied
        result = TransactionResult(
            id=tx.id,
            status=ResultStatus.REJECTED,
            reason=error.code,
            message_ja=error.title_ja,
            message_en=error.title_en,
            server_time=counter.clock(),
        )
    crash_point("after-server-answer")
    return outcome_of(counter, counter.store.record_results([result])[0], result)


def _no_answer(counter: Counter, row: OutboxRow, offline_fallback: OfflineFallback) -> Outcome:
    decision = None if offline_fallback is None else offline_fallback()
    try:
        if decision is not None and decision.accepted:
            return _offline(counter.store.mark_offline(row.id), decision)
        undecided = counter.store.mark_undecided(row.id)
    finally:
        counter.on_new_row()
    return Outcome(
        undecided, OutcomeStatus.UNDECIDED, None, "undecided", UNDECIDED_JA, UNDECIDED_EN
    )


def queued_offline(ja: str, en: str) -> OfflineFallback:
    """A fallback that always accepts (kinds that move no points out: grants, ID links)."""
    return lambda: OfflineDecision(True, "queued", ja, en)


def _offline(row: OutboxRow, decision: OfflineDecision | None) -> Outcome:
    ja = (
        decision.message_ja
        if decision
        else "オフラインで受け付けました。通信が戻ると自動で送信します。"
    )
    en = decision.message_en if decision else "Accepted offline; sent automatically when online."
    return Outcome(row, OutcomeStatus.ACCEPTED_OFFLINE, None, "accepted-offline", ja, en)


def outcome_of(counter: Counter, row: OutboxRow, result: TransactionResult) -> Outcome:
    """The outcome of a server answer; caches the new balance it reports."""
    status = result.original_status if result.status is ResultStatus.DUPLICATE else result.status
    if status in (ResultStatus.APPLIED, ResultStatus.ACCEPTED_OFFLINE):
        if result.mykey_id and result.program_id is not None and result.balance is not None:
            counter.store.set_balance(
                result.mykey_id,
                result.program_id,
                result.balance,
                result.overdraft,
                at=counter.clock(),
            )
        return Outcome(row, OutcomeStatus.APPLIED, result, None, APPLIED_JA, APPLIED_EN)
    return Outcome(
        row,
        OutcomeStatus.REFUSED,
        result,
        result.reason,
        result.message_ja or "受け付けられませんでした。",
        result.message_en or "Refused.",
    )
