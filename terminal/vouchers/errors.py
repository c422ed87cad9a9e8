"""Voucher errors: one class per thing a clerk must be told, each with a stable ``code`` and a
Japanese and an English sentence (``terminal.errors.TerminalError``'s shape).

Messages that name dates or shops are filled in per instance; ``detail`` is for logs only.
"""

from __future__ import annotations

from datetime import date

from terminal.errors import TerminalError


def _ja_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


class VoucherError(TerminalError):
    """Base of every voucher refusal (the voucher is not accepted; nothing was recorded)."""

    code = "voucher-error"
    message_ja = "このポイント券は使えません。"
    message_en = "This voucher cannot be accepted."


class VoucherFormatError(VoucherError):
    """The scanned text is not a voucher payload (garbage, damaged, another kind of code)."""

    code = "voucher-malformed"
    message_ja = (
        "ポイント券のQRコードとして読み取れません（ポイント券ではないか、破損しています）。"
    )
    message_en = "This is not a readable voucher QR code (not a voucher, or damaged)."


class VoucherForgedError(VoucherError):
    """The signature does not match: changed after printing, or not made by the issuer."""

    code = "voucher-forged"
    message_ja = (
        "ポイント券の署名が正しくありません。偽造・改ざんの可能性があるため受け付けないでください。"
    )
    message_en = "The voucher's signature is wrong: it may be forged or altered. Do not accept it."


class VoucherUnknownIssuerError(VoucherError):
    """Signed by a terminal that is not a known office of this street."""

    code = "voucher-unknown-issuer"
    message_ja = (
        "このポイント券の発行元を確認できません。同期してからもう一度読み取ってください。"
        "それでも同じ場合は受け付けないでください。"
    )
    message_en = (
        "The voucher's issuer is not known here. Sync and scan again; if this repeats, do not "
        "accept it."
    )


class VoucherOtherStreetError(VoucherError):
    """Issued by another shopping street (or this business belongs to none)."""

    code = "voucher-other-street"
    message_ja = "このポイント券は他の商店街で発行されたもので、このお店では使えません。"
    message_en = "This voucher was issued by another shopping street and cannot be used here."


class VoucherNotYetValidError(VoucherError):
    """Today (JST) is before the first valid day."""

    code = "voucher-not-yet-valid"

    def __init__(self, valid_from: date, detail: str = "") -> None:
        super().__init__(detail or f"valid from {valid_from}")
        self.message_ja = f"このポイント券はまだ使えません（{_ja_date(valid_from)}から使えます）。"
        self.message_en = f"This voucher is not valid yet (valid from {valid_from:%Y-%m-%d})."


class VoucherExpiredError(VoucherError):
    """Today (JST) is after the last valid day."""

    code = "voucher-expired"

    def __init__(self, valid_until: date, detail: str = "") -> None:
        super().__init__(detail or f"valid until {valid_until}")
        self.message_ja = f"このポイント券は有効期間が過ぎています（{_ja_date(valid_until)}まで）。"
        self.message_en = f"This voucher has expired (valid until {valid_until:%Y-%m-%d})."


class VoucherRedeemedHereError(VoucherError):
    """This terminal already redeemed the voucher."""

    code = "voucher-already-redeemed-here"
    message_ja = "このポイント券はこの端末で使用済みです（二重利用はできません）。"
    message_en = "This voucher has already been redeemed on this terminal."


class VoucherRedeemedElsewhereError(VoucherError):
    """The street's synced list says another shop (or terminal) redeemed it."""

    code = "voucher-already-redeemed"
    message_ja = "このポイント券は商店街の別のお店ですでに使用済みです。"
    message_en = "This voucher has already been redeemed at another shop of the street."


class VoucherNumberError(VoucherError):
    """A typed voucher number is not 13 digits with a correct check digit."""

    code = "voucher-number-invalid"
    message_ja = "発券番号が正しくありません（13桁の数字を確認してください）。"
    message_en = "The voucher number is wrong (check the 13 digits)."


class VoucherNeedsServerError(VoucherError):
    """Issuing vouchers (and redeeming a typed number) needs the server now."""

    code = "voucher-needs-server"
    message_ja = "この操作にはサーバーへの接続が必要です。ネットワークを確認してください。"
    message_en = "This needs a connection to the server. Check the network."


class VoucherIssueError(VoucherError):
    """The vouchers asked for cannot be issued (points, count or validity out of bounds)."""

    code = "voucher-issue-invalid"

    def __init__(self, message_ja: str, message_en: str, detail: str = "") -> None:
        super().__init__(detail or message_en)
        self.message_ja = message_ja
        self.message_en = message_en


class VoucherNumbersExhaustedError(VoucherError):
    """This terminal has no voucher prefix, or used all 999,999 numbers of it."""

    code = "voucher-numbers-unavailable"
    message_ja = "この端末ではポイント券の番号を発行できません。端末を登録し直してください。"
    message_en = "This terminal cannot number vouchers. Enroll the terminal again."


class VoucherNotFoundError(VoucherError):
    """A reprint was asked for a transaction that issued no vouchers here."""

    code = "voucher-issue-not-found"
    message_ja = "再発行できるポイント券の発行記録が見つかりません。"
    message_en = "No issued vouchers were found to reprint."
