"""What terminals read: balances usable at a business, card look-up, and pull deltas."""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, func, or_, select, update

from cardio.auth import TrustStore
from server_stub import cards
from server_stub.catalog import Business, Program, programs_accepted_at
from server_stub.clock import as_utc
from server_stub.db.raw import RawStatement
from server_stub.db.schema import (
    accounts,
    business_cards,
    businesses,
    certificate_bindings,
    grant_programs,
    lots,
    mykey_ids,
    point_programs,
    service_ids,
    sync_events,
    terminals,
    vouchers,
)
from server_stub.errors import InvalidInputError
from server_stub.events import EventKind
from server_stub.posting import AccountKind
from server_stub.snapshot import revocation_info
from sync.protocol import (
    Balance,
    BusinessInfo,
    CardLink,
    CardState,
    GrantProgramInfo,
    LookupRequest,
    LookupResponse,
    Lot,
    OfflineLimits,
    ProgramSettings,
    PullResponse,
    Redemption,
    ServiceIdEntry,
    VoucherKey,
    b64encode,
)


def balances_at(conn: Connection, mykey_id: str, programs: list[Program]) -> list[Balance]:
    """The resident's balances in ``programs`` (those usable at a business), with lots."""
    result = []
    for program in programs:
        rows = dict(
            conn.execute(
                select(accounts.c.kind, accounts.c.balance).where(
                    (accounts.c.program_id == program.id)
                    & (accounts.c.owner == mykey_id)
                    & accounts.c.kind.in_([AccountKind.RESIDENT.value, AccountKind.OVERDRAFT.value])
                )
            ).all()
        )
        if not rows:
            continue
        lot_rows = conn.execute(
            select(lots.c.expires_on, func.sum(lots.c.remaining))
            .join(accounts, accounts.c.id == lots.c.account_id)
            .where(
                (accounts.c.kind == AccountKind.RESIDENT.value)
                & (accounts.c.program_id == program.id)
                & (accounts.c.owner == mykey_id)
                & (lots.c.remaining > 0)
            )
            .group_by(lots.c.expires_on)
            .order_by(lots.c.expires_on)
        ).all()
        lot_list = [Lot(expires_on=row[0], points=int(row[1])) for row in lot_rows]
        result.append(
            Balance(
                program_id=program.id,
                program_name=program.name,
                points=int(rows.get(AccountKind.RESIDENT.value, 0)),
                overdraft=-int(rows.get(AccountKind.OVERDRAFT.value, 0)),
                nearest_expiry=lot_list[0].expires_on if lot_list else None,
                lots=lot_list,
            )
        )
    return result


#: Note that the card was seen at the business (its terminals cache it from now on).
REMEMBER_CARD = RawStatement(
    "INSERT INTO business_cards (business_id, mykey_id, first_seen_at)"
    " VALUES (:business_id, :mykey_id, :now) ON CONFLICT DO NOTHING"
)


def _customer_id(conn: Connection, mykey_id: str, business_id: str) -> str | None:
    value = conn.execute(
        select(service_ids.c.customer_id).where(
            (service_ids.c.mykey_id == mykey_id) & (service_ids.c.business_id == business_id)
        )
    ).scalar_one_or_none()
    return None if value is None else str(value)


def lookup(
    conn: Connection,
    request: LookupRequest,
    business: Business,
    trust: TrustStore | None,
    now: datetime,
) -> LookupResponse:
    """Certificate (or its reference) -> MyKey ID, status, balances here, service ID here."""
    der = request.certificate_der()
    if der is not None:
        ref = cards.check_card(conn, trust, der, now)
    elif request.certificate_ref is not None:
        given = request.certificate_ref
        ref = cards.CardRef(given.issuer, given.serial, given.fingerprint_sha256)
    else:
        raise InvalidInputError("give a certificate or a certificate reference")
    revoked = cards.is_revoked(conn, ref)
    mykey_id = cards.resolve_card(conn, ref, now)
    if mykey_id is None:
        return LookupResponse(
            mykey_id=None, status="unregistered", balances=[], customer_id=None, revoked=revoked
        )
    status = cards.mykey_status(conn, mykey_id)
    REMEMBER_CARD.run(conn, {"business_id": business.id, "mykey_id": mykey_id, "now": now})
    return LookupResponse(
        mykey_id=mykey_id,
        status=status,  # type: ignore[arg-type]
        balances=balances_at(conn, mykey_id, programs_accepted_at(conn, business)),
        customer_id=_customer_id(conn, mykey_id, business.id),
        revoked=revoked,
    )


def _card_state(conn: Connection, mykey_id: str, programs: list[Program]) -> CardState:
    status = conn.execute(select(mykey_ids.c.status).where(mykey_ids.c.id == mykey_id)).scalar_one()
    links = [
        CardLink(
            fingerprint_sha256=row.fingerprint_sha256,
            issuer=row.issuer,
            serial=row.serial,
            mykey_id=mykey_id,
        )
        for row in conn.execute(
            select(certificate_bindings).where(certificate_bindings.c.mykey_id == mykey_id)
        )
    ]
    return CardState(
        mykey_id=mykey_id,
        status=str(status),
        balances=balances_at(conn, mykey_id, programs),
        certificates=links,
    )


def parse_cursor(cursor: str | None) -> int:
    """A pull cursor (the last change-feed position seen), 0 for a first pull."""
    if cursor is None or cursor == "":
        return 0
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
        raise InvalidInputError(f"cursor {cursor!r}")
    return int(cursor)


