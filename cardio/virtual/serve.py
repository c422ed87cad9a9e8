"""`mykey card virtual serve`: put a card profile into a real PC/SC reader through vpcd.

The card stays in the reader until SIGINT/SIGTERM. A caller may also write lines on stdin:
``remove`` takes the card out (the reader looks empty), ``insert`` puts it back (freshly
powered), ``quit`` ends. Each handled line is acknowledged on stdout (``removed``,
``inserted``), so a test or a demo script can wait for it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TextIO

from cardio.virtual.card import ATRS, VirtualJpkiCard
from cardio.virtual.errors import VirtualCardError
from cardio.virtual.latency import PROFILES
from cardio.virtual.profile import CardProfile
from cardio.virtual.vpcd import VirtualCard, VpcdBridge

log = logging.getLogger(__name__)

DEFAULT_VPCD = "127.0.0.1:35963"
CONNECT_WARNING_S = 3.0


def parse_host_port(text: str) -> tuple[str, int]:
    """Parse ``HOST:PORT`` (an argparse type); the port must be 1-65535."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise argparse.ArgumentTypeError(
            f"HOST:PORT の形式で指定してください / expected HOST:PORT, got {text!r}"
        )
    return host, int(port_text)


def register_serve(commands: argparse._SubParsersAction) -> None:
    """Add the ``serve`` subcommand to the ``card virtual`` subparsers."""
    parser = commands.add_parser(
        "serve",
        help="serve a card profile as a card in vpcd's reader",
        description="Put the card of a profile folder into the vpcd reader until interrupted. "
        "Lines on stdin: 'remove', 'insert', 'quit'.",
    )
    parser.add_argument(
        "--profile", type=Path, required=True, metavar="DIR", help="card profile folder"
    )
    parser.add_argument(
        "--vpcd",
        type=parse_host_port,
        default=parse_host_port(DEFAULT_VPCD),
        metavar="HOST:PORT",
        help=f"vpcd's card-side address (default {DEFAULT_VPCD}: 'Virtual PCD 00 00')",
    )
    parser.add_argument(
        "--latency",
        choices=tuple(PROFILES),
        default="instant",
        help="timing model of the card (default instant; contact ≈ a real contact card)",
    )
    parser.add_argument(
        "--atr",
        choices=tuple(ATRS),
        default="contact",
        help="which example ATR the card answers with",
    )
    parser.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Serve the card until a signal or ``quit``; returns the exit code."""
    try:
        return _serve(args.profile, args.vpcd, args.latency, args.atr, sys.stdin, sys.stdout)
    except VirtualCardError as error:
        sys.stdout.write(f"{error.message_ja}\n{error.message_en}\n")
        return 1


def _serve(
    profile_dir: Path,
    address: tuple[str, int],
    latency: str,
    atr_name: str,
    stdin: TextIO,
    stdout: TextIO,
) -> int:
    profile = CardProfile.load(profile_dir)  # VirtualCardError: missing or broken folder
    atr = ATRS[atr_name]

    def new_card() -> VirtualCard:
        return VirtualJpkiCard(profile, atr=atr, latency=latency)

    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    bridge = VpcdBridge(*address)
    bridge.start()
    try:
        bridge.insert(new_card())
        if not _wait_connected(bridge, CONNECT_WARNING_S):
            log.warning(
                "vpcd (%s:%d) が応答しません。pcscd は起動していますか？接続を試み続けます / "
                "vpcd does not answer; is pcscd running? Still trying",
                *address,
            )
        stdout.write(f"serving {profile_dir} at {address[0]}:{address[1]}\n")
        stdout.flush()
        reader = threading.Thread(
            target=_read_commands, args=(stdin, stdout, bridge, new_card, done), daemon=True
        )
        reader.start()
        while not done.wait(0.5):
            pass
    finally:
        bridge.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    stdout.write("stopped\n")
    stdout.flush()
    return 0


def _read_commands(
    stdin: TextIO,
    stdout: TextIO,
    bridge: VpcdBridge,
    new_card: Callable[[], VirtualCard],
    done: threading.Event,
) -> None:
    """Handle ``remove`` / ``insert`` / ``quit`` lines; EOF leaves the card where it is."""
    for line in stdin:
        command = line.strip().lower()
        if command == "remove":
            bridge.remove()
            stdout.write("removed\n")
        elif command == "insert":
            bridge.insert(new_card())
            stdout.write("inserted\n")
        elif command == "quit":
            done.set()
            return
        elif command:
            stdout.write(f"unknown command {command!r} (remove / insert / quit)\n")
        stdout.flush()


def _wait_connected(bridge: VpcdBridge, timeout_s: float) -> bool:
    """True once the bridge holds a connection to vpcd, False after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not bridge.connected:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
