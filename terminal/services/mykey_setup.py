"""MyKey ID set-up (マイキーID設定) at the office: online only. The resident picks an ID (checked
for uniqueness, candidates offered); the card signs a server challenge inside the transaction."""

from __future__ import annotations

from cardio.jpki import JpkiSession
from sync.protocol import (
    MYKEY_ID_PATTERN,
    AvailabilityResponse,
    CardAuthorisation,
    LedgerRefusedError,
    LedgerUnreachableError,
    MyKeySetup,
    Role,
    Transaction,
    b64encode,
    uuid7,
)
from terminal.errors import ServerRefusedError, ServerUnreachableError, TerminalError
from terminal.services.counter import CardHolder, Counter
from terminal.services.submit import Outcome, submit


class MyKeyAlreadySetError(TerminalError):
    """The card already has a MyKey ID."""

    code = "mykey-id-already-set"
    message_ja = "このカードにはすでにマイキーIDが設定されています。"
    message_en = "This card already has a MyKey ID."


class InvalidMyKeyIdError(TerminalError):
    """Not 4–16 ASCII letters or digits."""

    code = "invalid-mykey-id"
    message_ja = "マイキーIDは半角英数字4〜16文字で入力してください。"
    message_en = "A MyKey ID is 4 to 16 letters or digits."


def check_mykey_id(counter: Counter, mykey_id: str) -> AvailabilityResponse:
    """Is ``mykey_id`` free? Candidates when it is not (online only)."""
    counter.require_role(Role.OFFICE)
    if not MYKEY_ID_PATTERN.match(mykey_id):
        raise InvalidMyKeyIdError(repr(mykey_id))
    try:
        return counter.ledger.mykey_availability(mykey_id)
    except LedgerUnreachableError as error:
        raise ServerUnreachableError(str(error)) from error
    except LedgerRefusedError as error:
        raise ServerRefusedError(error.code, error.title_ja, error.title_en) from error


def setup_mykey(
    counter: Counter, session: JpkiSession, holder: CardHolder, mykey_id: str
) -> Outcome:
    """Create ``mykey_id`` bound to the holder's card (PIN verified in ``session``)."""
    counter.require_role(Role.OFFICE)
    if not MYKEY_ID_PATTERN.match(mykey_id):
        raise InvalidMyKeyIdError(repr(mykey_id))
    if not holder.online:
        raise ServerUnreachableError("MyKey ID set-up needs the server")
    if holder.mykey_id is not None and holder.status != "unregistered":
        raise MyKeyAlreadySetError(holder.mykey_id)
    try:
        challenge = counter.ledger.mykey_challenge()
    except LedgerUnreachableError as error:
        raise ServerUnreachableError(str(error)) from error
    except LedgerRefusedError as error:
        raise ServerRefusedError(error.code, error.title_ja, error.title_en) from error
    now = counter.clock()
    tx = Transaction(
        id=uuid7(now),
        terminal_id=counter.identity.terminal_id,
        business_id=counter.identity.business_id,
        terminal_time=now,
        payload=MyKeySetup(mykey_id=mykey_id, challenge=challenge.challenge),
        card=CardAuthorisation(certificate=b64encode(holder.certificate_der)),
    )
    return submit(
        counter,
        tx,
        session=session,
        mykey_id=mykey_id,
        program_id=None,
        points=0,
        offline_fallback=None,
    )
