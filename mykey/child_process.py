"""Starting ``mykey`` as a child of ``mykey`` (the demo's ledger server), frozen or not."""

from __future__ import annotations

import os
import sys
import threading

#: Hidden option of ``mykey``: end the process when its standard input closes.
UNTIL_STDIN_CLOSES = "--until-stdin-closes"


def mykey_command() -> list[str]:
    """The command that starts ``mykey``: the frozen executable itself (it has no ``-m`` or
    ``-c``), else this interpreter with ``-m mykey``."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "mykey"]


def exit_when_stdin_closes() -> None:
    """End this process when its standard input reaches its end. The parent holds the other end
    of the pipe and never writes, so the pipe closes when the parent exits, however it ends and
    on every OS (a parent process ID cannot tell that on Windows)."""
    stdin = sys.stdin
    if stdin is None:  # a windowed Windows executable started without standard handles
        return

    def wait_for_end() -> None:
        stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=wait_for_end, name="parent-watch", daemon=True).start()
