"""`mykey ledger admin …`: an operator sets up a municipality end to end from the command line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from cardio.virtual.ca import TestCA
from server_stub.db.engine import make_engine
from server_stub.db.schema import (
    enrollment_codes,
    grant_programs,
    municipalities,
    revoked_certificates,
)
from server_stub.operator import hash_enrollment_code
from tests.ledger_ops.conftest import Card, CliResult

ROOT = Path(__file__).resolve().parents[2]


def test_operator_sets_up_reference_data(
    sqlite_ledger_url: str, mykey: Callable[..., CliResult]
) -> None:
    db = ("--db", sqlite_ledger_url)
    admin = ("ledger", "admin")

    bad = mykey(*admin, "municipality", "add", "141306", "川崎市", *db)
    assert bad.code == 1
    assert "自治体コードが正しくありません" in bad.err and "check digit" in bad.err

    steps = [
        ("municipality", "add", "141305", "川崎市"),
        ("program", "add", "--municipality", "141305", "--name", "川崎市ポイント"),
        ("business", "add", "B0001", "--municipality", "141305", "--name", "元住吉商店街",
         "--kind", "street"),
        ("business", "add", "A0001", "--municipality", "141305", "--name", "ブレーメン青果",
         "--kind", "shop", "--street", "B0001"),
        ("grant-program", "add", "--program", "1", "--name", "献血", "--department",
         "健康福祉局", "--points", "300", "--category", "premium"),
    ]  # fmt: skip
    for step in steps:
        result = mykey(*admin, *step, *db)
        assert result.code == 0, (step, result.err)

    listing = mykey(*admin, "business", "list", *db)
    assert listing.out.splitlines() == [
        "A0001\tshop\tB0001\tブレーメン青果",
        "B0001\tstreet\t-\t元住吉商店街",
    ]
    duplicate = mykey(*admin, "municipality", "add", "141305", "川崎市", *db)
    assert duplicate.code == 1
    not_a_street = mykey(*admin, "business", "add", "A0002", "--municipality", "141305",
                         "--name", "x", "--kind", "shop", "--street", "A0001", *db)  # fmt: skip
    assert not_a_street.code == 1

    engine = make_engine(sqlite_ledger_url)
    try:
        with engine.connect() as conn:
            grant = conn.execute(select(grant_programs)).one()
        assert (grant.name, grant.department, grant.default_points, grant.category) == (
            "献血",
            "健康福祉局",
            300,
            "premium",
        )
    finally:
        engine.dispose()


def test_enrollment_code_is_printed_once_and_stored_hashed(
    sqlite_ledger_url: str, mykey: Callable[..., CliResult]
) -> None:
    db = ("--db", sqlite_ledger_url)
    for step in (
        ("municipality", "add", "131164", "豊島区"),
        ("business", "add", "L0001", "--municipality", "131164", "--name", "中央図書館",
         "--kind", "library"),
    ):  # fmt: skip
        assert mykey("ledger", "admin", *step, *db).code == 0
    result = mykey("ledger", "admin", "enrollment-code", "--business", "L0001",
                   "--role", "library", *db)  # fmt: skip
    assert result.code == 0, result.err
    code = result.out.splitlines()[1]
    assert len(code) >= 8 and "L0001" in result.out and "JST" in result.out
    engine = make_engine(sqlite_ledger_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(enrollment_codes)).one()
    finally:
        engine.dispose()
    assert row.code_hash == hash_enrollment_code(code) != code
    assert row.roles == "library"
    expires = (
        row.expires_at.replace(tzinfo=UTC) if row.expires_at.tzinfo is None else row.expires_at
    )
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(hours=24)

    wrong_role = mykey("ledger", "admin", "enrollment-code", "--business", "L0001",
                       "--role", "cashier", *db)  # fmt: skip
    assert wrong_role.code == 1
    unknown = mykey("ledger", "admin", "terminal", "revoke", "T-NOPE", *db)
    assert unknown.code == 1
    assert "端末が登録されていません" in unknown.err


def test_crl_import_records_revoked_serials_of_trusted_crls_only(
    sqlite_ledger_url: str,
    mykey: Callable[..., CliResult],
    test_ca: TestCA,
    cards: list[Card],
    tmp_path: Path,
) -> None:
    test_ca.revoke(cards[3].certificate)
    trust = str(test_ca.trust_directory)
    pem = tmp_path / "auth.crl"
    pem.write_bytes(test_ca.crl().public_bytes(Encoding.PEM))
    crl_import = ("ledger", "admin", "crl", "import", "--db", sqlite_ledger_url)
    result = mykey(*crl_import, str(pem), "--trust", trust)
    assert result.code == 0, result.err
    assert "1 件" in result.out

    not_crl = tmp_path / "junk.crl"
    not_crl.write_bytes(b"not a crl")
    assert mykey(*crl_import, str(not_crl), "--trust", trust).code == 1

    # A CRL from a CA the ledger does not trust (same DN, other key) is refused whole.
    impostor = TestCA.init(tmp_path / "impostor")
    impostor.revoke(impostor.issue_card(tmp_path / "impostor-card", "1111").auth_certificate)
    forged = tmp_path / "forged.crl"
    forged.write_bytes(impostor.crl().public_bytes(Encoding.DER))
    refused = mykey(*crl_import, str(forged), "--trust", trust)
    assert refused.code == 1
    assert "crl-untrusted" in refused.err

    no_trust = mykey(*crl_import, str(pem))
    assert no_trust.code == 1
    assert "--trust" in no_trust.err

    engine = make_engine(sqlite_ledger_url)
    try:
        with engine.connect() as conn:
            serials = conn.execute(select(revoked_certificates.c.serial)).scalars().all()
            assert serials == [str(cards[3].certificate.serial_number)]
    finally:
        engine.dispose()


def test_missing_database_tables_give_a_clear_message(
    tmp_path: Path, mykey: Callable[..., CliResult]
) -> None:
    result = mykey("ledger", "admin", "municipality", "list", "--db",
                   f"sqlite:///{tmp_path / 'empty.db'}")  # fmt: skip
    assert result.code == 1
    assert "mykey ledger migrate" in result.err


def test_real_console_script_runs_admin_and_report(sqlite_ledger_url: str) -> None:
    script = Path(sys.executable).with_name("mykey")
    run = subprocess.run(
        [str(script), "ledger", "admin", "municipality", "add", "141305", "川崎市",
         "--db", sqlite_ledger_url],
        capture_output=True, text=True, encoding="utf-8", timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "141305" in run.stdout
    report = subprocess.run(
        [str(script), "ledger", "report", "issuance", "--month", "2026-10", "--db",
         sqlite_ledger_url],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith(b"\xef\xbb\xbf")
    assert report.stdout.decode("utf-8-sig").startswith("月 / month,")
    engine = make_engine(sqlite_ledger_url)
    try:
        with engine.connect() as conn:
            names = conn.execute(select(municipalities.c.name)).scalars().all()
            assert names == ["川崎市"]
    finally:
        engine.dispose()


def test_postgresql_url_without_its_driver_says_what_to_do_instead_of_a_traceback() -> None:
    # The frozen terminal app ships without psycopg (build.spec): as if it were not installed.
    program = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from mykey.cli import main\n"
        "sys.exit(main(['ledger', 'admin', 'municipality', 'list', '--db',"
        " 'postgresql+psycopg://ledger@127.0.0.1:9/ledger']))"
    )
    run = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True, text=True, encoding="utf-8", timeout=60, check=False, cwd=ROOT,
    )  # fmt: skip
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "ドライバー (psycopg) がありません" in run.stderr
    assert "Run a PostgreSQL ledger server from the Python package" in run.stderr
