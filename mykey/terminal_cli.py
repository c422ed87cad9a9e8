"""`mykey terminal …`: the counter without a window, for scripting, support and tests.

This is a composition root: it joins the terminal core (``terminal``) with the HTTP client and
the sync engine (``sync``) and the PC/SC reader (``cardio``). Every command prints one JSON
object on stdout (messages in Japanese and English inside) and returns 0 only on success.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cardio.errors import CardError
from cardio.secrets import Pin
from mykey.app_context import (  # noqa: F401 - re-exported for scripts and benches
    COUNTER_TIMEOUT_S,
    SYNC_RETRY,
    SYNC_TIMEOUT_S,
    Terminal,
    open_terminal,
    pcsc_session,
)
from sync.client import enroll
from sync.protocol import LedgerRefusedError, LedgerUnreachableError, Role
from terminal.config import TerminalPaths, enroll_terminal
from terminal.errors import TerminalError
from terminal.services.counter import prove_pin, read_card, resolve_holder
from terminal.services.grant import grant_points
from terminal.services.history import history, month_range, totals
from terminal.services.library import library_lookup
from terminal.services.point_use import JST, use_points
from terminal.services.submit import Outcome, OutcomeStatus

log = logging.getLogger(__name__)


def _emit(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def _fail(code: str, message_ja: str, message_en: str, reason: str | None = None) -> int:
    _emit(
        {
            "ok": False,
            "code": code,
            "reason": reason or code,
            "message_ja": message_ja,
            "message_en": message_en,
        }
    )
    return 1


def _read_pin(args: argparse.Namespace) -> Pin:
    text = sys.stdin.readline().strip() if args.pin_stdin else getpass.getpass("PIN: ")
    return Pin(text)


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    row = outcome.row
    return {
        "ok": outcome.done,
        "status": outcome.status.value,
        "transaction_id": str(row.id),
        "kind": row.kind.value,
        "points": row.points,
        "balance": outcome.balance,
        "reason": outcome.reason,
        "message_ja": outcome.message_ja,
        "message_en": outcome.message_en,
    }


def _outcome_exit(outcome: Outcome) -> int:
    return 0 if outcome.done else 3 if outcome.status is OutcomeStatus.UNDECIDED else 1


# --- commands ------------------------------------------------------------------------------


def cmd_enroll(args: argparse.Namespace) -> int:
    """Enroll this terminal with a one-time code from the operator."""
    paths = TerminalPaths.at(args.data)

    def call(url: str, code: str, key: Any, voucher_key: Any, name: str) -> Any:
        return enroll(url, code, key, voucher_key=voucher_key, name=name)

    identity = enroll_terminal(
        paths, args.server.rstrip("/"), args.code, name=args.name, enroll=call
    )
    _emit(
        {
            "ok": True,
            "terminal_id": identity.terminal_id,
            "business_id": identity.business_id,
            "roles": sorted(r.value for r in identity.roles),
            "data": str(paths.root),
        }
    )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Identity, unsynced rows, last sync and last error, problems to look at."""
    with open_terminal(args.data) as terminal:
        state = terminal.store.sync_state()
        _emit(
            {
                "ok": True,
                "terminal_id": terminal.identity.terminal_id,
                "business_id": terminal.identity.business_id,
                "roles": sorted(r.value for r in terminal.identity.roles),
                "server": terminal.identity.server_url,
                "unsynced": terminal.store.unsynced_count(),
                "last_success_at": state.last_success_at,
                "last_pull_server_time": state.last_pull_server_time,
                "last_error": state.last_error,
                "problems": [_problem_json(row) for row in terminal.store.problems()],
            }
        )
    return 0


def _problem_json(row: Any) -> dict[str, Any]:
    result = row.result
    data: dict[str, Any] = {
        "transaction_id": str(row.id),
        "kind": row.kind.value,
        "state": row.state.value,
        "reason": None if result is None else result.reason,
        "message_ja": None if result is None else result.message_ja,
    }
    if result is not None and result.conflict is not None:
        data["conflict"] = result.conflict.model_dump(mode="json")
    return data


def cmd_sync(args: argparse.Namespace) -> int:
    """Push every unsynced row, then pull the caches; one round."""
    with open_terminal(args.data) as terminal:
        report = terminal.engine().sync_now()
        data = {"ok": report.error is None, **vars(report)}
        data["unsynced"] = terminal.store.unsynced_count()
        _emit(data)
        return 0 if report.error is None else 1


def cmd_use(args: argparse.Namespace) -> int:
    """Point use: card, PIN, resolve, spend ``--points`` of ``--program`` (default: the first)."""
    with open_terminal(args.data) as terminal, pcsc_session(args.reader) as session:
        counter = terminal.counter()
        card = read_card(counter, session)
        # a prompt, not a PIN: the tries are read first and a locked card is never sent one
        authenticated = prove_pin(session, card, lambda _tries: _read_pin(args))
        holder = resolve_holder(counter, card, authenticated)
        program_id = args.program
        if program_id is None:
            if not holder.balances:
                return _fail(
                    "no-usable-points",
                    "このお店で使えるポイントがありません。",
                    "No points usable at this shop.",
                )
            program_id = holder.balances[0].program_id
        outcome = use_points(counter, session, holder, program_id, args.points)
        _emit({**_outcome_json(outcome), "mykey_id": holder.mykey_id, "online": holder.online})
        return _outcome_exit(outcome)


