"""Time: server time is UTC for ordering; calendar dates (expiry, voucher validity) are JST."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """``moment`` as aware UTC (naive values, as SQLite returns them, are taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def jst_date(moment: datetime) -> date:
    """The JST calendar date of ``moment``."""
    return as_utc(moment).astimezone(JST).date()
