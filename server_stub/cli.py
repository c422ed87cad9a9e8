"""`mykey ledger …`: serve, migrate, audit; `admin` and `report` come from server_stub.admin."""

from __future__ import annotations

import argparse


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``ledger`` subcommands to ``parser``."""
    parser.add_subparsers(dest="ledger_command", metavar="COMMAND")
