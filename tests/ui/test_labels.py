"""Plain words for rows: a voucher conflict names both sides."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sync.protocol import (
    ResultStatus,
    TransactionResult,
    VoucherConflict,
    VoucherConflictSide,
)
from ui.screens.sync_screen import problem_text


class _Row:
    def __init__(self, result: TransactionResult | None, last_error: str | None = None) -> None:
        self.result = result
        self.last_error = last_error


def test_a_voucher_conflict_names_both_shops_and_times() -> None:
    at = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # 10:30 JST
    result = TransactionResult(
        id=uuid.uuid4(),
        status=ResultStatus.CONFLICT,
        reason="voucher-redeemed-twice",
        conflict=VoucherConflict(
            voucher_number="1234567890128",
            first=VoucherConflictSide(transaction_id="a", business_id="A0001", terminal_time=at),
            second=VoucherConflictSide(transaction_id="b", business_id="A0002", terminal_time=None),
        ),
        server_time=at,
    )
    text = problem_text(_Row(result))  # type: ignore[arg-type]
    assert "1234567890128" in text
    assert "A0001（11/24 10:30）" in text and "A0002（—）" in text


def test_a_refusal_is_told_in_the_servers_own_words() -> None:
    result = TransactionResult(
        id=uuid.uuid4(),
        status=ResultStatus.REJECTED,
        reason="insufficient-balance",
        message_ja="ポイント残高が足りません。",
        server_time=datetime.now(UTC),
    )
    assert problem_text(_Row(result)) == "ポイント残高が足りません。"  # type: ignore[arg-type]
    assert problem_text(_Row(None, "サーバーに接続できません")) == "サーバーに接続できません"  # type: ignore[arg-type]
