"""The ledger server's errors: a stable machine code, an HTTP status, Japanese and English text.

``code`` never changes (terminals, the admin CLI and tests match on it). ``title_ja`` and
``title_en`` are for people; ``detail`` is for logs and the problem document's detail only.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every failure the ledger reports."""

    code: str = "ledger-error"
    status: int = 500
    title_ja: str = "台帳サーバーでエラーが発生しました。"
    title_en: str = "The ledger server failed."

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.title_en)
        self.detail = detail

    def __str__(self) -> str:
        base = f"[{self.code}] {self.title_en}"
        return f"{base} ({self.detail})" if self.detail else base


# --- 400/422: bad input ----------------------------------------------------------------------


class InvalidInputError(LedgerError):
    """The request or value is malformed."""

    code = "invalid-input"
    status = 422
    title_ja = "入力内容が正しくありません。"
    title_en = "The input is not valid."


class InvalidMunicipalityCodeError(InvalidInputError):
    """A municipality code is not 6 digits with a correct check digit."""

    code = "invalid-municipality-code"
    title_ja = "自治体コードが正しくありません（6桁、検査数字付き）。"
    title_en = "The municipality code is not valid (6 digits with check digit)."


class InvalidMyKeyIdError(InvalidInputError):
    """A MyKey ID is not 4–16 ASCII letters or digits."""

    code = "invalid-mykey-id"
    title_ja = "マイキーIDは半角英数字4〜16文字です。"
    title_en = "A MyKey ID is 4 to 16 ASCII letters or digits."


class InvalidVoucherError(InvalidInputError):
    """Voucher points or dates are not acceptable."""

    code = "invalid-voucher"
    title_ja = "ポイント券の内容（ポイント数・有効期間）が正しくありません。"
    title_en = "The voucher's points or validity dates are not acceptable."


class UntrustedCrlError(InvalidInputError):
    """A CRL that no trusted JPKI CA signed."""

    code = "crl-untrusted"
    title_ja = "失効リストの署名を信頼できるCAで確認できません。取り込みませんでした。"
    title_en = "The CRL is not signed by a trusted CA; nothing was imported."


# --- 404 ----------------------------------------------------------------------------------------


class NotFoundError(LedgerError):
    """Something named does not exist."""

    code = "not-found"
    status = 404
    title_ja = "指定されたものが見つかりません。"
    title_en = "Not found."


class UnknownMunicipalityError(NotFoundError):
    """No such municipality."""

    code = "unknown-municipality"
    title_ja = "自治体が登録されていません。"
    title_en = "The municipality is not registered."


class UnknownProgramError(NotFoundError):
    """No such point program."""

    code = "unknown-program"
    title_ja = "ポイントが登録されていません。"
    title_en = "The point program is not registered."


class UnknownGrantProgramError(NotFoundError):
    """No such grant program."""

    code = "unknown-grant-program"
    title_ja = "付与事業が登録されていません。"
    title_en = "The grant program is not registered."


class UnknownBusinessError(NotFoundError):
    """No such business."""

    code = "unknown-business"
    title_ja = "事業者が登録されていません。"
    title_en = "The business is not registered."


class UnknownTerminalError(NotFoundError):
    """No such terminal."""

    code = "unknown-terminal"
    title_ja = "端末が登録されていません。"
    title_en = "The terminal is not registered."


class UnknownMyKeyIdError(NotFoundError):
    """No MyKey ID for this card or name."""

    code = "unknown-mykey-id"
    title_ja = "マイキーIDが登録されていません。事務局でマイキーIDを設定してください。"
    title_en = "No MyKey ID is registered. Please set one up at the office."


class UnknownVoucherError(NotFoundError):
    """No voucher with this number."""

    code = "unknown-voucher"
    title_ja = "このポイント券は発行されていません（偽造の可能性）。"
    title_en = "This voucher was never issued (possibly forged)."


# --- 409 ----------------------------------------------------------------------------------------


class ConflictError(LedgerError):
    """The request contradicts what the ledger already holds."""

    code = "conflict"
    status = 409
    title_ja = "登録済みの内容と矛盾しています。"
    title_en = "This conflicts with what is already recorded."


class AlreadyExistsError(ConflictError):
    """A thing with this key already exists."""

    code = "already-exists"
    title_ja = "既に登録されています。"
    title_en = "It is already registered."


class TransactionIdConflictError(ConflictError):
    """The same transaction ID arrived with a different content."""

    code = "transaction-id-conflict"
    title_ja = "同じ取引IDで内容の異なる取引が送信されました。"
    title_en = "The same transaction ID was sent with different content."


class MyKeyIdTakenError(ConflictError):
    """The chosen MyKey ID is in use (case-insensitively)."""

    code = "mykey-id-taken"
    title_ja = "このマイキーIDは既に使われています。候補から選ぶか、別のIDを入力してください。"
    title_en = "This MyKey ID is taken. Choose a suggestion or another ID."

    def __init__(self, detail: str = "", candidates: list[str] | None = None) -> None:
        super().__init__(detail)
        self.candidates = candidates or []


class CardAlreadyBoundError(ConflictError):
    """The card already has a MyKey ID."""

    code = "card-already-bound"
    title_ja = "このカードには既にマイキーIDが設定されています。"
    title_en = "This card already has a MyKey ID."


class VoucherAlreadyRedeemedError(ConflictError):
    """A second redemption of one voucher."""

    code = "voucher-already-redeemed"
    title_ja = "このポイント券は既に使用済みです。"
    title_en = "This voucher has already been used."


class AlreadyGrantedError(ConflictError):
    """The card was already granted points at this event."""

    code = "already-granted"
    title_ja = "このイベントでは既にポイントを付与済みです。"
    title_en = "Points were already granted to this card at this event."


