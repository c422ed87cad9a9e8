"""Entry script of the frozen app (PyInstaller, ``build.spec``): the ``mykey`` CLI, made safe
for a windowed Windows executable, which starts with no standard streams at all."""

from __future__ import annotations

import io
import multiprocessing
import os
import sys


def ensure_streams() -> None:
    """Give a windowed exe (``sys.stdout``/``sys.stderr`` are None) somewhere to write, and make
    redirected output UTF-8 on Windows: a pipe or a file otherwise gets the ANSI code page, which
    on a Western PC cannot hold Japanese and raises on the first message."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
        elif os.name == "nt" and isinstance(stream, io.TextIOWrapper) and not stream.isatty():
            stream.reconfigure(encoding="utf-8")


def run() -> int:
    """Run ``mykey`` with the process arguments; returns its exit code."""
    multiprocessing.freeze_support()  # a spawned child of the frozen app re-enters here
    ensure_streams()
    from mykey.cli import main

    return main()


if __name__ == "__main__":
    sys.exit(run())
