"""A scripted connection: each step is the exact command expected and the answer to give."""

from __future__ import annotations

from collections.abc import Iterable

from cardio.errors import CardRemovedError


class ScriptedConnection:
    """Checks every command against the script and answers from it; ``None`` answer = removal."""

    reader = "scripted"

    def __init__(self, script: Iterable[tuple[str, str | None]]) -> None:
        self.script = [
            (bytes.fromhex(cmd), None if ans is None else bytes.fromhex(ans)) for cmd, ans in script
        ]
        self.sent: list[bytes] = []
        self.closed = False

    def transmit(self, apdu: bytes) -> bytes:
        assert self.script, f"unexpected extra command {apdu.hex()}"
        expected, answer = self.script.pop(0)
        self.sent.append(apdu)
        assert apdu == expected, f"sent {apdu.hex()}, expected {expected.hex()}"
        if answer is None:
            raise CardRemovedError("scripted removal")
        return answer

    def close(self) -> None:
        self.closed = True

    def done(self) -> bool:
        return not self.script
