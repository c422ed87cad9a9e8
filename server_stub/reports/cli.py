"""`mykey ledger report …`: issuance, settlement and a resident's history, as CSV or JSON."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection

from server_stub.admin.common import add_db_argument, connection, number, run_safely
from server_stub.admin.errors import AdminError
from server_stub.reports import queries
from server_stub.reports.output import Report
from server_stub.reports.period import Month, months


def register(report: argparse.ArgumentParser) -> None:
    """Add the report subcommands to the ``report`` parser."""
    commands = report.add_subparsers(dest="report_command", metavar="REPORT")

    issuance = commands.add_parser(
        "issuance",
        help="monthly issuance by department and grant program (付与実績)",
        description="月別・担当課別・付与事業別の付与ポイント (通常分/プレミアム分) "
        "/ points granted per month, department and grant program (ordinary/premium).",
    )
    _add_common(issuance)
    issuance.set_defaults(func=_issuance)

    settlement = commands.add_parser(
        "settlement",
        help="settlement per business per month (精算)",
        description="事業者別・月別の利用とポイント券消込 (件数・ポイント) "
        "/ point uses and voucher redemptions per business and month.",
    )
    _add_common(settlement)
    settlement.add_argument("--business", help="only this business ID (事業者ID)")
    settlement.set_defaults(func=_settlement)

    terminals = commands.add_parser(
        "terminals",
        help="every terminal: last sync, offline acceptances, conflicts (端末一覧)",
        description="端末ごとの状態・最終同期・オフライン承認・競合 / every terminal's state.",
    )
    add_db_argument(terminals)
    _add_output(terminals)
    terminals.set_defaults(func=_terminals)

    history = commands.add_parser(
        "history",
        help="a resident's history as the my page shows it (利用履歴)",
        description="マイページと同じ利用履歴: 日付, 区分 (付与/利用/失効/合算), ポイント, "
        "付与事業・利用場所, ポイント数, 残高 / a resident's history.",
    )
    add_db_argument(history)
    _add_output(history)
    history.add_argument("mykey_id", help="MyKey ID (マイキーID)")
    history.add_argument("--program", type=number, help="only this point program ID")
    history.set_defaults(func=_history)


def month_argument(text: str) -> Month:
    """argparse type for ``YYYY-MM`` with the bilingual message on error."""
    try:
        return Month.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_common(parser: argparse.ArgumentParser) -> None:
    add_db_argument(parser)
    _add_output(parser)
    parser.add_argument(
        "--month", required=True, type=month_argument, help="month YYYY-MM (JST) / 対象月"
    )
    parser.add_argument(
        "--to-month", type=month_argument, help="last month YYYY-MM for a range / 終了月 (任意)"
    )


def _add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("csv", "json"),
        default="csv",
        help="csv (UTF-8 with BOM, for Excel) or json; default csv",
    )
    parser.add_argument("-o", "--output", type=Path, help="write to this file (default stdout)")


def _check_period(args: argparse.Namespace) -> None:
    try:
        months(args.month, args.to_month or args.month)
    except ValueError as error:
        raise AdminError(str(error)) from None


def _command(
    build: Callable[[Connection, argparse.Namespace], Report], *, period: bool = False
) -> Callable[[argparse.Namespace], int]:
    """A report command: check the period (month reports), build the report on a read
    connection and write it in the chosen format to the file or stdout."""

    def run(args: argparse.Namespace) -> int:
        def body() -> int:
            if period:
                _check_period(args)
            with connection(args.db) as conn:
                data = build(conn, args).render(args.format).encode("utf-8")
            if args.output is not None:
                args.output.write_bytes(data)
            else:
                sys.stdout.buffer.write(data)
                sys.stdout.flush()
            return 0

        return run_safely(body)

    return run


_issuance = _command(
    lambda conn, args: queries.issuance(conn, args.month, args.to_month), period=True
)
_settlement = _command(
    lambda conn, args: queries.settlement(conn, args.month, args.to_month, args.business),
    period=True,
)
_history = _command(lambda conn, args: queries.history(conn, args.mykey_id, args.program))
_terminals = _command(lambda conn, _args: queries.terminals_report(conn))
