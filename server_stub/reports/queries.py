"""The three operator reports, read straight from the ledger tables (read-only).

- issuance: points granted per JST month, department (担当課) and grant program (付与事業),
  split ordinary (通常分) / premium (プレミアム分);
- settlement: per business per JST month and point program, point uses and voucher redemptions
  (counts and points) — what the municipality pays the business (1 pt = 1 yen);
- history: one resident's movements as the "my page" shows them, with the balance after each.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, or_, select

from server_stub.clock import jst_date
from server_stub.db.schema import (
    accounts,
    businesses,
    grant_programs,
    legs,
    mykey_ids,
    point_programs,
    terminals,
    transactions,
    transfers,
)
from server_stub.reports.output import Report
from server_stub.reports.period import Month, months, to_jst

ISSUANCE_COLUMNS = (
    ("month", "月 / month"),
    ("program_id", "ポイントID / program ID"),
    ("program", "ポイント / point program"),
    ("department", "担当課 / department"),
    ("grant_program_id", "付与事業ID / grant program ID"),
    ("grant_program", "付与事業 / grant program"),
    ("grants", "付与件数 / grants"),
    ("ordinary_points", "通常分 / ordinary points"),
    ("premium_points", "プレミアム分 / premium points"),
    ("total_points", "合計 / total points"),
)

SETTLEMENT_COLUMNS = (
    ("month", "月 / month"),
    ("business_id", "事業者ID / business ID"),
    ("business", "事業者名 / business"),
    ("street_id", "商店街ID / street ID"),
    ("program_id", "ポイントID / program ID"),
    ("program", "ポイント / point program"),
    ("uses", "利用件数 / uses"),
    ("use_points", "利用ポイント / use points"),
    ("redemptions", "ポイント券消込件数 / voucher redemptions"),
    ("redemption_points", "ポイント券消込ポイント / redeemed points"),
    ("total_points", "精算額(円) / amount to settle (yen)"),
)

TERMINAL_COLUMNS = (
    ("terminal_id", "端末ID / terminal ID"),
    ("business_id", "事業者ID / business ID"),
    ("business", "事業者名 / business"),
    ("roles", "役割 / roles"),
    ("status", "状態 / status"),
    ("enrolled_at", "登録日時 / enrolled (JST)"),
    ("last_seen_at", "最終通信 / last request (JST)"),
    ("last_sync_at", "最終同期 / last sync (JST)"),
    ("transactions", "取引件数 / transactions"),
    ("offline", "オフライン取引 / offline"),
    ("accepted_offline", "残高不足のオフライン承認 / accepted with overdraft"),
    ("rejected", "拒否 / rejected"),
    ("conflicts", "競合 / conflicts"),
)

HISTORY_COLUMNS = (
    ("date", "日付 / date"),
    ("kind", "区分 / kind"),
    ("program", "ポイント / program"),
    ("description", "付与事業・利用場所 / grant or place"),
    ("points", "ポイント / points"),
    ("balance", "残高 / balance after"),
)

#: transfer kind -> the kind the "my page" prints
HISTORY_KINDS = {
    "grant": "付与",
    "use": "利用",
    "voucher_reserve": "利用",
    "voucher_void": "付与",
    "voucher_post": "利用",  # only after a void: a voucher used in time, synced late
    "expiry": "失効",
    "conversion": "合算",
}


def issuance(conn: Connection, first: Month, last: Month | None = None) -> Report:
    """Monthly issuance by department and grant program, ordinary/premium split."""
    rows: list[dict[str, Any]] = []
    is_premium = grant_programs.c.category == "premium"
    ordinary = func.sum(case((is_premium, 0), else_=transfers.c.points))
    premium = func.sum(case((is_premium, transfers.c.points), else_=0))
    keys = (
        point_programs.c.id,
        point_programs.c.name,
        grant_programs.c.department,
        grant_programs.c.id,
        grant_programs.c.name,
    )
    for month in months(first, last or first):
        start, end = month.bounds_utc()
        query = (
            select(*keys, func.count(transfers.c.id), ordinary, premium)
            .select_from(
                transfers.join(
                    point_programs, point_programs.c.id == transfers.c.program_id
                ).outerjoin(grant_programs, grant_programs.c.id == transfers.c.grant_program_id)
            )
            .where(
                transfers.c.kind == "grant",
                transfers.c.created_at >= start,
                transfers.c.created_at < end,
            )
            .group_by(*keys)
            .order_by(point_programs.c.id, grant_programs.c.department, grant_programs.c.id)
        )
        for pid, pname, dept, gid, gname, count, ordinary_pts, premium_pts in conn.execute(query):
            rows.append(
                {
                    "month": str(month),
                    "program_id": pid,
                    "program": pname,
                    "department": dept or "",
                    "grant_program_id": gid,
                    "grant_program": gname or "(付与事業なし / none)",
                    "grants": int(count),
                    "ordinary_points": int(ordinary_pts or 0),
                    "premium_points": int(premium_pts or 0),
                    "total_points": int(ordinary_pts or 0) + int(premium_pts or 0),
                }
            )
    return Report("issuance", ISSUANCE_COLUMNS, rows)


def settlement(
    conn: Connection, first: Month, last: Month | None = None, business_id: str | None = None
) -> Report:
    """Settlement per business per month and program: uses and voucher redemptions."""
    rows: list[dict[str, Any]] = []
    is_use = transfers.c.kind == "use"
    is_redeem = transfers.c.kind == "voucher_post"
    keys = (
        businesses.c.id,
        businesses.c.name,
        businesses.c.street_id,
        point_programs.c.id,
        point_programs.c.name,
    )
    for month in months(first, last or first):
        start, end = month.bounds_utc()
        conditions = [
            or_(is_use, is_redeem),
            transfers.c.created_at >= start,
            transfers.c.created_at < end,
        ]
        if business_id:
            conditions.append(transfers.c.business_id == business_id)
        query = (
            select(
                *keys,
                func.sum(case((is_use, 1), else_=0)),
                func.sum(case((is_use, transfers.c.points), else_=0)),
                func.sum(case((is_redeem, 1), else_=0)),
                func.sum(case((is_redeem, transfers.c.points), else_=0)),
            )
            .select_from(
                transfers.join(businesses, businesses.c.id == transfers.c.business_id).join(
                    point_programs, point_programs.c.id == transfers.c.program_id
                )
            )
            .where(and_(*conditions))
            .group_by(*keys)
            .order_by(businesses.c.id, point_programs.c.id)
        )
        for bid, bname, street, pid, pname, uses, use_pts, reds, red_pts in conn.execute(query):
            rows.append(
                {
                    "month": str(month),
                    "business_id": bid,
                    "business": bname,
                    "street_id": street or "",
                    "program_id": pid,
                    "program": pname,
                    "uses": int(uses or 0),
                    "use_points": int(use_pts or 0),
                    "redemptions": int(reds or 0),
                    "redemption_points": int(red_pts or 0),
                    "total_points": int(use_pts or 0) + int(red_pts or 0),
                }
            )
    return Report("settlement", SETTLEMENT_COLUMNS, rows)


def terminals_report(conn: Connection) -> Report:
    """Every terminal: status, last request and sync (JST), and what it sent: transactions,
    offline ones, offline acceptances with overdraft, refusals and conflicts."""
    tx = transactions

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    keys = (
        terminals.c.id,
        terminals.c.business_id,
        businesses.c.name,
        terminals.c.roles,
        terminals.c.status,
        terminals.c.enrolled_at,
        terminals.c.last_seen_at,
        terminals.c.last_pull_at,
    )
    query = (
        select(
            *keys,
            func.count(tx.c.id),
            count(tx.c.offline.is_(True)),
            count(tx.c.status == "accepted_offline"),
            count(tx.c.status == "rejected"),
            count(tx.c.status == "conflict"),
        )
        .select_from(
            terminals.join(businesses, businesses.c.id == terminals.c.business_id).outerjoin(
                tx, tx.c.terminal_id == terminals.c.id
            )
        )
        .group_by(*keys)
        .order_by(terminals.c.business_id, terminals.c.id)
    )
    rows = [
        {
            "terminal_id": r[0],
            "business_id": r[1],
            "business": r[2],
            "roles": r[3],
            "status": r[4],
            "enrolled_at": _jst_text(r[5]),
            "last_seen_at": _jst_text(r[6]),
            "last_sync_at": _jst_text(r[7]),
            "transactions": int(r[8]),
            "offline": int(r[9]),
            "accepted_offline": int(r[10]),
            "rejected": int(r[11]),
            "conflicts": int(r[12]),
        }
        for r in conn.execute(query)
    ]
    return Report("terminals", TERMINAL_COLUMNS, rows)


def _jst_text(moment: datetime | None) -> str:
    return "" if moment is None else to_jst(moment).strftime("%Y-%m-%d %H:%M:%S")


def history(conn: Connection, mykey_id: str, program_id: int | None = None) -> Report:
    """A resident's movements, oldest first, with the balance after each (per program).

    The balance is what the resident can see: the account balance less any offline overdraft
    still owed, so it may be negative after an offline acceptance.
    """
    owner = conn.execute(
        select(mykey_ids.c.id).where(mykey_ids.c.id_folded == mykey_id.lower())
    ).scalar_one_or_none()
    if owner is None:
        return Report("history", HISTORY_COLUMNS, [])
    # the resident's share of each transfer: the resident leg plus the overdraft leg (the
    # overdraft account goes negative by what the resident owes)
    signed = legs.c.amount
    conditions = [accounts.c.owner == owner, accounts.c.kind.in_(("resident", "overdraft"))]
    if program_id is not None:
        conditions.append(accounts.c.program_id == program_id)
    place = func.coalesce(grant_programs.c.name, businesses.c.name, literal(""))
    keys = (
        transfers.c.id,
        transfers.c.created_at,
        transfers.c.kind,
        point_programs.c.id,
        point_programs.c.name,
        place,
        transfers.c.voucher_number,
    )
    query = (
        select(*keys, func.sum(signed))
        .select_from(
            legs.join(accounts, accounts.c.id == legs.c.account_id)
            .join(transfers, transfers.c.id == legs.c.transfer_id)
            .join(point_programs, point_programs.c.id == transfers.c.program_id)
            .outerjoin(grant_programs, grant_programs.c.id == transfers.c.grant_program_id)
            .outerjoin(businesses, businesses.c.id == transfers.c.business_id)
        )
        .where(*conditions)
        .group_by(*keys)
        .order_by(transfers.c.id)
    )
    balances: dict[int, int] = defaultdict(int)
    rows: list[dict[str, Any]] = []
    for _tid, created, kind, pid, pname, where, voucher, amount in conn.execute(query):
        change = int(amount or 0)
        balances[pid] += change
        rows.append(
            {
                "date": jst_date(created).isoformat(),
                "kind": HISTORY_KINDS.get(kind, kind),
                "program": pname,
                "description": _describe(kind, where, voucher),
                "points": change,
                "balance": balances[pid],
            }
        )
    return Report("history", HISTORY_COLUMNS, rows)


def _describe(kind: str, where: str, voucher: str | None) -> str:
    if kind == "voucher_reserve":
        return f"ポイント券発行 No.{voucher} ({where})" if voucher else f"ポイント券発行 ({where})"
    if kind == "voucher_void":
        return f"ポイント券期限切れ返還 No.{voucher}" if voucher else "ポイント券期限切れ返還"
    if kind == "voucher_post":
        return f"ポイント券利用（期限後に精算） No.{voucher} ({where})"
    if kind == "expiry":
        return "有効期限切れ"
    return where


__all__ = ["history", "issuance", "settlement", "terminals_report"]
