"""Failures as the screen shows them: a stable code, a Japanese and an English sentence that say
what happened and what to do, and (for a wrong PIN) the tries left.

The card layer's and the terminal core's errors all carry ``code``, ``message_ja`` and
``message_en``; ledger errors carry their own titles. Anything else is a bug: logged with its
trace and shown as a generic failure that still tells the clerk what to do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sync.protocol import LedgerRefusedError, LedgerUnreachableError
from terminal.errors import ServerUnreachableError

log = logging.getLogger(__name__)

#: failures after which the card session cannot be used any more (the card must be placed again)
CARD_GONE = frozenset(
    {
        "no-card",
        "card-removed",
        "reader-unplugged",
        "no-reader",
        "card-busy",
        "card-communication",
        "not-my-number-card",
        "pin-locked",
        "pin-cancelled",
    }
)


@dataclass(frozen=True)
class Failure:
    """One failure, ready for the screen (never holds a PIN)."""

    code: str
    message_ja: str
    message_en: str
    tries_left: int | None = None
    reason: str | None = None

    @property
    def card_gone(self) -> bool:
        """True when the card has to be placed again before anything else."""
        return self.code in CARD_GONE

    @classmethod
    def of(cls, error: BaseException) -> Failure:
        """The failure an exception stands for."""
        if isinstance(error, LedgerRefusedError):
            return cls(error.code, error.title_ja, error.title_en)
        if isinstance(error, LedgerUnreachableError):
            unreachable = ServerUnreachableError(str(error))
            return cls(unreachable.code, unreachable.message_ja, unreachable.message_en)
        code = getattr(error, "code", None)
        ja = getattr(error, "message_ja", None)
        en = getattr(error, "message_en", None)
        if isinstance(code, str) and isinstance(ja, str) and isinstance(en, str):
            tries = getattr(error, "tries_left", None)
            reason = getattr(error, "reason", None)
            return cls(
                code,
                ja,
                en,
                tries if isinstance(tries, int) else None,
                reason if isinstance(reason, str) else None,
            )
        log.error("unexpected failure", exc_info=(type(error), error, error.__traceback__))
        return cls(
            "unexpected",
            "予期しないエラーが発生しました。記録は保存されています。もう一度お試しください。",
            "An unexpected error occurred. Records are kept. Please try again.",
        )


class PinCancelled(Exception):  # noqa: N818 - a user action, reported like the typed errors
    """The holder or the clerk cancelled the PIN entry; nothing was sent to the card."""

    code = "pin-cancelled"
    message_ja = "暗証番号の入力を取り消しました。カードをお取りください。"
    message_en = "PIN entry was cancelled. Please remove the card."
