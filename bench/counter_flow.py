"""Counter-flow benchmark (not a test): how much time the terminal itself adds at the counter.

Run:  .venv/bin/python bench/counter_flow.py [--instant N] [--contact N] [--cards K]

The real terminal core (``terminal.services``: ``Counter``, ``TerminalStore`` on a SQLite file,
the real ``LedgerClient`` over HTTP, timeout 3 s as at the counter) talks to a virtual card
through the in-process transport (``cardio.transport.InProcessConnection``), once with the
emulator's ``instant`` latency profile and once with ``contact`` (9,600 bit/s, RSA sign 400 ms).
Each flow is timed in two parts:

  A  card placed -> balances shown:  read_card + prove_pin + resolve_holder
  B  confirm -> done:                 use_points (card signs, outbox row, authorise)

Scenarios, interleaved iteration by iteration so drifts hit them alike:

  bare     the same card steps with bare cardio calls (inspect_card + prove_possession, then
           sign_message) and no store, no ledger: the baseline of the same run
  online   a real ledger (``tests.sync.support.LedgerServer``: uvicorn + SQLite in a thread of
           this process) on loopback; look-up and authorisation answered by the server
  offline  the client points at a closed port: the look-up and authorisation fail fast with
           ``LedgerUnreachableError`` and the terminal decides from its cache. Its store was
           seeded first with one online look-up per card and a ``SyncEngine.sync_now()``, after a
           fresh CRL was imported into the ledger (young revocation data), so offline is allowed.

Every ``transmit()`` is timed by a wrapper around the connection; card time is their sum, and the
terminal's own overhead is total minus card time (with ``instant`` the card time is the
emulator's own work). Each use spends 1 point and the cards take turns (``--cards``, default 4,
each granted 1,000,000 points), so neither the balance nor the offline limits (3,000 per use,
5,000 per card per day, 50,000 per terminal since sync) come near. The offline rows are synced at
the end and must all be applied. p50/p95 are nearest-rank; with 10 iterations p95 is the maximum.

Aims (ISSUE 4 §7): terminal overhead p95 <= 50 ms online, <= 20 ms offline.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.serialization import Encoding  # noqa: E402

from cardio.auth import TrustStore, inspect_card, prove_possession, sign_message  # noqa: E402
from cardio.jpki import JpkiSession  # noqa: E402
from cardio.secrets import Pin  # noqa: E402
from cardio.transport import InProcessConnection  # noqa: E402
from cardio.virtual.ca import TestCA  # noqa: E402
from cardio.virtual.card import VirtualJpkiCard  # noqa: E402
from cardio.virtual.profile import CardProfile  # noqa: E402
from server_stub import operator as op  # noqa: E402
from sync.client import LedgerClient  # noqa: E402
from sync.engine import SyncEngine  # noqa: E402
from sync.protocol import Role  # noqa: E402
from terminal.config import TerminalIdentity  # noqa: E402
from terminal.services.counter import Counter, prove_pin, read_card, resolve_holder  # noqa: E402
from terminal.services.point_use import use_points  # noqa: E402
from terminal.services.submit import OutcomeStatus  # noqa: E402
from terminal.store import OutboxState, TerminalStore  # noqa: E402
from tests.sync.support import SHOP, EnrolledTerminal, LedgerServer, free_port  # noqa: E402

log = logging.getLogger("bench.counter_flow")

PIN = "1234"
COUNTER_TIMEOUT_S = 3.0  # as mykey.terminal_cli.COUNTER_TIMEOUT_S
BALANCE = 1_000_000
POINTS = 1
AIMS_MS = {"online": 50.0, "offline": 20.0}
SCENARIOS = ("bare", "online", "offline")
PARTS = ("A", "B")
PART_NAMES = {"A": "card placed -> balances", "B": "confirm -> done"}


class TimedConnection:
    """A card connection that sums the wall time of every ``transmit()`` (the card's time)."""

    def __init__(self, inner: InProcessConnection) -> None:
        self.inner = inner
        self.reader = inner.reader
        self.card_seconds = 0.0

    def transmit(self, apdu: bytes) -> bytes:
        """Send one APDU through the wrapped connection, adding its wall time."""
        start = time.perf_counter()
        try:
            return self.inner.transmit(apdu)
        finally:
            self.card_seconds += time.perf_counter() - start

    def close(self) -> None:
        """Close the wrapped connection."""
        self.inner.close()

    def lap(self) -> float:
        """Card seconds since the last lap (and start a new one)."""
        seconds, self.card_seconds = self.card_seconds, 0.0
        return seconds


@dataclass
class Samples:
    """Per scenario and part: total seconds and card seconds of every iteration."""

    total: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    card: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def add(self, scenario: str, part: str, total: float, card: float) -> None:
        """Record one timed part."""
        self.total.setdefault((scenario, part), []).append(total)
        self.card.setdefault((scenario, part), []).append(card)

    def overhead(self, scenario: str, part: str) -> list[float]:
        """Total minus card time, per iteration."""
        key = (scenario, part)
        return [t - c for t, c in zip(self.total[key], self.card[key], strict=True)]


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def identity_of(enrolled: EnrolledTerminal, server_url: str) -> TerminalIdentity:
    """The terminal's identity as enrollment left it (what ``terminal.config`` stores)."""
    answer = enrolled.identity
    return TerminalIdentity(
        terminal_id=answer.terminal_id,
        business_id=answer.business_id,
        street_id=answer.street_id,
        roles=frozenset(Role(r) for r in answer.roles),
        server_url=server_url,
        server_public_key=answer.server_public_key,
    )


@contextmanager
def placed(card: CardProfile, latency: str) -> Iterator[tuple[JpkiSession, TimedConnection]]:
    """A card placed on the reader: a fresh power-up, a timed connection, a JPKI session."""
    connection = TimedConnection(InProcessConnection(VirtualJpkiCard(card, latency=latency)))
    try:
        yield JpkiSession(connection), connection
    finally:
        connection.close()


class Bench:
    """The ledger, the cards, and two enrolled terminals: one online, one cut off."""

    def __init__(self, folder: Path, card_count: int) -> None:
        ca = TestCA.init(folder / "ca")
        self.trust = TrustStore.from_directory(ca.trust_directory)
        log.info("issuing %d test cards", card_count)
        self.cards = [ca.issue_card(folder / f"card{i}", PIN) for i in range(card_count)]
        self.server = LedgerServer(folder / "ledger", ca.trust_directory).start()
        with self.server.engine.begin() as conn:
            op.import_crl(conn, ca.crl().public_bytes(Encoding.DER), self.trust)
        for i, card in enumerate(self.cards):
            self.server.resident(card, f"BENCH{i:03d}", BALANCE)
        self.program_id = self.server.program_id
        self.stores: list[TerminalStore] = []
        self.clients: list[LedgerClient] = []
        self.online = self._counter(folder, "online", self.server.base_url)
        dead_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        self.offline_terminal = self.server.enroll(SHOP, ("shop",))
        self.offline = self._counter(folder, "offline", dead_url, self.offline_terminal)

    def _counter(
        self, folder: Path, name: str, url: str, seeded: EnrolledTerminal | None = None
    ) -> Counter:
        """An enrolled terminal's counter talking to ``url``; with ``seeded`` (the enrolled
        terminal), its cache is first filled through the live server."""
        enrolled = seeded or self.server.enroll(SHOP, ("shop",))
        identity = identity_of(enrolled, url)
        store = TerminalStore.open(folder / f"{name}.sqlite3")
        self.stores.append(store)
        client = enrolled.client(url, timeout=COUNTER_TIMEOUT_S)
        self.clients.append(client)
        if seeded is not None:  # seen online once per card, then one sync: offline allowed
            live = enrolled.client(self.server.base_url, timeout=COUNTER_TIMEOUT_S)
            self.clients.append(live)
            seeding = Counter(identity, store, live, self.trust)
            for card in self.cards:
                with placed(card, "instant") as (session, _):
                    checked = read_card(seeding, session)
                    resolve_holder(seeding, checked, prove_pin(session, checked, Pin(PIN)))
            self.sync(identity, store, live)
        return Counter(identity, store, client, self.trust)

    @staticmethod
    def sync(identity: TerminalIdentity, store: TerminalStore, client: LedgerClient) -> None:
        """One sync round; stops the run if it fails."""
        engine = SyncEngine(client, store, store, server_public_key=identity.server_public_key)
        report = engine.sync_now()
        if report.error is not None:
            raise SystemExit(f"sync failed: {report.error}")

    # --- one iteration of each scenario ------------------------------------------------------

    def bare(self, card: CardProfile, latency: str, samples: Samples | None) -> None:
        """The card steps alone: inspect + prove possession (A), one signature (B)."""
        with placed(card, latency) as (session, wire):
            start = time.perf_counter()
            checked = inspect_card(session, trust=self.trust)
            prove_possession(session, checked, Pin(PIN), os.urandom(32))
            middle = time.perf_counter()
            card_a = wire.lap()
            sign_message(session, os.urandom(32))
            end = time.perf_counter()
            if samples is not None:
                samples.add("bare", "A", middle - start, card_a)
                samples.add("bare", "B", end - middle, wire.lap())

    def flow(self, scenario: str, card: CardProfile, latency: str, samples: Samples | None) -> None:
        """The counter flow on the online or the offline terminal."""
        counter = self.online if scenario == "online" else self.offline
        expected = OutcomeStatus.APPLIED if scenario == "online" else OutcomeStatus.ACCEPTED_OFFLINE
        with placed(card, latency) as (session, wire):
            start = time.perf_counter()
            checked = read_card(counter, session)
            holder = resolve_holder(counter, checked, prove_pin(session, checked, Pin(PIN)))
            middle = time.perf_counter()
            card_a = wire.lap()
            outcome = use_points(counter, session, holder, self.program_id, POINTS)
            end = time.perf_counter()
        if holder.online != (scenario == "online") or outcome.status is not expected:
            raise SystemExit(f"{scenario}: unexpected {outcome.status} (online={holder.online})")
        if samples is not None:
            samples.add(scenario, "A", middle - start, card_a)
            samples.add(scenario, "B", end - middle, wire.lap())

    def run(self, latency: str, iterations: int) -> Samples:
        """``iterations`` rounds of every scenario with the ``latency`` profile."""
        samples = Samples()
        runs: dict[str, Callable[[CardProfile, str, Samples | None], None]] = {
            "bare": self.bare,
            "online": lambda c, lat, s: self.flow("online", c, lat, s),
            "offline": lambda c, lat, s: self.flow("offline", c, lat, s),
        }
        for i in range(iterations):
            card = self.cards[i % len(self.cards)]
            for offset in range(len(SCENARIOS)):  # rotate which scenario goes first
                name = SCENARIOS[(i + offset) % len(SCENARIOS)]
                runs[name](card, latency, samples)
        log.info("%s: %d iterations done", latency, iterations)
        return samples

    def warm_up(self) -> None:
        """One untimed instant round of each scenario (imports, HTTP connection, caches)."""
        for card in self.cards[:1]:
            self.bare(card, "instant", None)
            self.flow("online", card, "instant", None)
            self.flow("offline", card, "instant", None)

    def settle_offline(self) -> tuple[int, int]:
        """Sync the offline terminal's queue for real; (rows applied, rows stored)."""
        counter = self.offline
        live = self.offline_terminal.client(self.server.base_url, timeout=COUNTER_TIMEOUT_S)
        try:
            self.sync(counter.identity, counter.store, live)
        finally:
            live.close()
        rows = counter.store.rows()
        return sum(r.state is OutboxState.APPLIED for r in rows), len(rows)

    def close(self) -> None:
        """Close clients, stores and the server."""
        for client in self.clients:
            client.close()
        for store in self.stores:
            store.close()
        self.server.close()


def ms(seconds: float) -> str:
    """Seconds as milliseconds, 1 decimal."""
    return f"{seconds * 1000:.1f}"


def table(latency: str, samples: Samples) -> list[str]:
    """One profile's rows: totals, card time and overhead per scenario and part."""
    lines = []
    for part in PARTS:
        for scenario in SCENARIOS:
            key = (scenario, part)
            total, card, over = samples.total[key], samples.card[key], samples.overhead(*key)
            aim = AIMS_MS.get(scenario)
            p95 = percentile(over, 0.95) * 1000
            verdict = "" if aim is None else f"{p95 / aim:.2f}x aim {aim:.0f}"
            lines.append(
                f"{latency:8} {part} {PART_NAMES[part]:24} {scenario:8}{len(total):>4}"
                f"{ms(percentile(total, 0.5)):>9}{ms(percentile(total, 0.95)):>9}"
                f"{ms(percentile(card, 0.5)):>9}"
                f"{ms(percentile(over, 0.5)):>9}{ms(percentile(over, 0.95)):>9}  {verdict}"
            )
    return lines


def ratios(latency: str, samples: Samples) -> list[str]:
    """The terminal's overhead next to the bare-card baseline's, per part."""
    lines = []
    for part in PARTS:
        bare = percentile(samples.overhead("bare", part), 0.5)
        for scenario in ("online", "offline"):
            ours = percentile(samples.overhead(scenario, part), 0.5)
            lines.append(
                f"  {latency} {part} {scenario}: overhead p50 {ms(ours)} ms = bare-card host work"
                f" {ms(bare)} ms + {ms(ours - bare)} ms terminal core"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Set up the ledger, cards and terminals; run both profiles; print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instant", type=int, default=50, help="iterations, instant profile")
    parser.add_argument("--contact", type=int, default=10, help="iterations, contact profile")
    parser.add_argument("--cards", type=int, default=4, help="cards taking turns")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)

    results: dict[str, Samples] = {}
    with tempfile.TemporaryDirectory(prefix="counter-flow-bench-") as tmp:
        bench = Bench(Path(tmp), args.cards)
        try:
            bench.warm_up()
            for latency, iterations in (("instant", args.instant), ("contact", args.contact)):
                if iterations > 0:
                    results[latency] = bench.run(latency, iterations)
            applied, stored = bench.settle_offline()
        finally:
            bench.close()

    head = (
        f"{'profile':8} {'part':26} {'scenario':8}{'N':>4}{'tot p50':>9}{'tot p95':>9}"
        f"{'card p50':>9}{'ovh p50':>9}{'ovh p95':>9}  overhead p95 vs aim"
    )
    lines = [
        "Counter flow, in-process virtual card, real terminal store + ledger (SQLite, loopback);"
        " milliseconds",
        "",
        head,
    ]
    for latency, samples in results.items():
        lines.extend(table(latency, samples))
    lines.append("\nterminal overhead against the bare-card baseline (same run):")
    for latency, samples in results.items():
        lines.extend(ratios(latency, samples))
    lines.append(f"\noffline rows applied by the ledger at the final sync: {applied} of {stored}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0 if applied == stored else 1


if __name__ == "__main__":
    sys.exit(main())
