"""Calendar months in Japan time (JST) and their bounds as UTC instants."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from server_stub.clock import JST, as_utc

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
MIN_YEAR, MAX_YEAR = 2000, 2999
#: the longest range one report covers (ten years)
MAX_MONTHS = 120


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month (Asia/Tokyo)."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """Parse ``YYYY-MM``; raises ValueError with a bilingual message."""
        match = _MONTH.match(text.strip())
        if (
            not match
            or not 1 <= int(match.group(2)) <= 12
            or not MIN_YEAR <= int(match.group(1)) <= MAX_YEAR
        ):
            raise ValueError(f"月は YYYY-MM で指定してください / month must be YYYY-MM: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def next(self) -> Month:
        """The following month."""
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def bounds_utc(self) -> tuple[datetime, datetime]:
        """[start, end) of the month in JST, as aware UTC datetimes."""
        following = self.next()
        start = datetime(self.year, self.month, 1, tzinfo=JST)
        end = datetime(following.year, following.month, 1, tzinfo=JST)
        return start.astimezone(UTC), end.astimezone(UTC)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def months(first: Month, last: Month) -> list[Month]:
    """Every month from ``first`` to ``last`` inclusive (empty when last < first); at most
    MAX_MONTHS, else ValueError."""
    if (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        raise ValueError(
            f"期間は{MAX_MONTHS}か月以内にしてください"
            f" / a report covers at most {MAX_MONTHS} months"
        )
    result: list[Month] = []
    current = first
    while current <= last:
        result.append(current)
        current = current.next()
    return result


def to_jst(moment: datetime) -> datetime:
    """``moment`` in JST; a naive value (SQLite keeps no zone) is taken as UTC."""
    return as_utc(moment).astimezone(JST)


def parse_date(text: str) -> date:
    """Parse ``YYYY-MM-DD`` with a bilingual error."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"日付は YYYY-MM-DD で指定してください / date must be YYYY-MM-DD: {text!r}"
        ) from None
