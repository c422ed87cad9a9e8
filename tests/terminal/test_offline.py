"""The offline policy: each limit of DOMAIN.md §6 refuses with its own reason, the first failing
rule wins, and a use inside every limit is accepted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from terminal.errors import OfflineRefusedError
from terminal.offline import (
    DEFAULT_LIMITS,
    OfflineFacts,
    UnknownCardRule,
    decide_point_use,
)

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
FRESH = OfflineFacts(
    now=NOW,
    last_sync_at=NOW - timedelta(hours=1),
    revocation_age=timedelta(hours=2),
    card_known=True,
    usable_balance=10_000,
    used_by_card_today=0,
    used_since_sync=0,
)


def test_a_use_inside_every_limit_is_accepted_up_to_the_exact_limit() -> None:
    decision = decide_point_use(DEFAULT_LIMITS, FRESH, 3_000)
    assert decision.accepted and decision.reason == "accepted-offline"
    decision.raise_if_refused()


@pytest.mark.parametrize(
    ("change", "points", "reason"),
    [
        ({"last_sync_at": None}, 100, "never-synced"),
        ({"last_sync_at": NOW - timedelta(hours=72, minutes=1)}, 100, "sync-too-old"),
        ({"revocation_age": timedelta(hours=48, minutes=1)}, 100, "revocation-data-too-old"),
        ({"revocation_age": None}, 100, "revocation-data-too-old"),
        ({"card_known": False}, 100, "unknown-card-offline"),
        ({}, 3_001, "over-transaction-limit"),
        ({"used_by_card_today": 4_000}, 1_001, "over-card-daily-limit"),
        ({"used_since_sync": 49_000}, 1_001, "over-terminal-limit"),
        ({"usable_balance": 500}, 501, "insufficient-balance-offline"),
    ],
)
def test_each_limit_refuses_with_its_own_reason(
    change: dict[str, object], points: int, reason: str
) -> None:
    decision = decide_point_use(DEFAULT_LIMITS, replace(FRESH, **change), points)  # type: ignore[arg-type]
    assert (decision.accepted, decision.reason) == (False, reason)
    assert decision.message_ja and decision.message_en
    with pytest.raises(OfflineRefusedError) as raised:
        decision.raise_if_refused()
    assert raised.value.reason == reason
    assert raised.value.user_lines() == (decision.message_ja, decision.message_en)


def test_the_daily_refusal_says_how_much_is_left_today() -> None:
    decision = decide_point_use(DEFAULT_LIMITS, replace(FRESH, used_by_card_today=4_200), 1_000)
    assert "800" in decision.message_ja and "800" in decision.message_en


def test_limits_are_the_programs_data_not_constants() -> None:
    strict = DEFAULT_LIMITS.model_copy(update={"max_per_transaction": 500})
    assert decide_point_use(strict, FRESH, 501).reason == "over-transaction-limit"
    assert decide_point_use(strict, FRESH, 500).accepted


def test_unknown_cards_can_be_allowed_by_rule_but_the_limits_still_hold() -> None:
    unknown = replace(FRESH, card_known=False, usable_balance=None)
    rule = UnknownCardRule.ACCEPT_WITHIN_LIMITS
    assert decide_point_use(DEFAULT_LIMITS, unknown, 1_000, rule).accepted
    assert decide_point_use(DEFAULT_LIMITS, unknown, 3_001, rule).reason == "over-transaction-limit"
