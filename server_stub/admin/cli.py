"""`mykey ledger admin …` and `mykey ledger report …`: the operator's command line.

Every admin command takes ``--db URL`` and runs in one database transaction: it either does
all of its work or none. The ledger rules live in ``server_stub.operator``; this module only
parses arguments, calls those functions and prints what happened.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from cryptography import x509
from sqlalchemy import Connection, select

from cardio.auth import CardError, TrustStore
from server_stub import operator
from server_stub.admin import imports
from server_stub.admin.common import (
    add_db_argument,
    connection,
    number,
    out,
    run_safely,
    transaction,
)
from server_stub.admin.errors import AdminError
from server_stub.clock import JST, as_utc, jst_date, utc_now
from server_stub.db.schema import (
    businesses,
    grant_programs,
    municipalities,
    point_programs,
    terminals,
)
from server_stub.reports.period import parse_date
from server_stub.settings import Settings

Handler = Callable[[Connection, argparse.Namespace], None]

GRANTS_HELP = """\
CSV (UTF-8, BOM 可) の1行目は見出し / the first line is the header:
  mykey_id (マイキーID)            required
  points (ポイント)                 optional: the grant program's default points
  grant_program_id (付与事業ID)     optional when --grant-program is given
  reference (受付番号)              optional: a row whose reference was already granted
                                   under the same grant program is refused (no double grants);
                                   without it the file's hash + line number is used
誤りのある行は行番号付きで表示され、何も取り込まれません。
Bad rows are listed with their line numbers and nothing is imported."""

SERVICE_IDS_HELP = """\
CSV (UTF-8, BOM 可) の見出し / header columns:
  mykey_id (マイキーID)            required
  customer_id (顧客ID / 会員番号)    required, up to 32 characters
  business_id (事業者ID)           optional when --business is given
誤りのある行は行番号付きで表示され、何も取り込まれません。
Bad rows are listed with their line numbers and nothing is imported."""

RENEWALS_HELP = """\
CSV (UTF-8, BOM 可) の見出し / header columns (all required):
  old_issuer (旧発行者)  old_serial (旧シリアル番号)
  new_issuer (新発行者)  new_serial (新シリアル番号)
  new_fingerprint_sha256 (新フィンガープリント: SHA-256 of the new certificate, hex)
Issuers are RFC 4514 DNs (quote them: they contain commas); serials decimal or 0x-hex.
誤りのある行は行番号付きで表示され、何も取り込まれません。"""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``admin`` and ``report`` command groups to the ``ledger`` subcommands."""
    admin = commands.add_parser(
        "admin", help="operator actions (運用者操作)", description="運用者操作 / operator actions"
    )
    _register_admin(admin.add_subparsers(dest="admin_command", metavar="COMMAND"))
    report = commands.add_parser(
        "report", help="reports for settlement (帳票)", description="帳票 / reports"
    )
    from server_stub.reports.cli import register as register_reports

    register_reports(report)


def _command(
    group: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_text: str,
    handler: Handler,
    *,
    write: bool = True,
    epilog: str | None = None,
) -> argparse.ArgumentParser:
    parser = group.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db_argument(parser)

    def run(args: argparse.Namespace) -> int:
        def body() -> int:
            opener = transaction if write else connection
            with opener(args.db) as conn:
                handler(conn, args)
            return 0

        return run_safely(body)

    parser.set_defaults(func=run)
    return parser


def _group(
    parent: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    parser = parent.add_parser(name, help=help_text, description=help_text)
    return parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True)


