"""Words for transaction kinds and sync states, as the clerk reads them."""

from __future__ import annotations

from sync.protocol import TransactionKind
from terminal.store import LocalDecision, OutboxRow, OutboxState
from ui.text import tr


def kind_text(kind: TransactionKind) -> str:
    """利用, 付与, ... for a transaction kind."""
    words = {
        TransactionKind.POINT_USE: tr("利用"),
        TransactionKind.GRANT: tr("付与"),
        TransactionKind.VOUCHER_ISSUE: tr("ポイント券発行"),
        TransactionKind.VOUCHER_REDEEM: tr("ポイント券受付"),
        TransactionKind.SERVICE_ID_LINK: tr("会員番号登録"),
        TransactionKind.MYKEY_SETUP: tr("マイキーID設定"),
    }
    return words.get(kind, kind.value)


def row_mykey(row: OutboxRow) -> str:
    """The row's MyKey ID: as stored, else as the server answered."""
    if row.mykey_id:
        return row.mykey_id
    return (row.result.mykey_id if row.result is not None else None) or ""


def state_text(row: OutboxRow) -> str:
    """Where a row stands, in plain words."""
    if row.state in (OutboxState.PENDING, OutboxState.SENT):
        if row.decision is LocalDecision.UNDECIDED:
            return tr("未確定（同期待ち）")
        if row.decision is LocalDecision.OFFLINE:
            return tr("オフライン受付・未送信")
        return tr("未送信")
    words = {
        OutboxState.APPLIED: tr("同期済み"),
        OutboxState.ACCEPTED_OFFLINE: tr("同期済み（オフライン受付）"),
        OutboxState.REJECTED: tr("却下"),
        OutboxState.CONFLICT: tr("競合"),
    }
    return words[row.state]
