"""CSV imports for the operator: bulk grants (ポイントアップロード), service IDs, renewal links.

Each import is all or nothing: the file is parsed first (every malformed row is reported), then
every row is applied through the ledger's operator functions inside ONE database transaction,
each row in its own savepoint so that all refused rows can be reported together; if any row was
refused, the whole transaction is rolled back and nothing is imported.

Column headers (first line; English or Japanese, case and spaces ignored):

- grants: ``mykey_id`` (マイキーID), ``points`` (ポイント, optional: the grant program's default),
  ``grant_program_id`` (付与事業ID, optional when ``--grant-program`` is given),
  ``reference`` (受付番号, optional).
- service IDs: ``mykey_id`` (マイキーID), ``customer_id`` (顧客ID), ``business_id`` (事業者ID,
  optional when ``--business`` is given).
- renewal links: ``old_issuer`` (旧発行者), ``old_serial`` (旧シリアル番号), ``new_issuer``
  (新発行者), ``new_serial`` (新シリアル番号), ``new_fingerprint_sha256`` (新フィンガープリント).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from server_stub import operator
from server_stub.admin.csvio import Column, CsvRow, parse_csv, positive_int, text
from server_stub.admin.errors import CsvImportError, RowError
from server_stub.cards import CardRef
from server_stub.db.schema import mykey_ids, transfers
from server_stub.errors import LedgerError

_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ImportResult:
    """What an import applied: the number of rows, and the points for a grant upload."""

    rows: int
    points: int = 0


def _serial(raw: str) -> str:
    """A certificate serial as decimal text; ``0x…`` hexadecimal is accepted."""
    text = raw.strip().replace(":", "")
    if text.lower().startswith("0x"):
        return str(int(text[2:], 16))
    if not text.isascii() or not text.isdigit() or len(text) > 60:
        raise ValueError(f"シリアル番号が数字ではありません / serial is not a number: {raw!r}")
    return str(int(text))


def _fingerprint(raw: str) -> str:
    text = raw.strip().replace(":", "").lower()
    if not _FINGERPRINT.match(text):
        raise ValueError(
            f"SHA-256 フィンガープリント (16進64桁) ではありません / not a SHA-256 hex: {raw!r}"
        )
    return text


GRANT_COLUMNS = (
    Column("mykey_id", ("マイキーID", "MyKeyID"), text(16)),
    Column("points", ("ポイント", "付与ポイント", "ポイント数"), positive_int, required=False),
    Column("grant_program_id", ("付与事業ID", "付与事業"), positive_int, required=False),
    Column("reference", ("受付番号", "参照", "備考"), text(100), required=False),
)

SERVICE_ID_COLUMNS = (
    Column("mykey_id", ("マイキーID", "MyKeyID"), text(16)),
    Column("customer_id", ("顧客ID", "会員番号", "利用者番号", "サービスID")),
    Column("business_id", ("事業者ID",), text(16), required=False),
)

RENEWAL_COLUMNS = (
    Column("old_issuer", ("旧発行者",), text(500)),
    Column("old_serial", ("旧シリアル番号", "旧シリアル"), _serial),
    Column("new_issuer", ("新発行者",), text(500)),
    Column("new_serial", ("新シリアル番号", "新シリアル"), _serial),
    Column("new_fingerprint_sha256", ("新フィンガープリント", "new_fingerprint"), _fingerprint),
)


def _message(error: Exception) -> str:
    if isinstance(error, LedgerError):
        detail = f" ({error.detail})" if error.detail else ""
        return f"{error.title_ja} / {error.title_en} [{error.code}]{detail}"
    return "既に登録されています / already recorded"


def apply_rows(
    conn: Connection, rows: list[CsvRow], apply: Callable[[CsvRow], int]
) -> ImportResult:
    """Apply every row in its own savepoint; raise CsvImportError (caller rolls back) if any
    row was refused. ``apply`` returns the points the row moved (0 for non-point rows)."""
    errors: list[RowError] = []
    points = 0
    for row in rows:
        try:
            with conn.begin_nested():
                points += apply(row)
        except (LedgerError, IntegrityError) as error:
            errors.append(RowError(row.line, _message(error)))
        except CsvImportError as error:
            errors.extend(error.errors)
    if errors:
        raise CsvImportError(errors)
    return ImportResult(len(rows), points)


def _require(rows: list[CsvRow], column: str, message: str) -> None:
    """Refuse the file (every such row listed) when rows leave ``column`` empty and no
    command-line default fills it."""
    missing = [RowError(row.line, message) for row in rows if row.values[column] is None]
    if missing:
        raise CsvImportError(missing)


def canonical_mykey_id(conn: Connection, mykey_id: str) -> str:
    """The MyKey ID as registered (IDs are unique case-insensitively); unchanged if unknown."""
    found = conn.execute(
        select(mykey_ids.c.id).where(mykey_ids.c.id_folded == mykey_id.casefold())
    ).scalar_one_or_none()
    return mykey_id if found is None else str(found)


def upload_reference(data: bytes, line: int) -> str:
    """The reference a grant row gets when the file names none: the file's hash and the line,
    so uploading the same file twice is caught instead of granting twice."""
    return f"upload:{hashlib.sha256(data).hexdigest()[:16]}:{line}"


def import_grants(
    conn: Connection,
    data: bytes,
    *,
    grant_program_id: int | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Bulk grants (ポイントアップロード) from CSV, all rows or none."""
    rows = parse_csv(data, GRANT_COLUMNS)
    if grant_program_id is None:
        _require(
            rows,
            "grant_program_id",
            "付与事業IDがありません (--grant-program で指定できます)"
            " / grant_program_id missing (or give --grant-program)",
        )

    def apply(row: CsvRow) -> int:
        values: dict[str, Any] = dict(row.values)
        program = int(values["grant_program_id"] or grant_program_id or 0)
        reference = values["reference"] or upload_reference(data, row.line)
        already = conn.execute(
            select(transfers.c.id).where(
                (transfers.c.kind == "grant")
                & (transfers.c.grant_program_id == program)
                & (transfers.c.reference == reference)
            )
        ).first()
        if already is not None:
            raise CsvImportError(
                [RowError(row.line, f"取り込み済みです / already imported (reference {reference})")]
            )
        movement = operator.grant_points(
            conn,
            program,
            canonical_mykey_id(conn, values["mykey_id"]),
            values["points"],
            reference=reference,
            now=now,
        )
        return _granted_points(conn, movement.transfer_id)

    return apply_rows(conn, rows, apply)


