"""The plain words the screen shows for a failed sync round."""

from __future__ import annotations

import pytest

from server_stub.errors import InsufficientBalanceError
from sync.engine import UntrustedSnapshotError, describe_error
from sync.protocol import LedgerRefusedError, LedgerUnreachableError


def skew() -> LedgerRefusedError:
    return LedgerRefusedError(401, "clock-skew", "時計", "clock")


@pytest.mark.parametrize(
    ("offset", "ja", "en"),
    [
        (-7210.0, "約2時間", "about 2 hours"),
        (3600.0 * 5, "約5時間", "about 5 hours"),
        (-600.0, "約10分", "about 10 minutes"),
        (45.0, "約45秒", "about 45 seconds"),
    ],
)
def test_clock_skew_says_how_far_off(offset: float, ja: str, en: str) -> None:
    assert describe_error(skew(), offset) == (
        f"端末の時計がずれています（{ja}） / The terminal clock is off by {en}"
    )


def test_clock_skew_without_a_measured_offset() -> None:
    assert describe_error(skew()) == "端末の時計がずれています / The terminal clock is off"


def test_each_failure_has_japanese_then_english_words() -> None:
    assert describe_error(LedgerUnreachableError("x")) == (
        "サーバーに接続できません / Server unreachable"
    )
    revoked = LedgerRefusedError(403, "terminal-revoked", "取消", "revoked")
    assert describe_error(revoked) == (
        "この端末は無効にされています / This terminal has been revoked"
    )
    words = describe_error(
        LedgerRefusedError(
            422,
            InsufficientBalanceError.code,
            InsufficientBalanceError.title_ja,
            InsufficientBalanceError.title_en,
        )
    )
    assert words == (
        "サーバーが拒否しました: ポイント残高が不足しています"
        " / The server refused: Not enough points"
    )
    assert "signature" in describe_error(UntrustedSnapshotError("bad"))
    assert "認証" in describe_error(LedgerRefusedError(401, "unauthenticated", "a", "b"))
