"""Base45 (RFC 9285): bytes as text in the QR code alphanumeric alphabet.

Two bytes become three characters (one trailing byte becomes two), so a QR code can hold the
text in its compact alphanumeric mode. :func:`decode` raises only :class:`Base45Error`.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {char: index for index, char in enumerate(ALPHABET)}


class Base45Error(ValueError):
    """The text is not valid Base45."""


def encode(data: bytes) -> str:
    """The Base45 text of ``data``."""
    out: list[str] = []
    for start in range(0, len(data) - 1, 2):
        number = data[start] * 256 + data[start + 1]
        high, rest = divmod(number, 45 * 45)
        middle, low = divmod(rest, 45)
        out += (ALPHABET[low], ALPHABET[middle], ALPHABET[high])
    if len(data) % 2:
        middle, low = divmod(data[-1], 45)
        out += (ALPHABET[low], ALPHABET[middle])
    return "".join(out)


def decode(text: str) -> bytes:
    """The bytes of Base45 ``text``; :class:`Base45Error` on a bad character, length or value."""
    if len(text) % 3 == 1:
        raise Base45Error(f"a Base45 text cannot be {len(text)} characters long")
    try:
        values = [_VALUE[char] for char in text]
    except KeyError as exc:
        raise Base45Error(f"{exc.args[0]!r} is not a Base45 character") from None
    out = bytearray()
    for start in range(0, len(values), 3):
        group = values[start : start + 3]
        number = sum(value * 45**power for power, value in enumerate(group))
        if len(group) == 3:
            if number > 0xFFFF:
                raise Base45Error(f"group {start // 3} is out of range")
            out += number.to_bytes(2, "big")
        else:
            if number > 0xFF:
                raise Base45Error("the last group is out of range")
            out.append(number)
    return bytes(out)