def pull(
    conn: Connection,
    terminal_id: str,
    business: Business,
    cursor: int,
    signing_key: Ed25519PrivateKey,
    now: datetime,
    lag: timedelta,
) -> PullResponse:
    """Everything that changed for this terminal since ``cursor`` (all of it when 0)."""
    street = business.street
    # A first pull sends the whole state, so it needs no events, only the feed position.
    events = (
        conn.execute(
            select(sync_events).where(sync_events.c.id > cursor).order_by(sync_events.c.id)
        ).all()
        if cursor
        else []
    )
    settled = conn.execute(
        select(func.max(sync_events.c.id)).where(sync_events.c.created_at <= now - lag)
    ).scalar_one_or_none()
    new_cursor = max(cursor, int(settled or 0))
    cached = set(
        conn.execute(
            select(business_cards.c.mykey_id).where(business_cards.c.business_id == business.id)
        ).scalars()
    )
    service_query = select(service_ids).where(service_ids.c.business_id == business.id)
    if cursor == 0:
        card_ids = cached
    else:
        changed = {
            e.mykey_id
            for e in events
            if e.kind == EventKind.SERVICE_ID.value and e.business_id == business.id
        }
        touched = {
            e.mykey_id
            for e in events
            if e.kind in (EventKind.BALANCE.value, EventKind.CARD.value) and e.mykey_id
        }
        card_ids = (touched | changed) & cached
        service_query = service_query.where(service_ids.c.mykey_id.in_(changed))
    service_list = [
        ServiceIdEntry(mykey_id=row.mykey_id, customer_id=row.customer_id)
        for row in conn.execute(service_query.order_by(service_ids.c.mykey_id))
    ]
    redemptions: list[Redemption] = []
    if street is not None:
        query = select(vouchers).where(
            (vouchers.c.street_id == street) & (vouchers.c.status == "redeemed")
        )
        if cursor:
            numbers = {
                e.ref
                for e in events
                if e.kind == EventKind.REDEMPTION.value and e.street_id == street
            }
            query = query.where(vouchers.c.number.in_(numbers))
        redemptions = [
            Redemption(
                voucher_number=row.number,
                business_id=row.redeemer_business_id,
                redeemed_at=as_utc(row.redeemed_at),
            )
            for row in conn.execute(query.order_by(vouchers.c.number))
        ]
    conn.execute(
        update(terminals)
        .where(terminals.c.id == terminal_id)
        .values(last_pull_at=now, pull_cursor=new_cursor)
    )
    programs = programs_accepted_at(conn, business)
    return PullResponse(
        cursor=str(new_cursor),
        server_time=now,
        cards=[_card_state(conn, m, programs) for m in sorted(card_ids)],
        service_ids=service_list,
        revocation=revocation_info(conn, signing_key, now),
        voucher_keys=_voucher_keys(conn, street),
        redemptions=redemptions,
        programs=[_program_settings(p) for p in programs],
        grant_programs=_grant_programs(conn, business),
        business=_business_info(conn, business),
    )


def _grant_programs(conn: Connection, business: Business) -> list[GrantProgramInfo]:
    """The grant programs of the business's municipality."""
    rows = conn.execute(
        select(grant_programs)
        .join(point_programs, point_programs.c.id == grant_programs.c.program_id)
        .where(point_programs.c.municipality_code == business.municipality_code)
        .order_by(grant_programs.c.id)
    )
    return [
        GrantProgramInfo(
            grant_program_id=row.id,
            program_id=row.program_id,
            name=row.name,
            department=row.department,
            default_points=row.default_points,
            category=row.category,
        )
        for row in rows
    ]


def _business_info(conn: Connection, business: Business) -> BusinessInfo:
    street = business.street
    street_name = (
        None
        if street is None
        else conn.execute(select(businesses.c.name).where(businesses.c.id == street)).scalar()
    )
    return BusinessInfo(
        business_id=business.id,
        name=business.name,
        kind=business.kind,
        municipality_code=business.municipality_code,
        street_id=street,
        street_name=street_name,
    )


def _voucher_keys(conn: Connection, street: str | None) -> list[VoucherKey]:
    if street is None:
        return []
    rows = conn.execute(
        select(terminals)
        .join(businesses, businesses.c.id == terminals.c.business_id)
        .where(
            (terminals.c.status == "active")
            & or_(businesses.c.id == street, businesses.c.street_id == street)
        )
        .order_by(terminals.c.id)
    )
    keys = []
    for row in rows:
        if "office" not in str(row.roles).split(","):
            continue
        key = row.voucher_public_key or row.public_key
        keys.append(
            VoucherKey(
                terminal_id=row.id, business_id=row.business_id, public_key=b64encode(bytes(key))
            )
        )
    return keys


def _program_settings(program: Program) -> ProgramSettings:
    return ProgramSettings(
        program_id=program.id,
        municipality_code=program.municipality_code,
        name=program.name,
        kind=program.kind,  # type: ignore[arg-type]
        lot_validity_days=program.lot_validity_days,
        voucher_validity_days=program.voucher_validity_days,
        voucher_max_points=program.voucher_max_points,
        offline=OfflineLimits(
            max_per_transaction=program.offline_max_per_transaction,
            max_per_card_per_day=program.offline_max_per_card_per_day,
            max_per_terminal_since_sync=program.offline_max_per_terminal_since_sync,
            max_hours_without_sync=program.offline_max_hours_without_sync,
            max_revocation_age_hours=program.offline_max_revocation_age_hours,
        ),
    )
