"""Sync catch-up benchmark (not a test): 10,000 transactions queued offline, then one sync round.

Run:  .venv/bin/python bench/sync_catchup.py [--transactions N] [--cards K] [--profile]

Set-up (not timed): a real ledger (``tests.sync.support.LedgerServer``: the FastAPI app under
uvicorn in a thread of this process, on a SQLite file, seeded with Kawasaki, shop A0001 and a point
program with the DOMAIN.md §6 default offline limits), a fresh CRL imported, ``--cards`` residents
(default 10) with 100,000 points each, and one enrolled shop terminal with its own
``TerminalStore`` that synced once (the last sync before the outage). Then the outage: N point
uses (default 10,000), each card-signed and written through ``TerminalStore.add_transaction`` with
decision OFFLINE, as the counter does when the server does not answer. They are signed with the
card's key directly (``tests.support.signing.card_signed``, PKCS#1 v1.5 SHA-256, the card's
signature scheme): 10,000 signatures by a card would measure the card (400 ms each), not sync.
Each use spends 1-5 points and the cards take turns, so the default offline limits hold without
raising them (per card per day 5,000: here at most 3,000; per terminal since sync 50,000: here
30,000 for 10,000 uses).

Timed: one ``SyncEngine.sync_now()`` with the terminal's real sync client (``LedgerClient`` over
HTTP on loopback, the CLI's sync timeout and retry policy), batches of 500, push then pull. The
round is split into the client's HTTP calls (request building, the server's work, answer parsing),
the terminal store's calls, and the rest (the engine itself). Then checked: every row final and
applied in the terminal store, N transactions of the terminal in the ledger, each resident's
balance down by what they spent, and ``server_stub.audit.audit`` finds nothing.

Aim (ISSUE 4 §7): all applied within 10 s on this machine. ``--profile`` runs the same with
cProfile in every thread (the client, uvicorn's loop and its worker threads) and prints where the
sync round's time goes (the round is slower under the profiler).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding  # noqa: E402

from cardio.auth import TrustStore  # noqa: E402
from cardio.virtual.ca import TestCA, new_rsa_key  # noqa: E402
from mykey.terminal_cli import SYNC_RETRY, SYNC_TIMEOUT_S  # noqa: E402
from server_stub import operator as op  # noqa: E402
from server_stub.audit import audit  # noqa: E402
from sync.client import LedgerClient  # noqa: E402
from sync.engine import SyncEngine, SyncReport  # noqa: E402
from sync.protocol import (  # noqa: E402
    CardAuthorisation,
    LookupResponse,
    PointUse,
    PullResponse,
    PushResponse,
    Transaction,
    TransactionResult,
    b64encode,
    uuid7,
)
from terminal.store import LocalDecision, OutboxState, TerminalStore  # noqa: E402
from tests.support.signing import card_signed  # noqa: E402
from tests.sync.support import SHOP, EnrolledTerminal, LedgerServer  # noqa: E402

log = logging.getLogger("bench.sync_catchup")

BALANCE = 100_000
AIM_S = 10.0
#: pstats restriction: functions of the project's own packages
PROJECT_CODE = r"/(server_stub|sync|terminal)/"

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Card:
    """A resident's card as far as signing goes: key, certificate (DER, base64), MyKey ID."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    certificate_b64: str
    mykey_id: str