def _granted_points(conn: Connection, transfer_id: int) -> int:
    return int(
        conn.execute(select(transfers.c.points).where(transfers.c.id == transfer_id)).scalar_one()
    )


def import_service_ids(
    conn: Connection,
    data: bytes,
    *,
    business_id: str | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Bulk service-ID links (customer / patron numbers) from CSV, all rows or none."""
    rows = parse_csv(data, SERVICE_ID_COLUMNS)
    if business_id is None:
        _require(
            rows,
            "business_id",
            "事業者IDがありません (--business で指定できます)"
            " / business_id missing (or give --business)",
        )

    def apply(row: CsvRow) -> int:
        operator.link_service_id(
            conn,
            canonical_mykey_id(conn, row.values["mykey_id"]),
            str(row.values["business_id"] or business_id),
            row.values["customer_id"],
            now=now,
        )
        return 0

    return apply_rows(conn, rows, apply)


def import_renewal_links(
    conn: Connection, data: bytes, *, now: datetime | None = None
) -> ImportResult:
    """Certificate renewal links (old certificate -> new certificate) from CSV, all or none."""
    rows = parse_csv(data, RENEWAL_COLUMNS)

    def apply(row: CsvRow) -> int:
        values = row.values
        old = CardRef(values["old_issuer"], values["old_serial"], "")
        new = CardRef(values["new_issuer"], values["new_serial"], values["new_fingerprint_sha256"])
        operator.import_renewal_link(conn, old, new, now=now)
        return 0

    return apply_rows(conn, rows, apply)
