"""Scanning errors: a stable machine code plus a Japanese and an English user message.

Same shape as ``terminal.errors.TerminalError`` (they derive from it): ``code`` never changes,
``message_ja`` / ``message_en`` are for people, ``detail`` is for logs only.
"""

from __future__ import annotations

from terminal.errors import TerminalError


class ScanError(TerminalError):
    """Base of every failure of the scanning layer."""

    code = "scan-error"
    message_ja = "QRコードを読み取れませんでした。もう一度お試しください。"
    message_en = "The QR code could not be read. Please try again."


class DecoderError(ScanError):
    """A decoder backend failed on one image (bad input or an error inside the library)."""

    code = "decoder-error"
    message_ja = "QRコードの読み取り処理でエラーが発生しました。もう一度かざしてください。"
    message_en = "The QR reader failed on this image. Please hold the voucher up again."


class ImageUnreadableError(DecoderError):
    """An image file is missing or is not an image OpenCV can read."""

    code = "image-unreadable"
    message_ja = "画像ファイルを開けませんでした。ファイルを確認してください。"
    message_en = "The image file could not be opened. Check the file."


class DecoderUnavailableError(ScanError):
    """The decoder backend asked for cannot be used here (library or native part missing)."""

    code = "decoder-unavailable"
    message_ja = "指定されたQR読み取り方式はこの端末では使えません。"
    message_en = "This QR reader backend is not available on this terminal."

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"{backend}: {reason}")
        self.backend = backend
        self.reason = reason


class ScanSourceError(ScanError):
    """The frame source (a video file or a folder of images) cannot be opened or read."""

    code = "scan-source-unavailable"
    message_ja = "読み取り元（動画または画像フォルダ）を開けませんでした。"
    message_en = "The scan source (video or image folder) could not be opened."


class CameraUnavailableError(ScanSourceError):
    """No camera at that index, the camera is busy, or it stopped delivering frames."""

    code = "camera-unavailable"
    message_ja = (
        "カメラを使えません。接続と、他のアプリがカメラを使っていないかを確認してください。"
        "番号入力でも受け付けできます。"
    )
    message_en = (
        "The camera cannot be used. Check that it is connected and not used by another app. "
        "You can also type the voucher number."
    )
