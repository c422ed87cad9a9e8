"""CSV uploads: a good file is applied completely; a bad one names its lines and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from server_stub.cards import CardRef, resolve_card
from server_stub.clock import utc_now
from server_stub.db.schema import accounts, service_ids, transfers
from tests.ledger_ops.conftest import Card, CliResult, Seed

BOM = "\ufeff"


def _write(tmp_path: Path, name: str, text: str, bom: bool = True) -> Path:
    path = tmp_path / name
    path.write_bytes(((BOM if bom else "") + text).encode("utf-8"))
    return path


def _resident_balances(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(accounts.c.owner, accounts.c.balance).where(accounts.c.kind == "resident")
        ).all()
    return {row.owner: int(row.balance) for row in rows}


def _grant_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(transfers).where(transfers.c.kind == "grant")
            ).scalar_one()
        )


def test_bulk_grant_upload_with_japanese_headers_and_bom(
    ledger_url: str,
    engine: Engine,
    seed: Seed,
    tmp_path: Path,
    mykey: Callable[..., CliResult],
) -> None:
    csv_file = _write(
        tmp_path,
        "grants.csv",
        "マイキーID,ポイント,付与事業ID\r\n"
        f'MY123456,"1,000",{seed.health_grant_id}\r\n'
        f"key34567,,{seed.health_grant_id}\r\n"  # lower case; empty points -> default 500
        f"Hanako01,250,{seed.premium_grant_id}\r\n"
        "\r\n",
    )
    result = mykey("ledger", "admin", "grants", "import", str(csv_file), "--db", ledger_url)
    assert result.code == 0, result.err
    assert "3 件" in result.out and "1750 pt" in result.out
    assert _resident_balances(engine) == {"MY123456": 1000, "KEY34567": 500, "Hanako01": 250}

    # the same file again is caught: nothing is granted twice
    again = mykey("ledger", "admin", "grants", "import", str(csv_file), "--db", ledger_url)
    assert again.code == 1
    assert "2 行目" in again.err and "already imported" in again.err
    assert _resident_balances(engine) == {"MY123456": 1000, "KEY34567": 500, "Hanako01": 250}


def test_bad_grant_rows_are_reported_by_line_and_nothing_is_imported(
    ledger_url: str,
    engine: Engine,
    seed: Seed,
    tmp_path: Path,
    mykey: Callable[..., CliResult],
) -> None:
    csv_file = _write(
        tmp_path,
        "grants.csv",
        "mykey_id,points,reference\n"
        "MY123456,100,R-1\n"  # good
        "KEY34567,abc,R-2\n"  # line 3: not a number
        "Hanako01,200,R-3\n"  # good
        ",50,R-4\n"  # line 5: no MyKey ID
        "NOBODY99,50,R-5\n",  # line 6: unknown MyKey ID (found when applying)
        bom=False,
    )
    result = mykey("ledger", "admin", "grants", "import", str(csv_file),
                   "--grant-program", str(seed.health_grant_id), "--db", ledger_url)  # fmt: skip
    assert result.code == 1
    assert "3 行目" in result.err and "5 行目" in result.err
    assert "何も取り込んでいません" in result.err
    assert _grant_count(engine) == 0

    # with the format fixed, the ledger refuses line 6 and still nothing is imported
    fixed = (
        csv_file.read_text(encoding="utf-8").replace("abc", "100").replace(",50,R-4", "X1234,1,R-4")
    )
    csv_file.write_text(fixed, encoding="utf-8")
    result = mykey("ledger", "admin", "grants", "import", str(csv_file),
                   "--grant-program", str(seed.health_grant_id), "--db", ledger_url)  # fmt: skip
    assert result.code == 1
    assert "5 行目" in result.err and "6 行目" in result.err
    assert "unknown-mykey-id" in result.err
    assert "2 行目" not in result.err
    assert _grant_count(engine) == 0
    assert _resident_balances(engine) == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("points\n100\n", "mykey_id"),  # missing required column
        ("mykey_id,points\nMY123456,100\n", "grant_program_id"),  # no program anywhere
        ("", "empty"),
        (f"mykey_id,grant_program_id,reference\nMY123456,1,{'r' * 101}\n", "at most 100"),
        ("mykey_id,grant_program_id\nMY123456,99999999999\n", "not a positive whole number"),
    ],
)
def test_unusable_grant_files_are_refused_clearly(
    sqlite_ledger_url: str,
    tmp_path: Path,
    mykey: Callable[..., CliResult],
    content: str,
    message: str,
) -> None:
    csv_file = _write(tmp_path, "grants.csv", content, bom=False)
    result = mykey("ledger", "admin", "grants", "import", str(csv_file), "--db", sqlite_ledger_url)
    assert result.code == 1
    assert message in result.err


def test_shift_jis_file_is_refused_with_advice(
    sqlite_ledger_url: str, tmp_path: Path, mykey: Callable[..., CliResult]
) -> None:
    path = tmp_path / "sjis.csv"
    path.write_bytes("マイキーID,ポイント\nMY123456,100\n".encode("shift_jis"))
    result = mykey("ledger", "admin", "grants", "import", str(path), "--db", sqlite_ledger_url)
    assert result.code == 1
    assert "UTF-8" in result.err and "1 行目" in result.err


def test_service_id_upload_links_customer_numbers(
    ledger_url: str,
    engine: Engine,
    seed: Seed,
    tmp_path: Path,
    mykey: Callable[..., CliResult],
) -> None:
    good = _write(tmp_path, "ids.csv", "マイキーID,利用者番号\nMY123456,P-0001\nKEY34567,P-0002\n")
    result = mykey("ledger", "admin", "service-ids", "import", str(good),
                   "--business", "L0001", "--db", ledger_url)  # fmt: skip
    assert result.code == 0, result.err
    bad = _write(
        tmp_path,
        "bad.csv",
        "mykey_id,customer_id,business_id\n"
        "Hanako01,M-1,A0001\n"
        "Hanako01,M-2,ZZ999\n"  # unknown business
        f"MY123456,{'9' * 33},A0001\n",  # customer ID too long
    )
    refused = mykey("ledger", "admin", "service-ids", "import", str(bad), "--db", ledger_url)
    assert refused.code == 1
    assert "3 行目" in refused.err and "4 行目" in refused.err
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                service_ids.c.mykey_id, service_ids.c.business_id, service_ids.c.customer_id
            ).order_by(service_ids.c.customer_id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("MY123456", "L0001", "P-0001"),
        ("KEY34567", "L0001", "P-0002"),
    ]


def test_renewal_links_resolve_new_certificates_to_the_same_mykey_id(
    ledger_url: str,
    engine: Engine,
    seed: Seed,
    cards: list[Card],
    tmp_path: Path,
    mykey: Callable[..., CliResult],
) -> None:
    old = CardRef.of_certificate(cards[0].certificate)
    new = CardRef.of_certificate(cards[3].certificate)  # stands in for the renewed card
    text = (
        "old_issuer,old_serial,new_issuer,new_serial,new_fingerprint_sha256\n"
        f'"{old.issuer}",{old.serial},"{new.issuer}",{hex(int(new.serial))},'
        f"{new.fingerprint_sha256.upper()}\n"
    )
    bad = _write(tmp_path, "bad.csv", text + '"x",12,"y",zz,00\n')
    refused = mykey("ledger", "admin", "renewals", "import", str(bad), "--db", ledger_url)
    assert refused.code == 1 and "3 行目" in refused.err
    with engine.connect() as conn:
        assert resolve_card(conn, new, utc_now()) is None
    good = _write(tmp_path, "good.csv", text)
    result = mykey("ledger", "admin", "renewals", "import", str(good), "--db", ledger_url)
    assert result.code == 0, result.err
    with engine.connect() as conn:
        assert resolve_card(conn, new, utc_now()) == "MY123456"
