"""One run: the world of a seed (a ledger, the terminals of a street, an office, a library and a
grant desk, residents with cards), its steps with injected faults, and the final fault-free sync.

Every choice is drawn from ``random.Random(seed)`` in a fixed order, and time is the simulated
clock, so a seed replays the same event log.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import Engine

from cardio.errors import CardError
from cardio.jpki import JpkiSession
from cardio.secrets import Pin
from cardio.transport import InProcessConnection
from cardio.virtual.card import Faults, VirtualJpkiCard
from server_stub import operator as op
from server_stub.clock import jst_date
from server_stub.db.engine import make_engine
from sim import vouchers
from sim.clock import SIM_EPOCH, SimClock, SkewedClock, server_clock
from sim.kit import PIN, Kit, resident_id
from sim.network import Network, SimLink
from sim.server import SimServer
from sim.terminals import CRASH_POINTS, PullSeen, SimTerminal, TerminalCrashed
from terminal.errors import TerminalError
from terminal.services.counter import prove_pin, read_card, resolve_holder
from terminal.services.grant import grant_points
from terminal.services.library import library_lookup
from terminal.services.point_use import use_points

#: Relative weights of the step kinds.
STEP_WEIGHTS: dict[str, int] = {
    "use": 30,
    "grant": 10,
    "sync": 16,
    "deliver": 5,
    "advance": 12,
    "offline": 5,
    "server-crash": 3,
    "arm-crash": 6,
    "skew": 3,
    "library": 2,
    "voucher": 9,
}
#: Terminal clocks stay within this of true time (the server allows 300 s of signature skew).
MAX_SKEW_S = 240
#: Card commands the card may be pulled out at (READ BINARY, VERIFY, PSO for the tx signature).
CARD_PULL_PHASES = ("read", "pin", "sign")
FINAL_SYNC_ROUNDS = 6
#: Share of requests in flight that stay stuck while simulated time moves on.
STUCK_REQUESTS = 0.2
#: Cards each shop has seen online before the run starts (cached there for offline use).
REGULARS = 3


@dataclass(frozen=True)
class Confirmed:
    """A transaction the screen called done (applied, or accepted offline)."""

    terminal: str
    kind: str
    points: int
    offline: bool


@dataclass
class RunStats:
    """Counts of what happened in a run."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int = 1) -> None:
        """Count ``n`` more of ``key``."""
        self.counts[key] = self.counts.get(key, 0) + n