@dataclass
class Clock:
    """Seconds spent per named call, and how often."""

    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    each: dict[str, list[float]] = field(default_factory=dict)

    def timed(self, name: str, call: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``call`` and add its wall time under ``name``."""
        start = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            seconds = time.perf_counter() - start
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds
            self.calls[name] = self.calls.get(name, 0) + 1
            self.each.setdefault(name, []).append(seconds)

    def total(self, prefix: str) -> float:
        """Seconds of every name starting with ``prefix``."""
        return sum(s for name, s in self.seconds.items() if name.startswith(prefix))


class TimedClient:
    """The sync client with its push and pull calls timed."""

    def __init__(self, inner: LedgerClient, clock: Clock) -> None:
        self.inner = inner
        self.clock = clock

    @property
    def last_clock_offset(self) -> float | None:
        """The wrapped client's clock offset (for the engine's clock-skew message)."""
        return self.inner.last_clock_offset

    def push(self, transactions: list[Transaction]) -> PushResponse:
        """Timed ``LedgerClient.push``."""
        return self.clock.timed("http push", self.inner.push, transactions)

    def pull(self, cursor: str | None) -> PullResponse:
        """Timed ``LedgerClient.pull``."""
        return self.clock.timed("http pull", self.inner.pull, cursor)


class TimedStore:
    """The terminal store as the sync engine sees it (outbox and cache ports), every call timed."""

    def __init__(self, inner: TerminalStore, clock: Clock) -> None:
        self.inner = inner
        self.clock = clock

    def pending_transactions(self, limit: int) -> list[Transaction]:
        """Timed ``TerminalStore.pending_transactions``."""
        return self.clock.timed(
            "store pending_transactions", self.inner.pending_transactions, limit
        )

    def mark_sent(self, ids: Sequence[UUID]) -> None:
        """Timed ``TerminalStore.mark_sent``."""
        self.clock.timed("store mark_sent", self.inner.mark_sent, ids)

    def record_results(self, results: Sequence[TransactionResult]) -> Any:
        """Timed ``TerminalStore.record_results``."""
        return self.clock.timed("store record_results", self.inner.record_results, results)

    def record_failure(self, ids: Sequence[UUID], error: str) -> None:
        """Timed ``TerminalStore.record_failure``."""
        self.clock.timed("store record_failure", self.inner.record_failure, ids, error)

    def unsynced_count(self) -> int:
        """Timed ``TerminalStore.unsynced_count``."""
        return self.clock.timed("store unsynced_count", self.inner.unsynced_count)

    def sync_cursor(self) -> str | None:
        """Timed ``TerminalStore.sync_cursor``."""
        return self.clock.timed("store sync_cursor", self.inner.sync_cursor)

    def apply_pull(self, pull: PullResponse, *, received_at: datetime) -> None:
        """Timed ``TerminalStore.apply_pull``."""
        self.clock.timed("store apply_pull", self.inner.apply_pull, pull, received_at=received_at)

    def record_sync_success(self, at: datetime) -> None:
        """Timed ``TerminalStore.record_sync_success``."""
        self.clock.timed("store record_sync_success", self.inner.record_sync_success, at)

    def record_sync_error(self, message: str, at: datetime) -> None:
        """Timed ``TerminalStore.record_sync_error``."""
        self.clock.timed("store record_sync_error", self.inner.record_sync_error, message, at)


class ThreadProfiles:
    """cProfile in every thread started after :meth:`install` (Python 3.11 profiles one thread
    per profiler), plus the calling thread from :meth:`reset` on."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        self._main = cProfile.Profile()

    def _hook(self, frame: FrameType, event: str, arg: Any) -> None:
        profile = cProfile.Profile()
        self.profiles.append(profile)
        profile.enable()  # replaces this hook in the new thread

    def install(self) -> None:
        """Profile every thread started from now on."""
        threading.setprofile(self._hook)

    def reset(self) -> None:
        """Forget what was collected so far (set-up) and start profiling this thread too."""
        for profile in self.profiles:
            profile.clear()
        self._main.enable()

    def report(self, lines: int) -> str:
        """Stop and return the merged top ``lines`` by own time and by cumulative time."""
        self._main.disable()
        threading.setprofile(None)
        out = io.StringIO()
        stats = pstats.Stats(self._main, stream=out)
        for profile in self.profiles:
            stats.add(profile)
        out.write("by own time (waiting in poll/recv/lock is idle time of a thread):\n")
        stats.sort_stats("tottime").print_stats(lines)
        out.write("by cumulative time, the ledger server's and the terminal's code only:\n")
        stats.sort_stats("cumulative").print_stats(PROJECT_CODE, lines)
        text = out.getvalue().replace(str(ROOT) + "/", "")
        return re.sub(r"\S*/(site-packages|python3\.\d+)/", "", text)


# --- set-up -----------------------------------------------------------------------------------


def make_cards(ca: TestCA, server: LedgerServer, count: int) -> list[Card]:
    """``count`` residents: a key, a certificate of the test CA, a MyKey ID with points."""
    cards = []
    with server.engine.begin() as conn:
        for i in range(count):
            key = new_rsa_key()
            cert = ca.issue_auth_certificate(key.public_key())
            mykey_id = f"CATCHUP{i:03d}"
            op.create_mykey_id(conn, mykey_id, cert)
            op.grant_points(conn, server.grant_program_id, mykey_id, BALANCE)
            der = cert.public_bytes(Encoding.DER)
            cards.append(Card(key, cert, b64encode(der), mykey_id))
    return cards


