"""The first card job most screens share: read and check the card, the PIN, who it is."""

from __future__ import annotations

from terminal.services.counter import CardHolder, Counter, read_card, resolve_holder
from ui.card_worker import CardContext, CardJob


def identify_job(counter: Counter, *, require_active: bool = True) -> CardJob:
    """A job returning the :class:`CardHolder` (PIN proven; active MyKey ID when online and
    ``require_active``)."""

    def identify(ctx: CardContext) -> CardHolder:
        ctx.stage("reading")
        card = read_card(counter, ctx.session)
        authenticated = ctx.prove_pin(card)
        ctx.stage("server")
        holder = resolve_holder(counter, card, authenticated)
        if holder.online and require_active:
            holder.require_active()
        return holder

    return identify
