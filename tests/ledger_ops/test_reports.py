"""Reports give the figures a municipality settles with, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from server_stub.reports import queries
from server_stub.reports.period import Month
from tests.ledger_ops.conftest import CliResult, Seed, build_report_scenario


@pytest.fixture
def scenario(ledger_url: str, seed: Seed) -> Seed:
    """The seeded ledger with the October/November movements."""
    build_report_scenario(ledger_url, seed)
    return seed


def _pick(rows: Any, *keys: str) -> list[tuple[Any, ...]]:
    return [tuple(row[k] for k in keys) for row in rows]


def test_issuance_splits_by_jst_month_department_and_premium(
    engine: Engine, scenario: Seed
) -> None:
    with engine.connect() as conn:
        october = queries.issuance(conn, Month(2026, 10)).rows
        november = queries.issuance(conn, Month(2026, 11)).rows
    # the 23:30 JST grant on 10-31 is October; the 00:30 JST grant on 11-01 is November
    assert _pick(october, "department", "grant_program", "grants", "ordinary_points",
                 "premium_points", "total_points") == [
        ("健康福祉局", "健康診断受診", 2, 1000, 0, 1000)
    ]  # fmt: skip
    assert _pick(november, "department", "grants", "ordinary_points", "premium_points") == [
        ("健康福祉局", 1, 500, 0),
        ("経済労働局", 1, 0, 1000),
    ]


def test_settlement_counts_uses_and_redemptions_per_business(
    engine: Engine, scenario: Seed
) -> None:
    with engine.connect() as conn:
        report = queries.settlement(conn, Month(2026, 10), Month(2026, 11))
        only_a2 = queries.settlement(conn, Month(2026, 11), business_id="A0002")
    keys = ("month", "business_id", "uses", "use_points", "redemptions", "redemption_points",
            "total_points")  # fmt: skip
    assert _pick(report.rows, *keys) == [
        ("2026-10", "A0001", 1, 300, 0, 0, 300),
        ("2026-10", "A0002", 0, 0, 1, 100, 100),
        ("2026-11", "A0001", 1, 200, 0, 0, 200),
        # an offline acceptance is paid in full although 400 pt became an overdraft
        ("2026-11", "A0002", 1, 700, 0, 0, 700),
    ]
    assert _pick(only_a2.rows, "business_id", "total_points") == [("A0002", 700)]
    assert all(row["street_id"] == "B0001" for row in report.rows)


def test_history_shows_kinds_places_and_balance_after(engine: Engine, scenario: Seed) -> None:
    with engine.connect() as conn:
        mine = queries.history(conn, "my123456").rows  # IDs are case-insensitive
        key = queries.history(conn, "KEY34567").rows
        nobody = queries.history(conn, "NOBODY99").rows
    assert _pick(mine, "date", "kind", "description", "points", "balance") == [
        ("2026-10-05", "付与", "健康診断受診", 500, 500),
        ("2026-10-10", "利用", "ブレーメン青果", -300, 200),
        ("2026-10-12", "利用", "ポイント券発行 No.1234567890128 (元住吉商店街)", -100, 100),
        ("2026-11-01", "付与", "プレミアム付与", 1000, 1100),
    ]
    # the offline overdraft shows as a negative balance until the next grant clears it
    assert _pick(key, "date", "kind", "points", "balance") == [
        ("2026-10-31", "付与", 500, 500),
        ("2026-11-02", "利用", -200, 300),
        ("2026-11-03", "利用", -700, -400),
        ("2026-11-05", "付与", 500, 100),
    ]
    assert all(row["program"] == "川崎市ポイント" for row in [*mine, *key])
    assert nobody == []


def test_expiry_appears_in_history_as_shikkou(
    ledger_url: str, engine: Engine, scenario: Seed, mykey: Callable[..., CliResult]
) -> None:
    # lots live 100 days: the 10-05 lot (100 pt left) ends 2027-01-13; 11-01's lot 2027-02-09
    result = mykey("ledger", "admin", "expire", "--as-of", "2027-01-20", "--db", ledger_url)
    assert result.code == 0, result.err
    assert "100 pt expired" in result.out
    with engine.connect() as conn:
        rows = queries.history(conn, "MY123456").rows
    assert _pick(rows[-1:], "kind", "description", "points", "balance") == [
        ("失効", "有効期限切れ", -100, 1000)
    ]


def test_report_cli_writes_excel_csv_with_bom_and_json(
    ledger_url: str, scenario: Seed, mykey: Callable[..., CliResult], tmp_path: Any
) -> None:
    target = tmp_path / "settlement.csv"
    result = mykey("ledger", "report", "settlement", "--month", "2026-10", "--db", ledger_url,
                   "-o", str(target))  # fmt: skip
    assert result.code == 0, result.err
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][1] == "事業者ID / business ID"
    assert [r[1] for r in rows[1:]] == ["A0001", "A0002"]
    assert rows[1][-1] == "300"

    result = mykey("ledger", "report", "history", "KEY34567", "--format", "json",
                   "--db", ledger_url)  # fmt: skip
    assert result.code == 0, result.err
    body = json.loads(result.out)
    assert body["report"] == "history"
    assert [r["balance"] for r in body["rows"]] == [500, 300, -400, 100]

    result = mykey("ledger", "report", "issuance", "--month", "2026-13", "--db", ledger_url)
    assert result.code == 2
    assert "YYYY-MM" in result.err