class World:
    """The world of one seed (see the module docstring)."""

    def __init__(
        self,
        kit: Kit,
        seed: int,
        root: Path,
        prepared: Prepared | None,
        *,
        stuck: float = STUCK_REQUESTS,
    ) -> None:
        self.kit = kit
        self.stuck = stuck
        self.seed = seed
        self.rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
        self.clock = SimClock()
        self.events: list[str] = []
        self.violations: list[str] = []
        self.stats = RunStats()
        self.confirmed: dict[UUID, Confirmed] = {}
        self.printed: list[vouchers.Printed] = []
        self.issues_to_reprint: list[UUID] = []
        self.step = 0
        database = root / "ledger.db"
        if prepared is None:
            kit.copy_ledger(database)
            wanted = {spec.name for spec in kit.terminals}
        else:
            shutil.copyfile(prepared.folder / "ledger.db", database)
            shops = self.rng.randint(2, 4)
            wanted = {"office", "library", "desk"} | {f"shop{i}" for i in range(1, shops + 1)}
        self.database_url = f"sqlite:///{database}"
        self.server = SimServer(kit.settings(database), database)
        network_rng = random.Random(self.rng.getrandbits(64))  # noqa: S311
        self.network = Network(self.server, network_rng, self.log)
        self.terminals: dict[str, SimTerminal] = {}
        for spec in kit.terminals:
            if spec.name not in wanted:
                continue
            clock = SkewedClock(self.clock)
            link = SimLink(self.network, spec.name, spec.identity.terminal_id, spec.key, clock)
            path = root / f"{spec.name}.sqlite3"
            if prepared is not None:
                shutil.copyfile(prepared.folder / path.name, path)
            terminal = SimTerminal(spec, path, link, clock, kit.trust)
            if prepared is not None:
                terminal.book.pulls.append(prepared.pulls[spec.name])
            self.terminals[spec.name] = terminal
        self.sellers = [
            t for n, t in self.terminals.items() if n == "office" or n.startswith("shop")
        ]
        self.server_down_until: int | None = None
        self.day = jst_date(self.clock.now)

    # --- the log --------------------------------------------------------------------------

    def log(self, line: str) -> None:
        """Add a line to the event log (no IDs or wall-clock times: the log must replay)."""
        offset = self.clock.now - SIM_EPOCH
        minutes = int(offset.total_seconds() // 60)
        self.events.append(
            f"{self.step:03d} +{minutes // 1440}d{minutes % 1440 // 60:02d}:"
            f"{minutes % 60:02d} {line}"
        )

    def confirm(self, tx_id: UUID, terminal: str, kind: str, points: int) -> None:
        """The screen called ``tx_id`` done: it must end applied on the server."""
        row = self.terminals[terminal].store.get(tx_id)
        offline = row is not None and row.transaction.offline
        self.confirmed[tx_id] = Confirmed(terminal, kind, points, offline)

    def violation(self, text: str) -> None:
        """Note a broken invariant (the run fails)."""
        self.violations.append(text)
        self.log(f"  VIOLATION {text}")

    # --- operator ---------------------------------------------------------------------------

    @contextmanager
    def operator_engine(self) -> Iterator[Engine]:
        """A database engine of the operator's own (works while the server is down)."""
        engine = make_engine(self.database_url)
        try:
            yield engine
        finally:
            engine.dispose()

    def import_crl(self) -> None:
        """The operator imports a fresh CRL (signed now)."""
        crl = self.kit.ca.crl(now=self.clock.now).public_bytes(Encoding.DER)
        with self.operator_engine() as engine, engine.begin() as conn:
            op.import_crl(conn, crl, self.kit.trust, now=self.clock.now)

    def first_sync(self) -> None:
        """The starting state (made once per kit, see :func:`prepare`): balances, a CRL, a
        fault-free first sync of every terminal, and a few regular customers per shop."""
        with self.operator_engine() as engine, engine.begin() as conn:
            for index in range(len(self.kit.cards)):
                points = 500 * index
                if points:
                    op.grant_points(
                        conn,
                        self.kit.catalog.grant_program_id,
                        resident_id(index),
                        points,
                        now=self.clock.now,
                    )
        self.import_crl()
        self.network.faults_on = False
        for terminal in self.terminals.values():
            report = terminal.sync_engine().sync_now()
            if report.error is not None:
                raise RuntimeError(f"first sync of {terminal.name} failed: {report.error}")
        for terminal in self.sellers:  # regular customers: seen online here before the run
            for _ in range(REGULARS):
                index, session, connection = self.card(Faults())
                try:
                    resolve_holder(terminal.counter, read_card(terminal.counter, session))
                finally:
                    connection.close()

    def setup(self) -> None:
        """This seed's extra balances (the terminals have not seen them yet)."""
        catalog = self.kit.catalog
        with self.operator_engine() as engine, engine.begin() as conn:
            for index in range(len(self.kit.cards)):
                points = self.rng.choice((0, 0, 300, 800, 1500))
                if points:
                    op.grant_points(
                        conn,
                        catalog.grant_program_id,
                        resident_id(index),
                        points,
                        now=self.clock.now,
                    )
                if self.rng.random() < 0.4:
                    op.grant_points(
                        conn,
                        catalog.event_grant_program_id,
                        resident_id(index),
                        now=self.clock.now,
                    )
        self.log(f"setup: {len(self.terminals)} terminals ({', '.join(self.terminals)})")

    # --- steps ----------------------------------------------------------------------------

    def run(self, steps: int) -> None:
        """Setup, ``steps`` random steps with faults, then the fault-free end."""
        self.setup()
        kinds = list(STEP_WEIGHTS)
        weights = list(STEP_WEIGHTS.values())
        for self.step in range(1, steps + 1):
            if self.server_down_until is not None and self.step >= self.server_down_until:
                self.server.restart()
                self.server_down_until = None
                self.log("server restarts")
            if not self.server.up and self.server_down_until is None:
                self.server.start()  # crashed by a network fault: restarted at once
                self.log("server restarts (after a crash mid-request)")
            kind = self.rng.choices(kinds, weights)[0]
            self.stats.add(f"step:{kind}")
            self._guarded(kind, getattr(self, "_step_" + kind.replace("-", "_")))
        self.step += 1
        self.heal()

    def _guarded(self, kind: str, action: Callable[[], None]) -> None:
        try:
            action()
        except TerminalCrashed:
            raise  # handled where the terminal is known
        except Exception as error:  # anything unexpected is a finding, with its traceback
            self.violation(f"unexpected-exception in {kind}: {type(error).__name__}: {error}")
            self.events.append(traceback.format_exc())

    def pick_terminal(self, pool: list[SimTerminal] | None = None) -> SimTerminal:
        terminals = pool if pool is not None else list(self.terminals.values())
        return terminals[self.rng.randrange(len(terminals))]

    def card(self, faults: Faults) -> tuple[int, JpkiSession, InProcessConnection]:
        index = self.rng.randrange(len(self.kit.cards))
        connection = InProcessConnection(VirtualJpkiCard(self.kit.cards[index], faults=faults))
        return index, JpkiSession(connection), connection

    def crashed(self, terminal: SimTerminal, crash: TerminalCrashed) -> None:
        self.log(f"  {terminal.name} CRASHES at {crash}; restarts")
        self.stats.add("terminal-crash")
        terminal.crash_and_restart()

    def _step_use(self) -> None:
        terminal = self.pick_terminal(self.sellers)
        catalog = self.kit.catalog
        program = catalog.program_id if self.rng.random() < 0.8 else catalog.event_program_id
        points = self.rng.randint(1, 400) if self.rng.random() < 0.8 else self.rng.randint(1, 1500)
        faults = Faults()
        pull = self.rng.choice(CARD_PULL_PHASES) if self.rng.random() < 0.08 else None
        if pull == "read":
            faults.remove_on_ins = 0xB0
        elif pull == "pin":
            faults.remove_on_ins = 0x20
        index, session, connection = self.card(faults)
        label = f"use {terminal.name} {resident_id(index)} p{program} {points}"
        if pull:
            label += f" (card pulled at {pull})"
        before = len(terminal.store.rows())
        try:
            with terminal.acting():
                counter = terminal.counter
                card = read_card(counter, session)
                holder = resolve_holder(counter, card, prove_pin(session, card, Pin(PIN)))
                if pull == "sign":
                    faults.remove_on_ins = 0x2A
                outcome = use_points(counter, session, holder, program, points)
        except TerminalCrashed as crash:
            self.log(label)
            self.crashed(terminal, crash)
            return
        except (TerminalError, CardError) as refused:
            self.log(f"{label} -> refused {getattr(refused, 'reason', None) or refused.code}")
            self.stats.add("use:refused-at-counter")
            if len(terminal.store.rows()) != before:
                self.violation(f"refusal-stored-a-row: {label}: {type(refused).__name__}")
            return
        finally:
            connection.close()
        status = outcome.status.value
        self.log(f"{label} -> {status}" + (f" {outcome.reason}" if outcome.reason else ""))
        self.stats.add(f"use:{status}")
        if outcome.done:
            self.confirm(outcome.row.id, terminal.name, "point_use", points)

    def _step_grant(self) -> None:
        terminal = self.terminals["desk"]
        catalog = self.kit.catalog
        normal = self.rng.random() < 0.7
        grant_program = catalog.grant_program_id if normal else catalog.event_grant_program_id
        points = None if self.rng.random() < 0.5 else self.rng.randint(1, 1000)
        event = f"event-{self.day.isoformat()}" if self.rng.random() < 0.3 else None
        index, session, connection = self.card(Faults())
        label = f"grant {resident_id(index)} g{grant_program} {points or 'default'}"
        if event:
            label += " (attendance)"
        try:
            with terminal.acting():
                outcome = grant_points(
                    terminal.counter, session, grant_program, points=points, event=event
                )
        except TerminalCrashed as crash:
            self.log(label)
            self.crashed(terminal, crash)
            return
        except (TerminalError, CardError) as refused:
            self.log(f"{label} -> refused {refused.code}")
            return
        finally:
            connection.close()
        self.log(f"{label} -> {outcome.status.value}")
        self.stats.add(f"grant:{outcome.status.value}")
        if outcome.done:
            self.confirm(outcome.row.id, terminal.name, "grant", points or 0)

    def sync(self, terminal: SimTerminal) -> str | None:
        """One sync round of ``terminal``; its error message (None when it went through)."""
        try:
            with terminal.acting():
                report = terminal.sync_engine().sync_now()
        except TerminalCrashed as crash:
            self.log(f"sync {terminal.name}")
            self.crashed(terminal, crash)
            return "crashed"
        self.log(
            f"sync {terminal.name}: pushed {report.pushed} applied {report.applied} "
            f"offline {report.accepted_offline} rejected {report.rejected} "
            f"conflicts {report.conflicts} dup {report.duplicates}"
            + (" ERROR" if report.error else "")
        )
        return report.error

    def _step_sync(self) -> None:
        self.sync(self.pick_terminal())

    def _step_deliver(self) -> None:
        self.network.deliver_in_flight(self.rng.randint(1, 3))

    def _step_advance(self) -> None:
        # most requests in flight are late by seconds and land before time moves on; now and
        # then one is stuck for hours (a hung server's queue) and is applied much later
        self.network.deliver_in_flight(keep=self.stuck)
        roll = self.rng.random()
        if roll < 0.55:
            delta = timedelta(minutes=self.rng.randint(1, 45))
        elif roll < 0.85:
            delta = timedelta(hours=self.rng.randint(1, 10))
        else:
            delta = timedelta(hours=self.rng.randint(20, 50))
        self.clock.advance(delta)
        self.log(f"time +{delta}")
        today = jst_date(self.clock.now)
        if today != self.day:
            self.day = today
            self.daily()

    def daily(self) -> None:
        """The operator's day: usually a fresh CRL, always the expiry run."""
        if self.rng.random() < 0.85:
            self.import_crl()
            self.log("operator: CRL imported")
        with self.operator_engine() as engine, engine.begin() as conn:
            report = op.run_expiry(conn, self.day, now=self.clock.now)
        self.log(
            f"operator: expiry {self.day}: {report.lots_expired} lots {report.points_expired} pt,"
            f" {report.vouchers_voided} vouchers voided"
        )
        self.stats.add("expired-points", report.points_expired)

    def _step_offline(self) -> None:
        terminal = self.pick_terminal()
        terminal.link.offline = not terminal.link.offline
        self.log(f"{terminal.name} goes {'offline' if terminal.link.offline else 'online'}")

    def _step_server_crash(self) -> None:
        if not self.server.up:
            return
        self.server.crash()
        self.server_down_until = self.step + self.rng.randint(1, 4)
        self.log(f"server CRASHES (down until step {self.server_down_until})")
        self.stats.add("server-crash")

    def _step_arm_crash(self) -> None:
        terminal = self.pick_terminal()
        terminal.armed = self.rng.choice(CRASH_POINTS)
        self.log(f"{terminal.name} will crash at {terminal.armed}")

    def _step_skew(self) -> None:
        terminal = self.pick_terminal()
        terminal.clock.skew = timedelta(seconds=self.rng.randint(-MAX_SKEW_S, MAX_SKEW_S))
        self.log(f"{terminal.name} clock skew {int(terminal.clock.skew.total_seconds())} s")

    def _step_library(self) -> None:
        terminal = self.terminals["library"]
        index, session, connection = self.card(Faults())
        try:
            with terminal.acting():
                holder = library_lookup(terminal.counter, session)
            self.log(f"library {resident_id(index)} -> {holder.mykey_id} online={holder.online}")
        except TerminalCrashed as crash:
            self.crashed(terminal, crash)
        except (TerminalError, CardError) as refused:
            self.log(f"library {resident_id(index)} -> refused {refused.code}")
        finally:
            connection.close()

    def _step_voucher(self) -> None:
        vouchers.step(self)

    # --- the end ----------------------------------------------------------------------------

    def heal(self) -> None:
        """End every fault, deliver what is in flight, and sync every terminal until it has
        nothing left to send (then the invariants must hold)."""
        self.log("heal: faults off, server up, terminals online")
        self.network.faults_on = False
        if not self.server.up:
            self.server.start()
        for terminal in self.terminals.values():
            terminal.link.offline = False
            terminal.armed = None
        self.network.deliver_in_flight()
        for _ in range(FINAL_SYNC_ROUNDS):
            left = 0
            for terminal in self.terminals.values():
                error = self.sync(terminal)
                if error is not None:
                    self.log(f"  final sync of {terminal.name} failed: {error}")
                left += terminal.store.unsynced_count()
            if left == 0:
                break


@dataclass(frozen=True)
class Prepared:
    """The state every run starts from (see :meth:`World.first_sync`): the ledger and terminal
    store files, closed, and the first pull each terminal applied."""

    folder: Path
    pulls: dict[str, PullSeen]


def prepare(kit: Kit) -> Prepared:
    """Make the starting state once per kit (it saves every run the first syncs)."""
    folder = kit.root / "prepared"
    folder.mkdir()
    world = World(kit, 0, folder, None)
    with server_clock(world.clock):
        world.first_sync()
    pulls = {name: t.book.pulls[-1] for name, t in world.terminals.items()}
    for terminal in world.terminals.values():
        terminal.close()
    world.server.crash()
    with sqlite3.connect(folder / "ledger.db") as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    return Prepared(folder, pulls)


def run_world(
    kit: Kit,
    prepared: Prepared,
    seed: int,
    steps: int,
    root: Path,
    *,
    stuck: float = STUCK_REQUESTS,
) -> World:
    """Build the world of ``seed`` from the prepared state, run it, leave it open for checks."""
    world = World(kit, seed, root, prepared, stuck=stuck)
    with server_clock(world.clock):
        world.run(steps)
    return world
