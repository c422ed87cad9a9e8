"""The offline policy: when the server does not answer, may this terminal accept a point use?

The limits are data of the point program (``sync.protocol.OfflineLimits``, DOMAIN.md §6), like
card networks' floor limits; the unknown-card rule is the terminal's (a card never seen at this
business has no cached balance, so by default it is refused offline). Every decision carries a
stable reason code and a Japanese and an English sentence for the screen and the log. The checks
mirror the server's (``server_stub.processing``), so what the terminal accepts, the server accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sync.protocol import OfflineLimits
from terminal.errors import OfflineRefusedError


class UnknownCardRule(StrEnum):
    """What to do offline with a card that has no cached MyKey ID link at this business."""

    REFUSE = "refuse"
    ACCEPT_WITHIN_LIMITS = "accept_within_limits"


#: DOMAIN.md §6 defaults, used when the program's settings were never synced.
DEFAULT_LIMITS = OfflineLimits(
    max_per_transaction=3_000,
    max_per_card_per_day=5_000,
    max_per_terminal_since_sync=50_000,
    max_hours_without_sync=72,
    max_revocation_age_hours=48,
)


@dataclass(frozen=True)
class OfflineFacts:
    """What the terminal knows locally when it has to decide alone."""

    now: datetime
    last_sync_at: datetime | None
    revocation_age: timedelta | None
    card_known: bool
    usable_balance: int | None
    used_by_card_today: int
    used_since_sync: int


@dataclass(frozen=True)
class OfflineDecision:
    """Accepted or not, with the reason for the screen and the log."""

    accepted: bool
    reason: str
    message_ja: str
    message_en: str

    def raise_if_refused(self) -> None:
        """Raise ``OfflineRefusedError`` carrying this decision when it is a refusal."""
        if not self.accepted:
            raise OfflineRefusedError(self.reason, self.message_ja, self.message_en)


def _refuse(reason: str, ja: str, en: str) -> OfflineDecision:
    return OfflineDecision(False, reason, ja, en)


ACCEPTED = OfflineDecision(
    True,
    "accepted-offline",
    "オフラインで受け付けました。通信が戻ると自動で送信します。",
    "Accepted offline. It is sent automatically when the network is back.",
)


def decide_point_use(
    limits: OfflineLimits,
    facts: OfflineFacts,
    points: int,
    unknown_card: UnknownCardRule = UnknownCardRule.REFUSE,
) -> OfflineDecision:
    """Judge one offline point use of ``points`` against ``limits``; first failed rule wins."""
    if facts.last_sync_at is None:
        return _refuse(
            "never-synced",
            "この端末はまだ同期していないため、オフラインでは使えません。",
            "This terminal has never synced, so it cannot accept points offline.",
        )
    if facts.now - facts.last_sync_at > timedelta(hours=limits.max_hours_without_sync):
        return _refuse(
            "sync-too-old",
            f"{limits.max_hours_without_sync}時間以上同期していないため、オフラインでは使えません。"
            "ネットワークを確認してください。",
            f"No sync for over {limits.max_hours_without_sync} hours: offline use is not allowed."
            " Check the network.",
        )
    if facts.revocation_age is None or facts.revocation_age > timedelta(
        hours=limits.max_revocation_age_hours
    ):
        return _refuse(
            "revocation-data-too-old",
            "失効情報が古いため、オフラインでは使えません。ネットワークを確認してください。",
            "The revocation data is too old for offline use. Check the network.",
        )
    if not facts.card_known and unknown_card is UnknownCardRule.REFUSE:
        return _refuse(
            "unknown-card-offline",
            "このカードはこの端末で確認できないため、オフラインでは使えません。",
            "This card is not known to this terminal, so it cannot be used offline.",
        )
    if points > limits.max_per_transaction:
        return _refuse(
            "over-transaction-limit",
            f"オフラインでは1回 {limits.max_per_transaction:,} ポイントまでです。",
            f"Offline, at most {limits.max_per_transaction:,} points per transaction.",
        )
    if facts.used_by_card_today + points > limits.max_per_card_per_day:
        left = max(0, limits.max_per_card_per_day - facts.used_by_card_today)
        return _refuse(
            "over-card-daily-limit",
            f"オフラインでは1枚のカードにつき1日 {limits.max_per_card_per_day:,} ポイントまでです"
            f"（本日あと {left:,} ポイント）。",
            f"Offline, at most {limits.max_per_card_per_day:,} points per card per day"
            f" ({left:,} left today).",
        )
    if facts.used_since_sync + points > limits.max_per_terminal_since_sync:
        return _refuse(
            "over-terminal-limit",
            "オフラインで受け付けられる合計に達しました。同期してからお試しください。",
            "This terminal has reached its offline total. Sync before accepting more.",
        )
    if facts.usable_balance is not None and points > facts.usable_balance:
        return _refuse(
            "insufficient-balance-offline",
            f"ポイント残高が足りません（利用可能 {facts.usable_balance:,} ポイント）。",
            f"Not enough points ({facts.usable_balance:,} usable).",
        )
    return ACCEPTED