def _register_admin(admin: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    muni = _group(admin, "municipality", "municipalities (自治体)")
    p = _command(muni, "add", "register a municipality (自治体を登録)", _municipality_add)
    p.add_argument("code", help="6-digit code with check digit, e.g. 141305 (川崎市)")
    p.add_argument("name", help="name, e.g. 川崎市")
    _command(muni, "list", "list municipalities", _municipality_list, write=False)

    prog = _group(admin, "program", "point programs (ポイント)")
    p = _command(prog, "add", "create a point program (ポイントを作成)", _program_add)
    p.add_argument("--municipality", required=True, help="municipality code")
    p.add_argument("--name", required=True, help="e.g. 川崎市ポイント")
    p.add_argument(
        "--kind",
        choices=("municipal", "special_event"),
        default="municipal",
        help="municipal (all businesses of the municipality) or special_event (特定支援イベント)",
    )
    p.add_argument(
        "--accept-at",
        action="append",
        default=[],
        metavar="BUSINESS_ID",
        help="a business or street accepting a special event's points (repeatable)",
    )
    p.add_argument(
        "--lot-days", type=number, default=100, help="lot validity in days (default 100)"
    )
    p.add_argument("--voucher-days", type=number, default=3, help="voucher validity days (3)")
    p.add_argument("--voucher-max", type=number, default=10_000, help="max points per voucher")
    defaults = operator.OfflineDefaults()
    p.add_argument("--offline-per-transaction", type=number, default=defaults.max_per_transaction)
    p.add_argument("--offline-per-card-day", type=number, default=defaults.max_per_card_per_day)
    p.add_argument(
        "--offline-per-terminal", type=number, default=defaults.max_per_terminal_since_sync
    )
    p.add_argument("--offline-hours", type=number, default=defaults.max_hours_without_sync)
    p.add_argument(
        "--offline-revocation-hours", type=number, default=defaults.max_revocation_age_hours
    )
    p = _command(prog, "accept", "name a business accepting a special event", _program_accept)
    p.add_argument("program_id", type=number)
    p.add_argument("business_id")
    _command(prog, "list", "list point programs", _program_list, write=False)

    grant = _group(admin, "grant-program", "grant programs (付与事業)")
    p = _command(grant, "add", "create a grant program (付与事業を作成)", _grant_program_add)
    p.add_argument("--program", type=number, required=True, help="point program ID")
    p.add_argument("--name", required=True, help="e.g. 健康診断受診")
    p.add_argument("--department", required=True, help="担当課, e.g. 健康福祉局")
    p.add_argument("--points", type=number, required=True, help="default points per grant")
    p.add_argument(
        "--category",
        choices=("ordinary", "premium"),
        default="ordinary",
        help="ordinary (通常分) or premium (プレミアム分)",
    )
    _command(grant, "list", "list grant programs", _grant_program_list, write=False)

    biz = _group(admin, "business", "businesses (事業者)")
    p = _command(biz, "add", "register a business (事業者を登録)", _business_add)
    p.add_argument("business_id", help="e.g. A0001")
    p.add_argument("--municipality", required=True, help="municipality code")
    p.add_argument("--name", required=True)
    p.add_argument("--kind", required=True, choices=operator.BUSINESS_KINDS)
    p.add_argument("--street", help="the shopping street (a business of kind street)")
    _command(biz, "list", "list businesses", _business_list, write=False)

    p = _command(
        admin,
        "enrollment-code",
        "make a one-time terminal enrollment code, valid 24 h (端末登録コード)",
        _enrollment_code,
    )
    p.add_argument("--business", required=True, help="business ID the terminal will serve")
    p.add_argument(
        "--role",
        action="append",
        required=True,
        help="shop, office, library or municipal (repeatable)",
    )

    term = _group(admin, "terminal", "terminals (端末)")
    p = _command(term, "revoke", "revoke a terminal (端末の失効)", _terminal_revoke)
    p.add_argument("terminal_id")
    _command(term, "list", "list terminals and their last sync", _terminal_list, write=False)

    grants = _group(admin, "grants", "bulk grants (ポイントアップロード)")
    p = _command(
        grants, "import", "grant points from a CSV file", _grants_import, epilog=GRANTS_HELP
    )
    p.add_argument("file", type=Path, help="CSV file (UTF-8, BOM optional)")
    p.add_argument("--grant-program", type=number, help="grant program ID for rows that name none")

    sids = _group(admin, "service-ids", "service IDs (サービスID)")
    p = _command(
        sids,
        "import",
        "link customer IDs from a CSV file",
        _service_ids_import,
        epilog=SERVICE_IDS_HELP,
    )
    p.add_argument("file", type=Path, help="CSV file (UTF-8, BOM optional)")
    p.add_argument("--business", help="business ID for rows that name none")

    crl = _group(admin, "crl", "certificate revocation lists (失効情報)")
    p = _command(crl, "import", "import CRL files (DER or PEM)", _crl_import)
    p.add_argument("files", type=Path, nargs="+", help="CRL files (DER or PEM)")
    p.add_argument(
        "--trust",
        type=Path,
        metavar="DIR",
        help="folder of the trusted JPKI CA certificates that must have signed each CRL "
        "(default $MYKEY_LEDGER_TRUST_DIR)",
    )

    ren = _group(admin, "renewals", "certificate renewal links (更新)")
    p = _command(
        ren, "import", "import renewal links from CSV", _renewals_import, epilog=RENEWALS_HELP
    )
    p.add_argument("file", type=Path, help="CSV file (UTF-8, BOM optional)")
    p = _command(
        ren, "add", "link a renewed certificate to its predecessor (DER/PEM files)", _renewal_add
    )
    p.add_argument("old_certificate", type=Path)
    p.add_argument("new_certificate", type=Path)

    p = _command(
        admin,
        "expire",
        "expire lots and void vouchers that ended before a date (失効処理)",
        _expire,
    )
    p.add_argument(
        "--as-of",
        type=_date_argument,
        default=None,
        help="JST date YYYY-MM-DD; lots expiring before it expire (default: today)",
    )


def _date_argument(text: str) -> date:
    try:
        return parse_date(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


# --- handlers ---------------------------------------------------------------------------------


def _municipality_add(conn: Connection, args: argparse.Namespace) -> None:
    code = operator.create_municipality(conn, args.code, args.name)
    out(f"自治体を登録しました / municipality registered: {code} {args.name}")


def _municipality_list(conn: Connection, _args: argparse.Namespace) -> None:
    for row in conn.execute(select(municipalities).order_by(municipalities.c.code)):
        out(f"{row.code}\t{row.name}")


def _program_add(conn: Connection, args: argparse.Namespace) -> None:
    limits = operator.OfflineDefaults(
        max_per_transaction=args.offline_per_transaction,
        max_per_card_per_day=args.offline_per_card_day,
        max_per_terminal_since_sync=args.offline_per_terminal,
        max_hours_without_sync=args.offline_hours,
        max_revocation_age_hours=args.offline_revocation_hours,
    )
    program_id = operator.create_point_program(
        conn,
        args.municipality,
        args.name,
        kind=args.kind,
        lot_validity_days=args.lot_days,
        voucher_validity_days=args.voucher_days,
        voucher_max_points=args.voucher_max,
        offline=limits,
        accepted_business_ids=args.accept_at,
    )
    out(f"ポイントを作成しました / point program created: id={program_id} {args.name}")


def _program_accept(conn: Connection, args: argparse.Namespace) -> None:
    operator.accept_program_at(conn, args.program_id, args.business_id)
    out(f"利用可能にしました / accepted at: program {args.program_id} -> {args.business_id}")


def _program_list(conn: Connection, _args: argparse.Namespace) -> None:
    for row in conn.execute(select(point_programs).order_by(point_programs.c.id)):
        out(
            f"{row.id}\t{row.municipality_code}\t{row.kind}\t{row.name}"
            f"\tlot {row.lot_validity_days}d"
        )


def _grant_program_add(conn: Connection, args: argparse.Namespace) -> None:
    grant_id = operator.create_grant_program(
        conn, args.program, args.name, args.department, args.points, category=args.category
    )
    out(f"付与事業を作成しました / grant program created: id={grant_id} {args.name}")


def _grant_program_list(conn: Connection, _args: argparse.Namespace) -> None:
    for row in conn.execute(select(grant_programs).order_by(grant_programs.c.id)):
        out(
            f"{row.id}\tprogram {row.program_id}\t{row.department}\t{row.name}"
            f"\t{row.default_points} pt\t{row.category}"
        )


def _business_add(conn: Connection, args: argparse.Namespace) -> None:
    operator.create_business(
        conn, args.business_id, args.municipality, args.name, args.kind, street_id=args.street
    )
    out(f"事業者を登録しました / business registered: {args.business_id} {args.name}")


def _business_list(conn: Connection, _args: argparse.Namespace) -> None:
    for row in conn.execute(select(businesses).order_by(businesses.c.id)):
        out(f"{row.id}\t{row.kind}\t{row.street_id or '-'}\t{row.name}")


def _jst(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return as_utc(moment).astimezone(JST).strftime("%Y-%m-%d %H:%M JST")


def _enrollment_code(conn: Connection, args: argparse.Namespace) -> None:
    roles = [r for value in args.role for r in value.split(",") if r.strip()]
    code = operator.create_enrollment_code(conn, args.business, roles)
    out("端末登録コード (一度だけ表示されます) / enrollment code (shown once):")
    out(code.code)
    out(
        f"事業者 / business: {code.business_id}  役割 / roles: "
        + ",".join(r.value for r in code.roles)
    )
    out(f"有効期限 / expires: {_jst(code.expires_at)}")


def _terminal_revoke(conn: Connection, args: argparse.Namespace) -> None:
    operator.revoke_terminal(conn, args.terminal_id)
    out(f"端末を失効させました / terminal revoked: {args.terminal_id}")


def _terminal_list(conn: Connection, _args: argparse.Namespace) -> None:
    for row in conn.execute(select(terminals).order_by(terminals.c.business_id, terminals.c.id)):
        out(
            f"{row.id}\t{row.business_id}\t{row.status}\t{row.roles}\t{row.name}"
            f"\tlast sync {_jst(row.last_pull_at)}"
        )


def _grants_import(conn: Connection, args: argparse.Namespace) -> None:
    result = imports.import_grants(conn, _read(args.file), grant_program_id=args.grant_program)
    out(f"ポイントを付与しました / granted: {result.rows} 件 / rows, {result.points} pt")


def _service_ids_import(conn: Connection, args: argparse.Namespace) -> None:
    result = imports.import_service_ids(conn, _read(args.file), business_id=args.business)
    out(f"サービスIDを登録しました / service IDs linked: {result.rows} 件 / rows")


def _renewals_import(conn: Connection, args: argparse.Namespace) -> None:
    result = imports.import_renewal_links(conn, _read(args.file))
    out(f"更新情報を取り込みました / renewal links imported: {result.rows} 件 / rows")


def _renewal_add(conn: Connection, args: argparse.Namespace) -> None:
    operator.import_renewal_link(
        conn, _certificate(_read(args.old_certificate)), _certificate(_read(args.new_certificate))
    )
    out("更新情報を登録しました / renewal link recorded")


def _trust_store(folder: Path | None) -> TrustStore:
    folder = folder or Settings().trust_dir
    if folder is None:
        raise AdminError(
            "信頼するCA証明書のフォルダを --trust で指定してください"
            " / name the trusted CA certificates' folder with --trust"
        )
    try:
        return TrustStore.from_directory(folder)
    except CardError as error:
        raise AdminError(f"{error.message_ja} / {error.message_en}: {folder}") from error


def _crl_import(conn: Connection, args: argparse.Namespace) -> None:
    trust = _trust_store(args.trust)
    for path in args.files:
        result = operator.import_crl(conn, _read(path), trust)
        out(
            f"失効情報を取り込みました / CRL imported: {path.name}: {result.issuer}, "
            f"{result.entries} 件 / entries, this update {_jst(result.this_update)}"
        )


def _expire(conn: Connection, args: argparse.Namespace) -> None:
    as_of = args.as_of or jst_date(utc_now())
    report = operator.run_expiry(conn, as_of)
    out(
        f"失効処理 / expiry run as of {report.as_of.isoformat()} (JST): "
        f"{report.lots_expired} lots, {report.points_expired} pt expired; "
        f"{report.vouchers_voided} vouchers voided, {report.points_returned} pt returned"
    )


# --- helpers ----------------------------------------------------------------------------------


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise AdminError(
            f"ファイルを読めません / cannot read {path}: {error.strerror or error}"
        ) from error


def _certificate(data: bytes) -> x509.Certificate:
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as error:
        raise AdminError("証明書ではありません / not an X.509 certificate (DER or PEM)") from error
