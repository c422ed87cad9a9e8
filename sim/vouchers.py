"""The voucher steps of a run: issue at the street office (card and PIN, online only), reprint
an issue that sync later showed applied, and redeem printed vouchers at the street's shops or
the office, by QR payload or by typed number, now and then a voucher already redeemed (a second
redemption must be refused, or become a conflict naming both shops when both were offline)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from cardio.errors import CardError
from cardio.secrets import Pin
from cardio.virtual.card import Faults
from sim.kit import PIN, resident_id
from sim.terminals import TerminalCrashed
from terminal.errors import TerminalError
from terminal.services.counter import prove_pin, read_card, resolve_holder
from terminal.services.vouchers import (
    issue_vouchers,
    redeem_by_number,
    redeem_voucher,
    reprint_faces,
)
from terminal.store import OutboxState

if TYPE_CHECKING:
    from sim.world import World


@dataclass(frozen=True)
class Printed:
    """A voucher in a resident's hand: its number, points and QR payload."""

    number: str
    points: int
    payload: str


def step(world: World) -> None:
    """One voucher step: issue (35 %), redeem (55 %) or reprint (10 %)."""
    roll = world.rng.random()
    if roll < 0.35 or not world.printed:
        _issue(world)
    elif roll < 0.9:
        _redeem(world)
    else:
        _reprint(world)


def _issue(world: World) -> None:
    terminal = world.terminals["office"]
    key = terminal.spec.voucher_key
    assert key is not None, "the office enrolls with a voucher key"
    points = [world.rng.choice((100, 200, 500)) for _ in range(world.rng.randint(1, 3))]
    index, session, connection = world.card(Faults())
    label = f"voucher issue office {resident_id(index)} {points}"
    try:
        with terminal.acting():
            counter = terminal.counter
            card = read_card(counter, session)
            holder = resolve_holder(counter, card, prove_pin(session, card, Pin(PIN)))
            issued = issue_vouchers(
                counter, session, holder, world.kit.catalog.program_id, points, voucher_key=key
            )
    except TerminalCrashed as crash:
        world.log(label)
        world.crashed(terminal, crash)
        return
    except (TerminalError, CardError) as refused:
        world.log(f"{label} -> refused {refused.code}")
        return
    finally:
        connection.close()
    status = issued.outcome.status.value
    world.log(f"{label} -> {status}, {len(issued.faces)} printed")
    world.stats.add(f"voucher-issue:{status}")
    world.printed += [Printed(f.number, f.points, f.payload) for f in issued.faces]
    if not issued.faces and issued.outcome.row.state not in (
        OutboxState.REJECTED,
        OutboxState.CONFLICT,
    ):
        world.issues_to_reprint.append(issued.outcome.row.id)


def _reprint(world: World) -> None:
    terminal = world.terminals["office"]
    key = terminal.spec.voucher_key
    assert key is not None
    for tx_id in list(world.issues_to_reprint):
        row = terminal.store.get(tx_id)
        if row is None or row.state is not OutboxState.APPLIED:
            continue
        faces = reprint_faces(terminal.counter, tx_id, key)
        world.issues_to_reprint.remove(tx_id)
        world.printed += [Printed(f.number, f.points, f.payload) for f in faces]
        world.log(f"voucher reprint office: {len(faces)} printed (再発行)")
        return
    world.log("voucher reprint office: nothing to reprint")


def _redeem(world: World) -> None:
    if not world.printed:
        world.log("voucher redeem: no voucher printed yet")
        return
    voucher = world.printed[world.rng.randrange(len(world.printed))]
    terminal = world.pick_terminal(world.sellers)
    typed = world.rng.random() < 0.2
    label = f"voucher redeem {terminal.name} {voucher.points}" + (" (typed)" if typed else "")
    try:
        with terminal.acting():
            if typed:
                outcome = redeem_by_number(terminal.counter, voucher.number)
            else:
                outcome = redeem_voucher(terminal.counter, voucher.payload)
    except TerminalCrashed as crash:
        world.log(label)
        world.crashed(terminal, crash)
        return
    except TerminalError as refused:
        world.log(f"{label} -> refused {refused.code}")
        world.stats.add("voucher-redeem:refused-at-counter")
        return
    status = outcome.status.value
    world.log(f"{label} -> {status}" + (f" {outcome.reason}" if outcome.reason else ""))
    world.stats.add(f"voucher-redeem:{status}")
    if outcome.done:
        world.confirm(outcome.row.id, terminal.name, "voucher_redeem", voucher.points)


def redeemed_numbers(world: World) -> dict[str, list[tuple[str, UUID, OutboxState]]]:
    """Every redemption row of the run by voucher number: terminal, transaction, state."""
    found: dict[str, list[tuple[str, UUID, OutboxState]]] = {}
    for name, terminal in world.terminals.items():
        for row in terminal.store.rows():
            number = getattr(row.transaction.payload, "number", None)
            if number is not None:
                found.setdefault(number, []).append((name, row.id, row.state))
    return found
