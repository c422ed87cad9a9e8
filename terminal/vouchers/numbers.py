"""Voucher numbers (発券番号): 13 digits, unique across the system.

``prefix`` (6 digits, handed to each terminal at enrollment) + ``sequence`` (6 digits, counted
by the terminal) + an EAN-13 check digit. The sequence lives in the terminal's database and is
advanced in one SQLite transaction, so a number is never handed out twice, even if the issue
that reserved it was then refused.
"""

from __future__ import annotations

from sync.protocol import is_valid_voucher_number, voucher_check_digit
from terminal.store import TerminalStore
from terminal.vouchers.errors import VoucherNumberError, VoucherNumbersExhaustedError

MAX_SEQUENCE = 999_999
_SEQUENCE_KEY = "voucher_sequence"


def voucher_number(prefix: int, sequence: int) -> str:
    """The 13-digit number of ``sequence`` under ``prefix`` (check digit appended)."""
    if not 100_000 <= prefix <= 999_999 or not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"prefix {prefix} / sequence {sequence} out of range")
    first12 = f"{prefix:06d}{sequence:06d}"
    return first12 + voucher_check_digit(first12)


def normalise_number(text: str) -> str:
    """A typed number without spaces or hyphens; :class:`VoucherNumberError` unless it is 13
    digits with the right check digit."""
    digits = "".join(text.split()).replace("-", "")
    if not (digits.isascii() and is_valid_voucher_number(digits)):
        raise VoucherNumberError(f"typed {len(digits)} characters")
    return digits


def reserve_numbers(store: TerminalStore, prefix: int | None, count: int) -> list[str]:
    """``count`` new numbers of this terminal, in order; the sequence is advanced durably first.

    :class:`VoucherNumbersExhaustedError` without a prefix or when the sequence would pass
    999,999.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    if prefix is None:
        raise VoucherNumbersExhaustedError("the terminal identity has no voucher prefix")
    last = store.advance_counter(_SEQUENCE_KEY, count, MAX_SEQUENCE)
    if last is None:
        raise VoucherNumbersExhaustedError(f"{count} more would pass sequence {MAX_SEQUENCE}")
    return [voucher_number(prefix, last + i) for i in range(1, count + 1)]
