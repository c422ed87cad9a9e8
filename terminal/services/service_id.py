"""Service ID link (サービスID登録): this business's member / patron number joined to the
holder's MyKey ID, confirmed by the card (PIN). Offline it is queued and cached at once."""

from __future__ import annotations

from cardio.jpki import JpkiSession
from sync.protocol import CardAuthorisation, Role, ServiceIdLink, Transaction, b64encode, uuid7
from terminal.errors import TerminalError
from terminal.services.counter import CardHolder, Counter
from terminal.services.submit import Outcome, queued_offline, submit

MAX_CUSTOMER_ID = 32


class InvalidCustomerIdError(TerminalError):
    """The typed member number is empty or too long."""

    code = "invalid-customer-id"
    message_ja = "会員番号を正しく入力してください（1〜32文字）。"
    message_en = "Enter the member number (1 to 32 characters)."


def link_service_id(
    counter: Counter, session: JpkiSession, holder: CardHolder, customer_id: str
) -> Outcome:
    """Link ``customer_id`` to the holder (whose PIN was verified in ``session``)."""
    counter.require_role(Role.OFFICE, Role.LIBRARY, Role.SHOP)
    customer_id = customer_id.strip()
    if not 1 <= len(customer_id) <= MAX_CUSTOMER_ID or not customer_id.isprintable():
        raise InvalidCustomerIdError(f"{len(customer_id)} characters")
    mykey_id = holder.require_active()
    now = counter.clock()
    tx = Transaction(
        id=uuid7(now),
        terminal_id=counter.identity.terminal_id,
        business_id=counter.identity.business_id,
        terminal_time=now,
        offline=not holder.online,
        payload=ServiceIdLink(customer_id=customer_id),
        card=CardAuthorisation(certificate=b64encode(holder.certificate_der)),
    )
    outcome = submit(
        counter,
        tx,
        session=session,
        mykey_id=mykey_id,
        program_id=None,
        points=0,
        offline_fallback=queued_offline(
            "登録を受け付けました。通信が戻ると反映されます。",
            "Link accepted; it is applied when the network is back.",
        ),
    )
    if outcome.done:
        counter.store.set_service_id(mykey_id, customer_id)
    return outcome
