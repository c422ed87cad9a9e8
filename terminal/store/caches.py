"""What the terminal knows for offline work (cards, balances, service IDs, programs, voucher keys,
redemptions, revocation), the sync cursor and state, and small UI settings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sync.protocol import (
    Balance,
    BusinessInfo,
    GrantProgramInfo,
    LookupResponse,
    ProgramSettings,
    PullResponse,
    RevocationInfo,
    TransactionKind,
    VoucherKey,
)
from terminal.store.db import StoreBase, from_iso, iso
from terminal.store.outbox import OutboxState

if TYPE_CHECKING:
    import sqlite_utils

T = TypeVar("T")


@dataclass(frozen=True)
class CachedCard:
    """A card as last seen: status, balances here, member number, and where that came from."""

    mykey_id: str
    status: str
    balances: list[Balance]
    customer_id: str | None
    version: str  # "pull:<cursor>", "lookup:<iso time>" or "result:<iso time>"
    updated_at: datetime


@dataclass(frozen=True)
class SyncState:
    """How far sync got, and what went wrong last."""

    cursor: str | None
    last_pull_server_time: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    revocation: RevocationInfo | None
    revocation_received_at: datetime | None


def _put_card(
    db: sqlite_utils.Database,
    mykey_id: str,
    status: str,
    balances: list[Balance],
    version: str,
    at: datetime,
) -> None:
    """Upsert the card and replace its balances."""
    db.table("cards").upsert(
        {"mykey_id": mykey_id, "status": status, "version": version, "updated_at": iso(at)},
        pk="mykey_id",
    )
    db.execute("DELETE FROM balances WHERE mykey_id = ?", (mykey_id,))
    db.table("balances").insert_all(
        {
            "mykey_id": mykey_id,
            "program_id": b.program_id,
            "points": b.points,
            "overdraft": b.overdraft,
            "balance_json": b.model_dump_json(),
        }
        for b in balances
    )


def _put_link(
    db: sqlite_utils.Database,
    fingerprint: str,
    issuer: str,
    serial: str,
    mykey_id: str,
    certificate: bytes | None,
) -> None:
    record: dict[str, Any] = {
        "fingerprint": fingerprint,
        "issuer": issuer,
        "serial": serial,
        "mykey_id": mykey_id,
    }
    if certificate is not None:
        record["certificate"] = certificate
    db.table("card_links").upsert(record, pk="fingerprint")


class CacheMixin(StoreBase):
    """Cache, sync-state and settings methods of :class:`terminal.store.TerminalStore`."""

    def apply_pull(self, pull: PullResponse, *, received_at: datetime) -> None:
        """Apply one pull in one commit: cards, links, service IDs and redemptions merged;
        revocation, voucher keys and programs replaced; cursor and sync state advanced."""
        version = f"pull:{pull.cursor}"
        with self._write() as db:
            for card in pull.cards:
                _put_card(db, card.mykey_id, card.status, card.balances, version, received_at)
                for link in card.certificates:
                    _put_link(
                        db, link.fingerprint_sha256, link.issuer, link.serial, link.mykey_id, None
                    )
            db.table("service_ids").upsert_all(
                ({"mykey_id": s.mykey_id, "customer_id": s.customer_id} for s in pull.service_ids),
                pk="mykey_id",
            )
            db.table("redemptions").insert_all(
                (
                    {
                        "voucher_number": r.voucher_number,
                        "business_id": r.business_id,
                        "redeemed_at": iso(r.redeemed_at),
                    }
                    for r in pull.redemptions
                ),
                ignore=True,
            )
            db.execute("DELETE FROM voucher_keys")
            db.table("voucher_keys").insert_all(k.model_dump() for k in pull.voucher_keys)
            db.execute("DELETE FROM programs")
            db.table("programs").insert_all(
                {"program_id": p.program_id, "settings_json": p.model_dump_json()}
                for p in pull.programs
            )
            db.execute("DELETE FROM grant_programs")
            db.table("grant_programs").insert_all(
                {"grant_program_id": g.grant_program_id, "info_json": g.model_dump_json()}
                for g in pull.grant_programs
            )
            if pull.business is not None:
                db.execute(
                    "UPDATE sync_state SET business_json = ? WHERE id = 1",
                    (pull.business.model_dump_json(),),
                )
            db.execute(
                "UPDATE sync_state SET cursor = ?, last_pull_server_time = ?, "
                "last_success_at = ?, last_error = NULL, last_error_at = NULL, "
                "revocation_json = ?, revocation_received_at = ? WHERE id = 1",
                (
                    pull.cursor,
                    iso(pull.server_time),
                    iso(received_at),
                    pull.revocation.model_dump_json(),
                    iso(received_at),
                ),
            )

    def sync_cursor(self) -> str | None:
        """The cursor to pass to the next pull (None before the first)."""
        record = self._one("SELECT cursor FROM sync_state WHERE id = 1")
        return None if record is None else record["cursor"]

    def remember_lookup(
        self,
        certificate_der: bytes,
        fingerprint: str,
        issuer: str,
        serial: str,
        lookup: LookupResponse,
        *,
        at: datetime,
    ) -> None:
        """Cache an online look-up (link, status, balances, member number); an unregistered card
        is not cached."""
        if lookup.mykey_id is None or lookup.status == "unregistered":
            return
        with self._write() as db:
            _put_link(db, fingerprint, issuer, serial, lookup.mykey_id, certificate_der)
            _put_card(db, lookup.mykey_id, lookup.status, lookup.balances, f"lookup:{iso(at)}", at)
            if lookup.customer_id is not None:
                db.table("service_ids").upsert(
                    {"mykey_id": lookup.mykey_id, "customer_id": lookup.customer_id},
                    pk="mykey_id",
                )

    def card_by_fingerprint(self, fingerprint: str) -> CachedCard | None:
        """The cached card whose certificate has this SHA-256 fingerprint."""
        record = self._one(
            "SELECT c.*, s.customer_id FROM card_links l JOIN cards c USING (mykey_id) "
            "LEFT JOIN service_ids s USING (mykey_id) WHERE l.fingerprint = ?",
            (fingerprint,),
        )
        if record is None:
            return None
        balances = self._query(
            "SELECT balance_json FROM balances WHERE mykey_id = ? ORDER BY program_id",
            (record["mykey_id"],),
        )
        updated = from_iso(record["updated_at"])
        assert updated is not None
        return CachedCard(
            mykey_id=record["mykey_id"],
            status=record["status"],
            balances=[Balance.model_validate_json(b["balance_json"]) for b in balances],
            customer_id=record["customer_id"],
            version=record["version"],
            updated_at=updated,
        )

    def set_balance(
        self, mykey_id: str, program_id: int, points: int, overdraft: int, *, at: datetime
    ) -> None:
        """Store a balance the server just answered with (version "result:<at>")."""
        with self._write() as db:
            version = f"result:{iso(at)}"
            known = self._one(
                "SELECT balance_json FROM balances WHERE mykey_id = ? AND program_id = ?",
                (mykey_id, program_id),
            )
            if known is not None:
                old = Balance.model_validate_json(known["balance_json"])
                balance = old.model_copy(update={"points": points, "overdraft": overdraft})
            else:
                program = self.program(program_id)
                balance = Balance(
                    program_id=program_id,
                    program_name=program.name if program else "",
                    points=points,
                    overdraft=overdraft,
                    nearest_expiry=None,
                    lots=[],
                )
            db.table("balances").upsert(
                {
                    "mykey_id": mykey_id,
                    "program_id": program_id,
                    "points": points,
                    "overdraft": overdraft,
                    "balance_json": balance.model_dump_json(),
                },
                pk=("mykey_id", "program_id"),
            )
            db.execute(
                "INSERT INTO cards (mykey_id, status, version, updated_at) "
                "VALUES (?, 'active', ?, ?) ON CONFLICT (mykey_id) DO UPDATE SET "
                "version = excluded.version, updated_at = excluded.updated_at",
                (mykey_id, version, iso(at)),
            )

    def service_id(self, mykey_id: str) -> str | None:
        """This business's member number for the card, if known."""
        record = self._one("SELECT customer_id FROM service_ids WHERE mykey_id = ?", (mykey_id,))
        return None if record is None else record["customer_id"]

    def set_service_id(self, mykey_id: str, customer_id: str) -> None:
        """Remember a member number linked here."""
        with self._write() as db:
            db.table("service_ids").upsert(
                {"mykey_id": mykey_id, "customer_id": customer_id}, pk="mykey_id"
            )

    def program(self, program_id: int) -> ProgramSettings | None:
        """A program's settings as last pulled."""
        record = self._one("SELECT settings_json FROM programs WHERE program_id = ?", (program_id,))
        return (
            None if record is None else ProgramSettings.model_validate_json(record["settings_json"])
        )

    def programs(self) -> list[ProgramSettings]:
        """All programs usable here, by ID."""
        records = self._query("SELECT settings_json FROM programs ORDER BY program_id")
        return [ProgramSettings.model_validate_json(r["settings_json"]) for r in records]

    def grant_programs(self) -> list[GrantProgramInfo]:
        """The municipality's grant programs as last pulled (for the grant desk), by ID."""
        records = self._query("SELECT info_json FROM grant_programs ORDER BY grant_program_id")
        return [GrantProgramInfo.model_validate_json(r["info_json"]) for r in records]

    def business(self) -> BusinessInfo | None:
        """This terminal's business and street by name, as last pulled (None before a pull)."""
        record = self._one("SELECT business_json FROM sync_state WHERE id = 1")
        text = None if record is None else record["business_json"]
        return None if text is None else BusinessInfo.model_validate_json(text)

    def voucher_keys(self) -> list[VoucherKey]:
        """The street's voucher-signing keys."""
        records = self._query(
            "SELECT terminal_id, business_id, public_key FROM voucher_keys ORDER BY terminal_id"
        )
        return [VoucherKey.model_validate(r) for r in records]

    def is_redeemed(self, voucher_number: str) -> bool:
        """True if the street's list has it, or this terminal redeemed it (and was not refused)."""
        street = self._one(
            "SELECT 1 AS hit FROM redemptions WHERE voucher_number = ?", (voucher_number,)
        )
        if street is not None:
            return True
        here = self._one(
            "SELECT 1 AS hit FROM outbox WHERE kind = ? AND state != ? "
            "AND json_extract(tx_json, '$.payload.number') = ? LIMIT 1",
            (TransactionKind.VOUCHER_REDEEM.value, OutboxState.REJECTED.value, voucher_number),
        )
        return here is not None

    # --- sync state

    def sync_state(self) -> SyncState:
        """Cursor, last success and error, and the revocation snapshot."""
        record = self._one("SELECT * FROM sync_state WHERE id = 1")
        assert record is not None
        revocation_json = record["revocation_json"]
        revocation = (
            None if revocation_json is None else RevocationInfo.model_validate_json(revocation_json)
        )
        return SyncState(
            cursor=record["cursor"],
            last_pull_server_time=from_iso(record["last_pull_server_time"]),
            last_success_at=from_iso(record["last_success_at"]),
            last_error=record["last_error"],
            last_error_at=from_iso(record["last_error_at"]),
            revocation=revocation,
            revocation_received_at=from_iso(record["revocation_received_at"]),
        )

    def record_sync_success(self, at: datetime) -> None:
        """A push or pull succeeded at ``at`` (local clock); the last error is cleared."""
        with self._write() as db:
            db.execute(
                "UPDATE sync_state SET last_success_at = ?, last_error = NULL, "
                "last_error_at = NULL WHERE id = 1",
                (iso(at),),
            )

    def record_sync_error(self, message: str, at: datetime) -> None:
        """Sync failed: ``message`` in plain words for the screen."""
        with self._write() as db:
            db.execute(
                "UPDATE sync_state SET last_error = ?, last_error_at = ? WHERE id = 1",
                (message, iso(at)),
            )

    # --- settings

    def setting(self, key: str, default: T) -> T:
        """A stored UI setting (JSON), or ``default``."""
        record = self._one("SELECT value_json FROM settings WHERE key = ?", (key,))
        if record is None:
            return default
        value: T = json.loads(record["value_json"])
        return value

    def set_setting(self, key: str, value: object) -> None:
        """Store a UI setting (anything JSON can hold)."""
        with self._write() as db:
            db.table("settings").upsert(
                {"key": key, "value_json": json.dumps(value, ensure_ascii=False)}, pk="key"
            )

    def advance_counter(self, key: str, count: int, maximum: int) -> int | None:
        """Advance the durable counter ``key`` (a setting, 0 when new) by ``count`` in one write
        transaction; its value before, or None, changing nothing, when it would pass ``maximum``.
        """
        with self._write() as db:
            rows = db.execute("SELECT value_json FROM settings WHERE key = ?", (key,)).fetchall()
            last = int(json.loads(rows[0][0])) if rows else 0
            if last + count > maximum:
                return None
            db.execute(
                "INSERT INTO settings (key, value_json) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json",
                (key, json.dumps(last + count)),
            )
        return last