class VoucherNumberTakenError(ConflictError):
    """A voucher number was issued before."""

    code = "voucher-number-taken"
    title_ja = "この発券番号は既に使われています。"
    title_en = "This voucher number is already in use."


# --- 422: business rules -------------------------------------------------------------------------


class RejectedError(LedgerError):
    """A well-formed request the ledger rules refuse."""

    code = "rejected"
    status = 422
    title_ja = "この取引は受け付けられません。"
    title_en = "This transaction cannot be accepted."


class InsufficientBalanceError(RejectedError):
    """Not enough points."""

    code = "insufficient-balance"
    title_ja = "ポイント残高が不足しています。"
    title_en = "Not enough points."


class ProgramNotAcceptedError(RejectedError):
    """The point program cannot be used at this business."""

    code = "program-not-accepted"
    title_ja = "このポイントはこの店舗では使えません。"
    title_en = "This point program is not accepted here."


class OfflineLimitError(RejectedError):
    """An offline acceptance beyond the program's offline limits."""

    code = "offline-limit-exceeded"
    title_ja = "オフラインで利用できる上限を超えています。"
    title_en = "The offline limit has been exceeded."


class MyKeyNotActiveError(RejectedError):
    """The MyKey ID is suspended or invalid."""

    code = "mykey-not-active"
    title_ja = "このマイキーIDは停止中または無効です。自治体の窓口にお問い合わせください。"
    title_en = "This MyKey ID is suspended or invalid. Please ask the municipal office."


class CardSignatureError(RejectedError):
    """The card's signature over the transaction is missing or wrong."""

    code = "card-signature-invalid"
    title_ja = "カードの署名を確認できませんでした。"
    title_en = "The card's signature could not be verified."


class CertificateRejectedError(RejectedError):
    """The card certificate failed a check (chain, validity, usage)."""

    code = "certificate-rejected"
    title_ja = "カードの電子証明書を確認できませんでした（有効期限切れ・失効・発行元不明）。"
    title_en = "The card's certificate could not be verified (expired, revoked or unknown issuer)."


class CertificateRevokedError(CertificateRejectedError):
    """The card certificate is on an imported CRL."""

    code = "certificate-revoked"
    title_ja = "カードの電子証明書は失効しています。"
    title_en = "The card's certificate has been revoked."


class VoucherNotUsableError(RejectedError):
    """The voucher is outside its dates, voided, or for another street."""

    code = "voucher-not-usable"
    title_ja = "このポイント券はここでは使えません（期間外・他の商店街・失効）。"
    title_en = "This voucher cannot be used here (outside its dates, another street, or void)."


class ChallengeError(RejectedError):
    """The MyKey set-up challenge is unknown, used or expired."""

    code = "challenge-invalid"
    title_ja = "確認用データの有効期限が切れました。もう一度お試しください。"
    title_en = "The set-up challenge expired or was already used. Please try again."


# --- 401/403 -------------------------------------------------------------------------------------


class AuthenticationError(LedgerError):
    """The request is not signed by an enrolled terminal (or the signature is bad)."""

    code = "unauthenticated"
    status = 401
    title_ja = "端末の認証に失敗しました。端末登録を確認してください。"
    title_en = "Terminal authentication failed. Check the terminal's enrollment."


class ReplayError(AuthenticationError):
    """A request signature nonce was seen before."""

    code = "replayed-request"
    title_ja = "同じ要求が再送されました。"
    title_en = "This request was already received (replay)."


class ClockSkewError(AuthenticationError):
    """The signature's creation time is more than 5 minutes off."""

    code = "clock-skew"
    title_ja = "端末の時計が大きくずれています。時刻を合わせてください。"
    title_en = "The terminal's clock is far off. Please set the time."


class ForbiddenError(LedgerError):
    """An authenticated caller acting beyond its rights."""

    code = "forbidden"
    status = 403
    title_ja = "この操作は許可されていません。"
    title_en = "This operation is not allowed."


class TerminalRevokedError(ForbiddenError):
    """The terminal's enrollment was revoked."""

    code = "terminal-revoked"
    title_ja = "この端末は登録を取り消されています。運用者に連絡してください。"
    title_en = "This terminal's enrollment was revoked. Contact the operator."


class WrongBusinessError(ForbiddenError):
    """The terminal acts for another business or as another terminal."""

    code = "wrong-business"
    title_ja = "この端末は他の事業者の取引を送信できません。"
    title_en = "This terminal cannot act for another business."


class WrongRoleError(ForbiddenError):
    """The terminal's roles do not include this operation."""

    code = "wrong-role"
    title_ja = "この端末にはこの操作の権限がありません。"
    title_en = "This terminal is not allowed to do this."


class EnrollmentCodeError(ForbiddenError):
    """The enrollment code is unknown, used or expired."""

    code = "enrollment-code-invalid"
    title_ja = "登録コードが正しくないか、有効期限が切れています。"
    title_en = "The enrollment code is wrong, used, or expired."


class OperatorKeyError(AuthenticationError):
    """The operator key is missing or wrong."""

    code = "operator-key-invalid"
    title_ja = "運用者キーが正しくありません。"
    title_en = "The operator key is missing or wrong."


# --- 429 ------------------------------------------------------------------------------------------


class RateLimitedError(LedgerError):
    """A terminal sent more requests than its rate limit allows; ``retry_after`` says when
    (whole seconds) the next one will be accepted."""

    code = "rate-limited"
    status = 429
    title_ja = "短時間に要求が多すぎます。しばらく待ってから再送してください。"
    title_en = "Too many requests from this terminal. Wait a moment and send again."

    def __init__(self, detail: str = "", retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)