def cmd_grant(args: argparse.Namespace) -> int:
    """Grant a grant program's points to the card in the reader (no PIN)."""
    with open_terminal(args.data) as terminal, pcsc_session(args.reader) as session:
        outcome = grant_points(
            terminal.counter(), session, args.program, points=args.points, event=args.event
        )
        _emit(_outcome_json(outcome))
        return _outcome_exit(outcome)


def cmd_lookup(args: argparse.Namespace) -> int:
    """Who the card in the reader is here: MyKey ID, member number, usable balances."""
    with open_terminal(args.data) as terminal, pcsc_session(args.reader) as session:
        counter = terminal.counter()
        if terminal.identity.has_role(Role.LIBRARY):
            pin = _read_pin(args) if args.pin or args.pin_stdin else None
            holder = library_lookup(counter, session, pin)
        else:
            card = read_card(counter, session)
            authenticated = (
                prove_pin(session, card, lambda _tries: _read_pin(args)) if args.pin else None
            )
            holder = resolve_holder(counter, card, authenticated)
        _emit(
            {
                "ok": True,
                "mykey_id": holder.mykey_id,
                "status": holder.status,
                "customer_id": holder.customer_id,
                "online": holder.online,
                "balances": [b.model_dump(mode="json") for b in holder.balances],
            }
        )
        return 0


def cmd_history(args: argparse.Namespace) -> int:
    """This terminal's rows of one JST month (default: this month) and their totals."""
    with open_terminal(args.data) as terminal:
        counter = terminal.counter()
        month = args.month or datetime.now(JST).strftime("%Y-%m")
        year, number = (int(part) for part in month.split("-"))
        start, end = month_range(year, number)
        rows = history(counter, start, end)
        _emit(
            {
                "ok": True,
                "month": month,
                "totals": vars(totals(rows)),
                "rows": [
                    {
                        "transaction_id": str(r.id),
                        "time": r.created_at.astimezone(JST).isoformat(),
                        "kind": r.kind.value,
                        "points": r.points,
                        "state": r.state.value,
                        "offline": r.transaction.offline,
                        "mykey_id": r.mykey_id,
                    }
                    for r in rows
                ],
            }
        )
        return 0


def _month(text: str) -> str:
    try:
        date.fromisoformat(text + "-01")
    except ValueError as error:
        raise argparse.ArgumentTypeError("month must be YYYY-MM") from error
    return text


def run(handler: Any) -> Any:
    """Wrap a command: typed errors become one JSON failure line and exit code 1 (no trace)."""

    def wrapped(args: argparse.Namespace) -> int:
        try:
            result: int = handler(args)
            return result
        except (TerminalError, CardError) as error:
            log.info("%s", error)
            return _fail(error.code, *error.user_lines(), reason=getattr(error, "reason", None))
        except LedgerRefusedError as error:
            return _fail(error.code, error.title_ja, error.title_en)
        except LedgerUnreachableError as error:
            log.info("%s", error)
            return _fail(
                "server-unreachable",
                "サーバーに接続できません。",
                "The server cannot be reached.",
            )

    return wrapped


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``terminal`` subcommands."""
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--data", type=Path, help="terminal data folder (default: user data dir)")
        sub.set_defaults(func=run(handler))
        return sub

    sub = add("enroll", cmd_enroll, "enroll this terminal with the ledger server")
    sub.add_argument("--server", required=True, help="ledger server URL")
    sub.add_argument("--code", required=True, help="one-time enrollment code")
    sub.add_argument("--name", default="", help="a name for this terminal")
    add("status", cmd_status, "identity, unsynced rows, last sync, problems")
    add("sync", cmd_sync, "push unsynced rows and pull the caches now")
    for name, handler, help_text in (
        ("use", cmd_use, "point use with the card in the reader"),
        ("grant", cmd_grant, "grant points to the card in the reader"),
        ("lookup", cmd_lookup, "look up the card in the reader"),
    ):
        sub = add(name, handler, help_text)
        sub.add_argument("--reader", help="PC/SC reader name (default: the first with a card)")
        sub.add_argument("--pin-stdin", action="store_true", help="read the PIN from stdin")
        if name == "use":
            sub.add_argument("--points", type=int, required=True)
            sub.add_argument("--program", type=int, help="point program ID")
        elif name == "grant":
            sub.add_argument("--program", type=int, required=True, help="grant program ID")
            sub.add_argument("--points", type=int, help="points (default: the program's)")
            sub.add_argument("--event", help="attendance mode: one tap per card per event")
        else:
            sub.add_argument("--pin", action="store_true", help="verify the PIN too")
    sub = add("history", cmd_history, "this terminal's transactions of a month, with totals")
    sub.add_argument("--month", type=_month, help="YYYY-MM (JST; default: this month)")
