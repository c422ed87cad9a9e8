"""Crash points for the real-process crash tests: ``MYKEY_TEST_CRASH_AT=<name>`` makes the
process kill itself with SIGKILL (no cleanup, no flush) when it reaches ``crash_point(name)``.

Unset (always, outside those tests) it costs one dictionary look-up.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "MYKEY_TEST_CRASH_AT"


def crash_point(name: str) -> None:
    """Die here, like a power cut, when the crash test asked for ``name``."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
