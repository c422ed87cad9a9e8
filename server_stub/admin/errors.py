"""Errors of the operator tools; each carries a message for people (Japanese, then English)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class AdminError(Exception):
    """An operator action could not be done; ``str(error)`` is the message to show."""


@dataclass(frozen=True)
class RowError:
    """One problem in an input file, at a line number (the header is line 1)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.line} 行目 / line {self.line}: {self.message}"


class CsvImportError(AdminError):
    """A CSV file had bad rows; nothing from it was imported."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = sorted(errors, key=lambda e: e.line)
        super().__init__(
            "CSV に誤りがあるため何も取り込んでいません"
            " / nothing was imported, the CSV has errors:\n"
            + "\n".join(str(e) for e in self.errors)
        )
