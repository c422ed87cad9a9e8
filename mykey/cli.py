"""The `mykey` console script: one entry point, one subcommand group per package.

Each group lives with the package that owns it and exposes ``register(parser)``; a group is
imported only when it is used, so ``mykey card …`` never loads the server's dependencies.
Handlers return the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from mykey import __version__
from mykey.child_process import UNTIL_STDIN_CLOSES, exit_when_stdin_closes

#: group name -> (module that registers it, one-line help)
GROUPS: dict[str, tuple[str, str]] = {
    "card": ("cardio.cli", "read and authenticate a My Number Card; the virtual card"),
    "ledger": ("server_stub.cli", "the ledger server: serve, migrate, audit, admin, reports"),
    "terminal": ("mykey.terminal_cli", "the counter without a window: enroll, sync, use, grant"),
    "voucher": ("mykey.voucher_cli", "decode and verify voucher QR codes in image files"),
    "demo": ("mykey.demo", "the demo: virtual card in a real reader, local ledger on SQLite"),
}


def build_parser(selected: str | None) -> argparse.ArgumentParser:
    """Build the parser; only the ``selected`` group's subcommands are imported and added."""
    parser = argparse.ArgumentParser(prog="mykey", description="MyKey point terminal")
    parser.add_argument("--version", action="version", version=f"mykey {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument(
        "--selftest", action="store_true", help="check this installation; prints one JSON object"
    )
    parser.add_argument(UNTIL_STDIN_CLOSES, action="store_true", help=argparse.SUPPRESS)
    groups = parser.add_subparsers(dest="group", metavar="{" + ",".join(GROUPS) + "}")
    for name, (module_name, help_text) in GROUPS.items():
        group_parser = groups.add_parser(name, help=help_text, description=help_text)
        if name == selected:
            importlib.import_module(module_name).register(group_parser)
    return parser


def _selected_group(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in GROUPS else None
    return None


def configure_logging(verbosity: int) -> None:
    """Log to stderr; the PIN redaction filter sits on the root handler whatever the level."""
    from cardio.secrets import PinRedactingFilter

    level = logging.WARNING - 10 * min(verbosity, 2)
    handler = logging.StreamHandler()
    handler.addFilter(PinRedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mykey``; returns the exit code (0 only on success)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_selected_group(args_list))
    args = parser.parse_args(args_list)
    configure_logging(args.verbose)
    if args.until_stdin_closes:
        exit_when_stdin_closes()
    if not args_list:  # `mykey` alone opens the window
        from mykey import gui

        return gui.main()
    if args.selftest:
        from mykey import selftest

        return selftest.main()
    handler = getattr(args, "func", None)
    if handler is None:
        parser.parse_args([*args_list, "--help"])
        return 2
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
