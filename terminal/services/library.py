"""Library look-up (図書館): the card as a member card. The patron number is shown; no PIN by
default (as libraries do today), a PIN when the business's setting asks for it."""

from __future__ import annotations

from cardio.auth import PinPrompt
from cardio.jpki import JpkiSession
from cardio.secrets import Pin
from sync.protocol import Role
from terminal.services.counter import CardHolder, Counter, prove_pin, read_card, resolve_holder

#: local setting: ask for the PIN at the library counter
LIBRARY_PIN_SETTING = "library_pin_required"


def library_pin_required(counter: Counter) -> bool:
    """Whether this library asks for the PIN before showing the patron number."""
    return bool(counter.store.setting(LIBRARY_PIN_SETTING, False))


def library_lookup(
    counter: Counter, session: JpkiSession, pin: Pin | PinPrompt | None = None
) -> CardHolder:
    """Read the card (PIN when required or given) and resolve its patron number here.

    ``holder.customer_id`` is None when no patron number is linked: offer to link one
    (``service_id.link_service_id``, with the PIN).
    """
    counter.require_role(Role.LIBRARY)
    card = read_card(counter, session)
    if pin is None and library_pin_required(counter):
        raise ValueError("this library requires the PIN")
    authenticated = None if pin is None else prove_pin(session, card, pin)
    return resolve_holder(counter, card, authenticated)
