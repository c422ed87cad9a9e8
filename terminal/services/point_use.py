"""Point use at the counter (お会計): the card holder spends points of one program here.

Flow (DOMAIN.md §7): the holder was read, PIN-verified and resolved (``counter.resolve_holder``);
the clerk enters points; offline, the policy is judged BEFORE the card signs, so a refusal costs
the customer nothing; then ``submit`` signs, stores and authorises.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from cardio.jpki import JpkiSession
from sync.protocol import CardAuthorisation, PointUse, Role, Transaction, b64encode, uuid7
from terminal.errors import (
    InsufficientBalanceError,
    InvalidAmountError,
    ProgramNotAcceptedError,
)
from terminal.offline import OfflineDecision, OfflineFacts, decide_point_use
from terminal.services.counter import CardHolder, Counter
from terminal.services.submit import Outcome, submit

JST = ZoneInfo("Asia/Tokyo")


def jst_day_start(at: datetime) -> datetime:
    """Midnight (JST) of the day ``at`` falls on, as an aware datetime."""
    return datetime.combine(at.astimezone(JST).date(), time(0), JST)


def offline_decision(
    counter: Counter, holder: CardHolder, program_id: int, points: int
) -> OfflineDecision:
    """Would the offline policy accept ``points`` of ``program_id`` from this holder now?"""
    now = counter.clock()
    state = counter.store.sync_state()
    revocation = counter.revocation()
    balance = holder.balance(program_id)
    day = jst_day_start(now)
    known = holder.mykey_id is not None
    facts = OfflineFacts(
        now=now,
        last_sync_at=state.last_pull_server_time,
        revocation_age=None if revocation is None else revocation.age(now),
        card_known=known,
        usable_balance=None if balance is None else balance.points,
        used_by_card_today=counter.store.offline_points(
            since=day, until=day + timedelta(days=1), mykey_id=holder.mykey_id
        )
        if known
        else 0,
        used_since_sync=counter.store.offline_points(since=state.last_pull_server_time),
    )
    return decide_point_use(counter.offline_limits(program_id), facts, points)


def use_points(
    counter: Counter,
    session: JpkiSession,
    holder: CardHolder,
    program_id: int,
    points: int,
) -> Outcome:
    """Spend ``points`` of ``program_id``; the card (PIN verified in ``session``) signs it."""
    counter.require_role(Role.SHOP, Role.OFFICE)
    if isinstance(points, bool) or not isinstance(points, int) or points < 1:
        raise InvalidAmountError(repr(points))
    balance = holder.balance(program_id)
    mykey_id: str | None
    if holder.online:
        mykey_id = holder.require_active()
        if balance is None:
            raise ProgramNotAcceptedError(f"program {program_id}")
        if points > balance.points:
            raise InsufficientBalanceError(f"{points} > {balance.points}")
    else:
        # offline the server cannot say which programs are usable here: the synced list can
        if counter.store.program(program_id) is None or (
            holder.mykey_id is not None and balance is None
        ):
            raise ProgramNotAcceptedError(f"program {program_id} (offline)")
        offline_decision(counter, holder, program_id, points).raise_if_refused()
        mykey_id = None if holder.mykey_id is None else holder.require_active()
    now = counter.clock()
    tx = Transaction(
        id=uuid7(now),
        terminal_id=counter.identity.terminal_id,
        business_id=counter.identity.business_id,
        terminal_time=now,
        offline=not holder.online,
        payload=PointUse(program_id=program_id, points=points),
        card=CardAuthorisation(certificate=b64encode(holder.certificate_der)),
    )
    return submit(
        counter,
        tx,
        session=session,
        mykey_id=mykey_id,
        program_id=program_id,
        points=points,
        offline_fallback=lambda: offline_decision(counter, holder, program_id, points),
    )
