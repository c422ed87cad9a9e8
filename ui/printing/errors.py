"""Printing errors: a stable code, a Japanese and an English message, detail for logs only."""

from __future__ import annotations


class PrintError(Exception):
    """Printing or writing a PDF failed."""

    code = "print-failed"
    message_ja = "印刷できませんでした。プリンターの電源・用紙・接続を確認してください。"
    message_en = "Printing failed. Check the printer's power, paper and connection."

    def __init__(self, detail: str = "") -> None:
        super().__init__(f"[{self.code}] {self.message_en}" + (f" ({detail})" if detail else ""))
        self.detail = detail

    def user_lines(self) -> tuple[str, str]:
        """The Japanese line first, then the English line."""
        return self.message_ja, self.message_en


class NothingToPrintError(PrintError):
    """Asked to print an empty list of vouchers (a bug in the caller, shown politely)."""

    code = "nothing-to-print"
    message_ja = "印刷するポイント券がありません。"
    message_en = "There are no vouchers to print."
