"""Reading operator CSV files: UTF-8 with or without BOM, English or Japanese headers.

A file is parsed completely before anything touches the ledger; every bad row is reported with its
line number (the physical line in the file, counting the header as line 1), so the operator can fix
the file in Excel and upload it again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from server_stub.admin.errors import CsvImportError, RowError


@dataclass(frozen=True)
class Column:
    """One CSV column: its canonical name, accepted header spellings and a value parser."""

    name: str
    aliases: tuple[str, ...] = ()
    parse: Callable[[str], Any] = str
    required: bool = True
    default: Any = None

    def headers(self) -> tuple[str, ...]:
        """Every header spelling accepted for this column (compared without case and spaces)."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class CsvRow:
    """A parsed row: its line number in the file and its values by canonical column name."""

    line: int
    values: Mapping[str, Any] = field(default_factory=dict)


def _norm(header: str) -> str:
    return header.strip().replace(" ", "").replace("\u3000", "").replace("_", "").lower()


def decode(data: bytes) -> str:
    """Decode UTF-8 (a leading BOM is dropped); a non-UTF-8 file is refused with a clear message."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CsvImportError(
            [
                RowError(
                    line,
                    "UTF-8 ではありません (Excel では「CSV UTF-8」で保存してください)"
                    " / not UTF-8 (save as 'CSV UTF-8' in Excel)",
                )
            ]
        ) from error


def parse_csv(data: bytes, columns: Sequence[Column]) -> list[CsvRow]:
    """Parse the file ``data`` against ``columns``; raises CsvImportError listing every bad row."""
    reader = csv.reader(io.StringIO(decode(data), newline=""))
    errors: list[RowError] = []
    try:
        header = next(reader)
    except StopIteration:
        raise CsvImportError([RowError(1, "空のファイルです / the file is empty")]) from None
    positions = _map_header(header, columns)
    rows: list[CsvRow] = []
    start = reader.line_num + 1
    for record in reader:
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue  # blank lines (Excel leaves some at the end) are not rows
        values, row_errors = _parse_record(record, positions, columns, len(header))
        errors.extend(RowError(line, message) for message in row_errors)
        if not row_errors:
            rows.append(CsvRow(line, values))
    if errors:
        raise CsvImportError(errors)
    if not rows:
        raise CsvImportError([RowError(2, "データ行がありません / no data rows")])
    return rows


def _map_header(header: Sequence[str], columns: Sequence[Column]) -> dict[str, int]:
    by_header = {_norm(h): i for i, h in enumerate(header)}
    positions: dict[str, int] = {}
    missing: list[str] = []
    for column in columns:
        index = next((by_header[_norm(h)] for h in column.headers() if _norm(h) in by_header), None)
        if index is not None:
            positions[column.name] = index
        elif column.required:
            missing.append(" / ".join(column.headers()))
    if missing:
        raise CsvImportError(
            [
                RowError(1, "見出しに必要な列がありません / missing header column: " + m)
                for m in missing
            ]
        )
    return positions


def _parse_record(
    record: Sequence[str],
    positions: Mapping[str, int],
    columns: Sequence[Column],
    width: int,
) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    problems: list[str] = []
    if len(record) > width:
        problems.append(f"列が多すぎます / too many columns ({len(record)} > {width})")
    for column in columns:
        index = positions.get(column.name)
        raw = record[index].strip() if index is not None and index < len(record) else ""
        if not raw:
            if column.required:
                problems.append(f"「{column.headers()[-1]}」が空です / {column.name} is empty")
            else:
                values[column.name] = column.default
            continue
        if "\x00" in raw:  # PostgreSQL cannot store it; refused on SQLite too
            problems.append(f"{column.name}: NUL 文字は使えません / NUL (U+0000) is not allowed")
            continue
        try:
            values[column.name] = column.parse(raw)
        except (ValueError, TypeError) as error:
            problems.append(f"{column.name}: {error}")
    return values, problems


#: the largest number a CSV cell may hold (a 32-bit INTEGER column; points are capped lower
#: by the ledger itself)
MAX_NUMBER = 2**31 - 1


def text(max_length: int) -> Callable[[str], str]:
    """A parser for free text of at most ``max_length`` characters."""

    def parse(raw: str) -> str:
        if len(raw) > max_length:
            raise ValueError(
                f"{max_length} 文字以内にしてください / at most {max_length} characters"
            )
        return raw

    return parse


def positive_int(raw: str) -> int:
    """Parse a positive whole number (``1,000`` with a thousands comma is accepted)."""
    text = raw.replace(",", "").replace("，", "")
    if not text.isdigit() or not 0 < int(text) <= MAX_NUMBER:
        raise ValueError(f"正の整数ではありません / not a positive whole number: {raw!r}")
    return int(text)
