"""The change feed terminals pull: one row per change, naming whom it concerns."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection

from server_stub.db.raw import RawStatement


class EventKind(StrEnum):
    """What changed."""

    BALANCE = "balance"
    CARD = "card"
    SERVICE_ID = "service_id"
    REDEMPTION = "redemption"


_INSERT_EVENT = RawStatement(
    "INSERT INTO sync_events (kind, mykey_id, business_id, street_id, ref, created_at)"
    " VALUES (:kind, :mykey_id, :business_id, :street_id, :ref, :created_at)"
)


def record_event(
    conn: Connection,
    kind: EventKind,
    now: datetime,
    *,
    mykey_id: str | None = None,
    business_id: str | None = None,
    street_id: str | None = None,
    ref: str | None = None,
) -> None:
    """Append one change to the feed."""
    _INSERT_EVENT.run(
        conn,
        {
            "kind": kind.value,
            "mykey_id": mykey_id,
            "business_id": business_id,
            "street_id": street_id,
            "ref": ref,
            "created_at": now,
        },
    )
