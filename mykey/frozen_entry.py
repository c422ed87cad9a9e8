"""Entry script of the frozen app (PyInstaller, ``build.spec``): the ``mykey`` CLI, made safe
for a windowed Windows executable, which starts with no standard streams at all."""

from __future__ import annotations

import multiprocessing
import os
import sys


def ensure_streams() -> None:
    """Give a windowed exe (``sys.stdout``/``sys.stderr`` are None) somewhere to write."""
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (process lifetime)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (process lifetime)


def run() -> int:
    """Run ``mykey`` with the process arguments; returns its exit code."""
    multiprocessing.freeze_support()  # a spawned child of the frozen app re-enters here
    ensure_streams()
    from mykey.cli import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
