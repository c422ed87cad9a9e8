"""The terminal core's errors: a stable machine code plus a Japanese and an English user message.

Same shape as ``cardio.errors.CardError``: ``code`` never changes (CLIs print it, the UI and tests
match on it), ``message_ja`` / ``message_en`` are for people and say what to do, ``detail`` is for
logs only and never holds a PIN.
"""

from __future__ import annotations


class TerminalError(Exception):
    """Base of every failure the terminal core reports."""

    code: str = "terminal-error"
    message_ja: str = "処理できませんでした。もう一度お試しください。"
    message_en: str = "This could not be done. Please try again."

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.message_en)
        self.detail = detail

    def __str__(self) -> str:
        base = f"[{self.code}] {self.message_en}"
        return f"{base} ({self.detail})" if self.detail else base

    def user_lines(self) -> tuple[str, str]:
        """The Japanese line first, then the English line."""
        return self.message_ja, self.message_en


class NotEnrolledError(TerminalError):
    """This terminal has no identity yet (or its files are unreadable)."""

    code = "not-enrolled"
    message_ja = "この端末は登録されていません。設定画面で登録コードを入力してください。"
    message_en = "This terminal is not enrolled. Enter the enrollment code in Settings."


class AlreadyEnrolledError(TerminalError):
    """Enrollment was asked for a data folder that already holds an identity."""

    code = "already-enrolled"
    message_ja = "この端末はすでに登録されています。"
    message_en = "This terminal is already enrolled."


class RoleNotAllowedError(TerminalError):
    """The terminal's roles do not include this operation."""

    code = "role-not-allowed"
    message_ja = "この端末ではこの操作はできません。"
    message_en = "This terminal may not do this."


class ServerUnreachableError(TerminalError):
    """An online-only operation found no server."""

    code = "server-unreachable"
    message_ja = (
        "サーバーに接続できません。ネットワークを確認して、しばらくしてからお試しください。"
    )
    message_en = "The server cannot be reached. Check the network and try again later."


class ServerRefusedError(TerminalError):
    """The server refused; its own code and Japanese/English text are carried through."""

    code = "server-refused"

    def __init__(self, server_code: str, title_ja: str, title_en: str, detail: str = "") -> None:
        super().__init__(detail or server_code)
        self.server_code = server_code
        self.message_ja = title_ja
        self.message_en = title_en


class UnknownCardError(TerminalError):
    """The card has no MyKey ID (or none known offline)."""

    code = "unknown-mykey-id"
    message_ja = "このカードにはマイキーIDが設定されていません。事務局で設定してください。"
    message_en = "This card has no MyKey ID. Please set one up at the office."


class MyKeyNotActiveError(TerminalError):
    """The MyKey ID is suspended or invalid."""

    code = "mykey-id-not-active"
    message_ja = "このマイキーIDは現在使えません（停止または無効）。事務局にお問い合わせください。"
    message_en = "This MyKey ID cannot be used now (suspended or invalid). Please ask the office."


class InsufficientBalanceError(TerminalError):
    """More points asked for than the usable balance."""

    code = "insufficient-balance"
    message_ja = "ポイント残高が足りません。"
    message_en = "Not enough points."


class ProgramNotAcceptedError(TerminalError):
    """The point program cannot be used at this business."""

    code = "program-not-accepted"
    message_ja = "このポイントはこのお店では使えません。"
    message_en = "These points cannot be used at this shop."


class OfflineRefusedError(TerminalError):
    """Offline, and the offline policy does not allow this; ``reason`` is the policy's code."""

    code = "offline-refused"

    def __init__(self, reason: str, message_ja: str, message_en: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.message_ja = message_ja
        self.message_en = message_en


class AlreadyTappedError(TerminalError):
    """Attendance mode: this card already tapped at this event."""

    code = "already-tapped"
    message_ja = "このカードはこのイベントで受付済みです。"
    message_en = "This card has already been registered at this event."


class InvalidAmountError(TerminalError):
    """Points must be a whole number from 1 up."""

    code = "invalid-amount"
    message_ja = "ポイント数を正しく入力してください（1以上の整数）。"
    message_en = "Enter a whole number of points (1 or more)."


class StoreError(TerminalError):
    """The local database could not be opened or written; nothing was recorded."""

    code = "local-store-error"
    message_ja = (
        "端末のデータを保存できませんでした。記録されていません。管理者に連絡してください。"
    )
    message_en = "The terminal could not save its data. Nothing was recorded. Call support."
