"""The card layer's errors: a stable machine code plus a Japanese and an English user message.

``code`` never changes (CLIs print it, tests and the UI match on it); ``message_ja`` and
``message_en`` are for people; ``detail`` is for logs only and never holds a PIN.
"""

from __future__ import annotations


class CardError(Exception):
    """Base of every failure the card layer reports."""

    code: str = "card-error"
    message_ja: str = "カードの処理中にエラーが発生しました。もう一度カードをかざしてください。"
    message_en: str = "Something went wrong with the card. Please place the card again."

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.message_en)
        self.detail = detail

    def __str__(self) -> str:
        base = f"[{self.code}] {self.message_en}"
        return f"{base} ({self.detail})" if self.detail else base

    def user_lines(self) -> tuple[str, str]:
        """The Japanese line first, then the English line."""
        return self.message_ja, self.message_en


class NoReaderError(CardError):
    """No card reader is connected (or the PC/SC service is not running)."""

    code = "no-reader"
    message_ja = "カードリーダーが見つかりません。リーダーを接続してください。"
    message_en = "No card reader found. Please connect a reader."


class ReaderUnpluggedError(CardError):
    """The reader disappeared while it was in use."""

    code = "reader-unplugged"
    message_ja = "カードリーダーが外れました。リーダーを接続し直してください。"
    message_en = "The card reader was unplugged. Please reconnect it."


class NoCardError(CardError):
    """A reader is there but no card is on it."""

    code = "no-card"
    message_ja = "カードが置かれていません。マイナンバーカードをリーダーにかざしてください。"
    message_en = "No card on the reader. Please place your My Number Card on the reader."


class CardRemovedError(CardError):
    """The card left the reader during the operation."""

    code = "card-removed"
    message_ja = "カードが離れました。カードをリーダーに置いたまま、もう一度お試しください。"
    message_en = "The card was removed. Keep the card on the reader and try again."


class CardBusyError(CardError):
    """Another program holds the card (exclusive access was refused)."""

    code = "card-busy"
    message_ja = "カードは他のプログラムで使用中です。しばらくしてからもう一度お試しください。"
    message_en = "The card is in use by another program. Please try again shortly."


class CardCommunicationError(CardError):
    """The reader or card answered in a way that cannot be used."""

    code = "card-communication"
    message_ja = "カードと通信できませんでした。カードをかざし直してください。"
    message_en = "Could not communicate with the card. Please place the card again."


class NotMyNumberCardError(CardError):
    """The card has no (current) JPKI application: not a My Number Card."""

    code = "not-my-number-card"
    message_ja = "マイナンバーカードではありません。マイナンバーカードをかざしてください。"
    message_en = "This is not a My Number Card. Please use your My Number Card."


class WrongPinError(CardError):
    """The PIN was wrong; ``tries_left`` attempts remain before the PIN locks."""

    code = "wrong-pin"

    def __init__(self, tries_left: int, detail: str = "") -> None:
        self.tries_left = tries_left
        self.message_ja = f"暗証番号が違います。残り{tries_left}回です。"
        self.message_en = f"Wrong PIN. {tries_left} tries left."
        if tries_left == 1:
            self.message_ja += "次に間違えるとロックされます。"
            self.message_en += " One more mistake locks the PIN."
        super().__init__(detail)


class PinLockedError(CardError):
    """The user-authentication PIN is locked; only the municipal office can unlock it."""

    code = "pin-locked"
    message_ja = "暗証番号がロックされています。お住まいの市区町村の窓口でロック解除してください。"
    message_en = "The PIN is locked. Please have it unlocked at your municipal office."


class CertificateExpiredError(CardError):
    """The user-authentication certificate is outside its validity period."""

    code = "certificate-expired"
    message_ja = "電子証明書の有効期限が切れています。市区町村の窓口で更新してください。"
    message_en = "The card's certificate has expired. Please renew it at your municipal office."


class CertificateNotYetValidError(CardError):
    """The certificate's validity starts in the future (or the clock is wrong)."""

    code = "certificate-not-yet-valid"
    message_ja = "電子証明書がまだ有効になっていません。端末の時計を確認してください。"
    message_en = "The card's certificate is not valid yet. Please check this terminal's clock."


class CertificateRevokedError(CardError):
    """The certificate is on the revocation list."""

    code = "certificate-revoked"
    message_ja = "この電子証明書は失効しています。市区町村の窓口にお問い合わせください。"
    message_en = "This certificate has been revoked. Please ask your municipal office."


class CertificateUsageError(CardError):
    """The certificate is not a JPKI user-authentication certificate (usage or policy)."""

    code = "certificate-not-for-authentication"
    message_ja = "この証明書は利用者証明用電子証明書ではありません。"
    message_en = "This certificate is not a JPKI user-authentication certificate."


class UnknownIssuerError(CardError):
    """No trust anchor signed the certificate."""

    code = "unknown-issuer"
    message_ja = "電子証明書の発行者を確認できません。"
    message_en = "The certificate's issuer is not trusted."


class TrustStoreError(CardError):
    """The configured trust anchor folder is missing, empty or unreadable."""

    code = "trust-store-missing"
    message_ja = "信頼する認証局の証明書が設定されていません。設定を確認してください。"
    message_en = "No trusted CA certificates are configured. Please check the settings."


class RevocationDataTooOldError(CardError):
    """The revocation data is older than allowed; refresh it (sync) before accepting cards."""

    code = "revocation-data-too-old"
    message_ja = "失効情報が古くなっています。サーバーと同期してからもう一度お試しください。"
    message_en = "The revocation data is out of date. Please sync with the server and try again."


class RevocationUnavailableError(CardError):
    """No revocation data covers the certificate's issuer."""

    code = "revocation-unavailable"
    message_ja = "失効情報がありません。サーバーと同期してからもう一度お試しください。"
    message_en = "No revocation data is available. Please sync with the server and try again."


class BadSignatureError(CardError):
    """The card's signature does not verify with its certificate."""

    code = "bad-signature"
    message_ja = "カードの署名を確認できませんでした。カードを確認してください。"
    message_en = "The card's signature could not be verified. Please check the card."


class StatusWordError(CardError):
    """The card answered a command with an unexpected status word ``sw``."""

    code = "card-status"

    def __init__(self, sw: int, detail: str = "") -> None:
        self.sw = sw
        super().__init__(detail or f"status word {sw:04X}")


class PinNotVerifiedError(StatusWordError):
    """6982: the command needs a verified PIN (security status not satisfied)."""

    code = "pin-not-verified"


class WrongLengthError(StatusWordError):
    """6700: wrong length (Lc or Le)."""


class WrongParametersError(StatusWordError):
    """6A86 / 6B00: wrong P1-P2 (for READ BINARY: offset past the end)."""


class FileNotFoundOnCardError(StatusWordError):
    """6A82: the file or application is not on the card."""


class InstructionNotSupportedError(StatusWordError):
    """6D00 / 6E00: instruction or class not supported."""
