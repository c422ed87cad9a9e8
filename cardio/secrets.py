"""PIN handling that cannot leak: a ``Pin`` that never shows its digits, and a log filter.

A PIN may travel only as a ``Pin``. Its ``repr``/``str`` are masked, it refuses to be pickled,
and while it is alive its digits are redacted from every log record that passes
``PinRedactingFilter`` (installed on the CLI's and the application's log handlers).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, NoReturn

MASK = "****"
_live_lock = threading.Lock()
_live_pins: dict[int, str] = {}


class PinFormatError(ValueError):
    """The entered PIN is not exactly four ASCII digits (the digits are never in the message)."""

    def __init__(self) -> None:
        super().__init__("a PIN must be exactly 4 ASCII digits / 暗証番号は数字4桁です")


class Pin:
    """A 4-digit JPKI user-authentication PIN that never appears in text."""

    __slots__ = ("__weakref__", "_digits")

    def __init__(self, digits: str) -> None:
        well_formed = isinstance(digits, str) and len(digits) == 4
        if not (well_formed and digits.isascii() and digits.isdigit()):
            raise PinFormatError()
        self._digits: str | None = digits
        with _live_lock:
            _live_pins[id(self)] = digits

    def apdu_data(self) -> bytes:
        """The ASCII bytes VERIFY sends; only the card layer calls this."""
        if self._digits is None:
            raise ValueError("this PIN has been wiped")
        return self._digits.encode("ascii")

    def wipe(self) -> None:
        """Forget the digits (best effort: Python strings are immutable)."""
        self._digits = None
        with _live_lock:
            _live_pins.pop(id(self), None)

    def __del__(self) -> None:
        with _live_lock:
            _live_pins.pop(id(self), None)

    def __repr__(self) -> str:
        return f"Pin({MASK})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a PIN cannot be pickled")

    def __eq__(self, other: object) -> bool:
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def redact(text: str) -> str:
    """Replace the digits of every live PIN in ``text`` with the mask."""
    with _live_lock:
        secrets = set(_live_pins.values())
    for digits in secrets:
        text = text.replace(digits, MASK)
    return text


class PinRedactingFilter(logging.Filter):
    """Rewrites a record's message so no live PIN's digits can reach a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


def pin_from_any(value: Any) -> Pin:
    """Accept a ``Pin`` or a string and return a ``Pin`` (raises ``PinFormatError``)."""
    return value if isinstance(value, Pin) else Pin(value)
