"""Grant (ポイント付与) at a municipal desk: a card tap grants a grant program's points, no PIN.

In attendance mode (an ``event`` name) each card is granted once per event: the tap is recorded
with the outbox row in one local transaction, and the server enforces the same rule.
"""

from __future__ import annotations

from cardio.jpki import JpkiSession
from sync.protocol import CardAuthorisation, Grant, Role, Transaction, b64encode, uuid7
from terminal.errors import InvalidAmountError
from terminal.services.counter import Counter, read_card
from terminal.services.submit import Outcome, queued_offline, submit
from terminal.store import Tap

QUEUED_JA = "付与を受け付けました。通信が戻ると反映されます。"
QUEUED_EN = "Grant accepted; it is applied when the network is back."


def grant_points(
    counter: Counter,
    session: JpkiSession,
    grant_program_id: int,
    *,
    points: int | None = None,
    event: str | None = None,
) -> Outcome:
    """Read and check the card, then grant (the program's default points when ``points`` is
    None; the row records them from the synced grant programs). Offline, the grant is queued:
    it only adds points, the server checks it at sync."""
    counter.require_role(Role.MUNICIPAL)
    if points is not None and (isinstance(points, bool) or points < 1):
        raise InvalidAmountError(repr(points))
    card = read_card(counter, session)
    now = counter.clock()
    tx = Transaction(
        id=uuid7(now),
        terminal_id=counter.identity.terminal_id,
        business_id=counter.identity.business_id,
        terminal_time=now,
        payload=Grant(grant_program_id=grant_program_id, points=points, event=event),
        card=CardAuthorisation(certificate=b64encode(card.certificate_der)),
    )
    cached = counter.store.card_by_fingerprint(card.ref.fingerprint_sha256)
    program = next(
        (g for g in counter.store.grant_programs() if g.grant_program_id == grant_program_id), None
    )
    tap = None if event is None else Tap(event, grant_program_id, card.ref.fingerprint_sha256)
    return submit(
        counter,
        tx,
        session=None,
        mykey_id=None if cached is None else cached.mykey_id,
        program_id=None if program is None else program.program_id,
        points=points or (0 if program is None else program.default_points),
        offline_fallback=queued_offline(QUEUED_JA, QUEUED_EN),
        tap=tap,
    )
