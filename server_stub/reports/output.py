"""Report rows out as CSV (UTF-8 with BOM, so Excel in Japan opens it right) or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Format = Literal["csv", "json"]

#: the BOM Excel needs to read a CSV file as UTF-8
BOM = "\ufeff"


@dataclass(frozen=True)
class Report:
    """A finished report: a title, column keys with their printed headers, and the rows."""

    title: str
    columns: Sequence[tuple[str, str]]
    rows: Sequence[dict[str, Any]]

    def to_csv(self) -> str:
        """CSV text starting with a BOM; headers are the Japanese/English column titles."""
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([header for _, header in self.columns])
        for row in self.rows:
            writer.writerow([_cell(row.get(key)) for key, _ in self.columns])
        return BOM + buffer.getvalue()

    def to_json(self) -> str:
        """JSON text: ``{"report": title, "columns": [...], "rows": [...]}``, UTF-8 unescaped."""
        body = {
            "report": self.title,
            "columns": [key for key, _ in self.columns],
            "rows": [{key: row.get(key) for key, _ in self.columns} for row in self.rows],
        }
        return json.dumps(body, ensure_ascii=False, indent=2, default=str) + "\n"

    def render(self, fmt: Format) -> str:
        """The report in ``fmt``."""
        return self.to_csv() if fmt == "csv" else self.to_json()


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
