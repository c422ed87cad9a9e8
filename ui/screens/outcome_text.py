"""How a transaction's outcome is told on screen: plainly whether points moved."""

from __future__ import annotations

from terminal.services.submit import Outcome, OutcomeStatus
from ui.context import AppServices
from ui.text import tr


def note_outcome(services: AppServices, outcome: Outcome) -> None:
    """What the outcome says about the network, for the status bar."""
    services.online = outcome.status in (OutcomeStatus.APPLIED, OutcomeStatus.REFUSED)


def outcome_view(outcome: Outcome, done_title: str) -> tuple[str, str, list[str]]:
    """(kind, title, lines) for :meth:`ui.card_flow.CardFlow.finish`."""
    status = outcome.status
    if status is OutcomeStatus.APPLIED:
        return "ok", done_title, []
    if status is OutcomeStatus.ACCEPTED_OFFLINE:
        return (
            "warn",
            tr("オフラインで受け付けました（完了）"),
            [outcome.message_ja, outcome.message_en],
        )
    if status is OutcomeStatus.UNDECIDED:
        return (
            "warn",
            tr("結果はまだ確定していません"),
            [outcome.message_ja, outcome.message_en],
        )
    return (
        "bad",
        tr("受け付けられませんでした"),
        [outcome.message_ja, tr("ポイントは動いていません。"), outcome.message_en],
    )
