"""`mykey card virtual …`: the test CA, card profiles, CRLs, and serving a card through vpcd."""

from __future__ import annotations

import argparse


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``card virtual`` subcommands to ``parser``."""
    parser.add_subparsers(dest="virtual_command", metavar="COMMAND")
