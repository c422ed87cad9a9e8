"""`mykey ledger …`: serve, migrate, audit; `admin` and `report` come from server_stub.admin."""

from __future__ import annotations

import argparse
import logging
import sys

from sqlalchemy.exc import SQLAlchemyError

from server_stub.settings import Settings

log = logging.getLogger(__name__)


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="database URL (sqlite:///path or postgresql+psycopg://…); "
        "default $MYKEY_LEDGER_DATABASE_URL or sqlite:///<data dir>/ledger.db",
    )


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if args.db:
        overrides["database_url"] = args.db
    if getattr(args, "trust", None):
        overrides["trust_dir"] = args.trust
    return Settings(**overrides)  # type: ignore[arg-type]


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server_stub.api.app import create_app
    from server_stub.db.migrate import migrate

    settings = _settings(args)
    migrate(settings.database_url)
    app = create_app(settings)
    sys.stdout.write(f"ledger listening on http://{args.host}:{args.port}\n")
    sys.stdout.flush()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from server_stub.db.migrate import migrate

    settings = _settings(args)
    migrate(settings.database_url)
    sys.stdout.write("データベースを更新しました / database is up to date\n")
    return 0


def _audit(args: argparse.Namespace) -> int:
    from server_stub.audit import audit
    from server_stub.db.engine import make_engine

    engine = make_engine(_settings(args).database_url)
    try:
        with engine.begin() as conn:
            violations = audit(conn)
    except SQLAlchemyError as error:
        log.debug("audit could not read the database", exc_info=True)
        sys.stdout.write(
            "台帳データベースを読めません。"
            "URLを確認し、`mykey ledger migrate` を実行してください。\n"
            "Cannot read the ledger database: check the URL and run `mykey ledger migrate`.\n"
            f"({type(error).__name__})\n"
        )
        return 2
    finally:
        engine.dispose()
    if not violations:
        sys.stdout.write("監査OK: 不整合はありません / audit passed: no violations\n")
        return 0
    sys.stdout.write(f"監査NG: 不整合 {len(violations)} 件 / audit FAILED: {len(violations)}\n")
    for violation in violations:
        sys.stdout.write(f"  {violation}\n")
    return 1


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``ledger`` subcommands to ``parser``."""
    commands = parser.add_subparsers(dest="ledger_command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the ledger server (台帳サーバー起動)",
        description="Run the ledger server (migrates the database first). Other settings come "
        "from the environment: MYKEY_LEDGER_OPERATOR_KEY (enables the /v1/admin API), "
        "MYKEY_LEDGER_SIGNING_KEY_PATH, MYKEY_LEDGER_MAX_REQUEST_BYTES, "
        "MYKEY_LEDGER_MAX_SKEW_SECONDS.",
    )
    _add_db(serve)
    serve.add_argument(
        "--trust",
        metavar="DIR",
        help="folder of the JPKI user-authentication CA certificates (PEM/DER) that card "
        "transactions are checked against; default $MYKEY_LEDGER_TRUST_DIR (without one, "
        "card transactions are refused)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8765, help="TCP port (default 8765)")
    serve.set_defaults(func=_serve)
    migrate = commands.add_parser(
        "migrate", help="create or upgrade the database (DB更新)", description="run migrations"
    )
    _add_db(migrate)
    migrate.set_defaults(func=_migrate)
    audit = commands.add_parser(
        "audit", help="check every ledger invariant (監査)", description="audit the ledger"
    )
    _add_db(audit)
    audit.set_defaults(func=_audit)
    from server_stub.admin.cli import register as register_admin

    register_admin(commands)
