"""`mykey card …`: readers, card info, authentication, the virtual card (`card virtual …`)."""

from __future__ import annotations

import argparse


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``card`` subcommands to ``parser``."""
    commands = parser.add_subparsers(dest="card_command", metavar="COMMAND")
    from cardio.virtual import cli as virtual_cli

    virtual_cli.register(commands.add_parser("virtual", help="the virtual JPKI card (emulator)"))
