"""Errors of the emulator and its test CA: each carries a Japanese and an English user message.

These belong to the card side only (the host side has its own hierarchy in ``cardio.errors``);
the CLI prints ``message_ja`` then ``message_en``. No message ever contains a PIN.
"""

from __future__ import annotations


class VirtualCardError(Exception):
    """Base class: something the user of ``mykey card virtual …`` must fix."""

    code = "virtual-card-error"

    def __init__(self, message_ja: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_ja = message_ja
        self.message_en = message_en


class PinFormatError(VirtualCardError):
    """A new card's PIN is not exactly 4 ASCII digits (the digits are never in the message)."""

    code = "bad-pin-format"

    def __init__(self) -> None:
        super().__init__(
            "暗証番号は半角数字4桁で指定してください。",
            "The PIN must be exactly 4 ASCII digits (0-9).",
        )


class SignPasswordFormatError(VirtualCardError):
    """A signing password is not 6-16 characters of A-Z and 0-9."""

    code = "bad-sign-password-format"

    def __init__(self) -> None:
        super().__init__(
            "署名用パスワードは英大文字と数字の6〜16文字で指定してください。",
            "The signing password must be 6 to 16 characters of A-Z and 0-9.",
        )


class FolderInUseError(VirtualCardError):
    """The target folder already holds a CA or a card profile; nothing is overwritten."""

    code = "folder-in-use"

    def __init__(self, what_ja: str, what_en: str, path: str) -> None:
        super().__init__(
            f"{path} には既に{what_ja}があります。上書きしません。別のフォルダを指定してください。",
            f"{path} already holds {what_en}; it is not overwritten. Choose another folder.",
        )


class MissingFolderError(VirtualCardError):
    """A CA or profile folder is missing or incomplete."""

    code = "missing-folder"

    def __init__(self, what_ja: str, what_en: str, path: str, detail: str) -> None:
        super().__init__(
            f"{path} に{what_ja}が見つからないか、壊れています（{detail}）。",
            f"{path} does not hold a usable {what_en} ({detail}).",
        )


class ForeignCertificateError(VirtualCardError):
    """The certificate was not issued by this test CA."""

    code = "foreign-certificate"

    def __init__(self) -> None:
        super().__init__(
            "この証明書はこのテスト認証局が発行したものではありません。",
            "This certificate was not issued by this test CA.",
        )