def points_of(index: int, card_count: int) -> int:
    """The points of the ``index``-th use: each card cycles through 1..5."""
    return 1 + (index // card_count) % 5


def queue_offline_uses(
    store: TerminalStore,
    terminal: EnrolledTerminal,
    program_id: int,
    cards: list[Card],
    count: int,
) -> tuple[float, float]:
    """Write ``count`` card-signed offline point uses to the outbox, one commit each as the
    counter does; returns (seconds signing, seconds writing)."""
    signing = writing = 0.0
    for i in range(count):
        card = cards[i % len(cards)]
        points = points_of(i, len(cards))
        start = time.perf_counter()
        now = datetime.now(UTC)
        tx = Transaction(
            id=uuid7(now),
            terminal_id=terminal.terminal_id,
            business_id=terminal.business_id,
            terminal_time=now,
            offline=True,
            payload=PointUse(program_id=program_id, points=points),
            card=CardAuthorisation(certificate=card.certificate_b64),
        )
        tx = card_signed(tx, card.key)
        middle = time.perf_counter()
        store.add_transaction(
            tx,
            mykey_id=card.mykey_id,
            program_id=program_id,
            points=points,
            decision=LocalDecision.OFFLINE,
        )
        writing += time.perf_counter() - middle
        signing += middle - start
        if (i + 1) % 2000 == 0:
            log.info("queued %d of %d offline uses", i + 1, count)
    return signing, writing


# --- checks -----------------------------------------------------------------------------------


def check(
    server: LedgerServer,
    store: TerminalStore,
    client: LedgerClient,
    terminal: EnrolledTerminal,
    cards: list[Card],
    count: int,
) -> list[str]:
    """Everything applied, once, with the right balances and a sound ledger; the failures."""
    problems = []
    rows = store.rows()
    states: dict[str, int] = {}
    for row in rows:
        states[row.state.value] = states.get(row.state.value, 0) + 1
    if len(rows) != count or states.get(OutboxState.APPLIED.value, 0) != count:
        problems.append(f"terminal store: {len(rows)} rows, states {states}")
    if store.unsynced_count():
        problems.append(f"terminal store: {store.unsynced_count()} rows still unsynced")
    stored = server.transaction_count(terminal.terminal_id)
    if stored != count:
        problems.append(f"ledger: {stored} transactions of the terminal, not {count}")
    spent = [0] * len(cards)
    for i in range(count):
        spent[i % len(cards)] += points_of(i, len(cards))
    for card, used in zip(cards, spent, strict=True):
        look: LookupResponse = client.lookup(card.certificate.public_bytes(Encoding.DER))
        points = look.balances[0].points if look.balances else None
        if points != BALANCE - used:
            problems.append(f"{card.mykey_id}: balance {points}, expected {BALANCE - used}")
    with server.engine.connect() as conn:
        problems.extend(f"audit: {v}" for v in audit(conn))
    return problems


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Result:
    """What one run measured."""

    transactions: int
    sign_s: float
    write_s: float
    sync_s: float
    report: SyncReport
    clock: Clock
    problems: list[str]
    profile: str | None


def run(folder: Path, count: int, card_count: int, profiles: ThreadProfiles | None) -> Result:
    """Set up, queue ``count`` offline uses, time one sync round, check."""
    ca = TestCA.init(folder / "ca")
    trust = TrustStore.from_directory(ca.trust_directory)
    if profiles is not None:
        profiles.install()  # before the server's threads start
    server = LedgerServer(folder / "ledger", ca.trust_directory).start()
    store = TerminalStore.open(folder / "terminal.sqlite3")
    terminal = server.enroll(SHOP, ("shop",))
    client = terminal.client(server.base_url, timeout=SYNC_TIMEOUT_S, retry=SYNC_RETRY)
    try:
        with server.engine.begin() as conn:
            op.import_crl(conn, ca.crl().public_bytes(Encoding.DER), trust)
        log.info("making %d residents", card_count)
        cards = make_cards(ca, server, card_count)
        key = terminal.identity.server_public_key
        before = SyncEngine(client, store, store, server_public_key=key).sync_now()
        if before.error is not None:
            raise SystemExit(f"the sync before the outage failed: {before.error}")
        log.info("queueing %d offline point uses", count)
        sign_s, write_s = queue_offline_uses(store, terminal, server.program_id, cards, count)

        clock = Clock()
        timed_store = TimedStore(store, clock)
        engine = SyncEngine(
            TimedClient(client, clock), timed_store, timed_store, server_public_key=key
        )
        log.info("syncing %d queued transactions", store.unsynced_count())
        if profiles is not None:
            profiles.reset()
        start = time.perf_counter()
        report = engine.sync_now()
        sync_s = time.perf_counter() - start
        profile = None if profiles is None else profiles.report(25)
        log.info("checking")
        problems = [] if report.error is None else [f"sync: {report.error}"]
        problems += check(server, store, client, terminal, cards, count)
    finally:
        client.close()
        store.close()
        server.close()
    return Result(count, sign_s, write_s, sync_s, report, clock, problems, profile)


def render(result: Result, card_count: int) -> str:
    """The result table, the split of the sync round, the aim and the checks."""
    n, sync_s, clock = result.transactions, result.sync_s, result.clock
    http = clock.total("http ")
    store = clock.total("store ")
    lines = [
        f"Sync catch-up: {n:,} offline point uses of {card_count} cards queued in the terminal"
        " store, one SyncEngine.sync_now() against the real ledger (SQLite, uvicorn, loopback)",
        "",
        f"{'step':44}{'s':>8}{'tx/s':>9}{'share':>8}",
        f"{'set-up: card signatures (not timed)':44}{result.sign_s:8.2f}{n / result.sign_s:9.0f}",
        f"{'set-up: add_transaction, one commit each':44}{result.write_s:8.2f}"
        f"{n / result.write_s:9.0f}",
        f"{'sync round (timed)':44}{sync_s:8.2f}{n / sync_s:9.0f}{1:8.0%}",
    ]
    for name in sorted(clock.seconds, key=lambda k: -clock.seconds[k]):
        seconds = clock.seconds[name]
        label = f"  {name} ({clock.calls[name]} calls)"
        lines.append(f"{label:44}{seconds:8.2f}{'':9}{seconds / sync_s:8.0%}")
    rest = sync_s - http - store
    lines.append(f"{'  engine itself (rest)':44}{rest:8.2f}{'':9}{rest / sync_s:8.0%}")
    pushes = clock.each.get("http push", [])
    if len(pushes) > 1:
        lines.append(
            f"push of one batch: first {pushes[0]:.2f} s, middle {pushes[len(pushes) // 2]:.2f} s,"
            f" last {pushes[-1]:.2f} s (last / first {pushes[-1] / pushes[0]:.1f}x)"
        )
    report = result.report
    lines += [
        "",
        f"report: pushed {report.pushed}, applied {report.applied}, accepted offline"
        f" {report.accepted_offline}, rejected {report.rejected}, conflicts {report.conflicts},"
        f" duplicates {report.duplicates}, pulled {report.pulled}, error {report.error}",
        f"aim: all applied within {AIM_S:g} s: {sync_s:.2f} s = {sync_s / AIM_S:.2f}x the aim"
        f" (aim <= 1.00x), {n / sync_s:,.0f} tx/s",
        "checks: "
        + (
            "all rows applied in the terminal store, every transaction once in the ledger,"
            " balances as spent, audit clean"
            if not result.problems
            else "FAILED\n  " + "\n  ".join(result.problems[:20])
        ),
    ]
    if result.profile is not None:
        lines += ["", "where the sync round's time goes (all threads, under cProfile):"]
        lines.append(result.profile)
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run once and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10_000, help="queued offline uses")
    parser.add_argument("--cards", type=int, default=10, help="residents taking turns")
    parser.add_argument("--profile", action="store_true", help="cProfile the sync round")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)
    profiles = ThreadProfiles() if args.profile else None
    with tempfile.TemporaryDirectory(prefix="sync-catchup-bench-") as tmp:
        result = run(Path(tmp), args.transactions, args.cards, profiles)
    sys.stdout.write(render(result, args.cards))
    return 0 if not result.problems else 1


if __name__ == "__main__":
    sys.exit(main())
