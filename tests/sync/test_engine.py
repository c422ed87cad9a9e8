"""The sync engine against the real ledger server (through the fault-injecting proxy), with
list-backed stand-ins for the terminal store's ports."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from server_stub.audit import audit
from sync.client import LedgerClient, RetryPolicy
from sync.engine import SyncEngine, SyncProgress
from sync.protocol import (
    Grant,
    PointUse,
    PullResponse,
    PushResponse,
    RevokedEntry,
    Transaction,
    b64encode,
)
from tests.support.faulty_proxy import Fault, FaultyProxy
from tests.sync.doubles import SENT, ListOutbox, MemoryCache
from tests.sync.support import EnrolledTerminal, LedgerServer

PUSH = "/v1/transactions/push"
QUICK_BACKOFF = RetryPolicy(base_delay=0.05, max_delay=0.2)


def wait_for(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    """Poll ``condition`` until true (a generous limit, never a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true")
        time.sleep(0.02)


def make_engine(
    terminal: EnrolledTerminal,
    url: str,
    outbox: ListOutbox,
    cache: MemoryCache,
    **kwargs: object,
) -> tuple[SyncEngine, LedgerClient]:
    client_options = kwargs.pop("client_options", {})
    assert isinstance(client_options, dict)
    client = terminal.client(url, **client_options)
    engine = SyncEngine(
        client,
        outbox,
        cache,
        server_public_key=terminal.identity.server_public_key,
        backoff=QUICK_BACKOFF,
        **kwargs,  # type: ignore[arg-type]
    )
    return engine, client


@pytest.fixture
def cache() -> MemoryCache:
    return MemoryCache()


def uses(
    terminal: EnrolledTerminal, ledger: LedgerServer, card: CardProfile, *points: int
) -> list[Transaction]:
    return [
        terminal.transaction(PointUse(program_id=ledger.program_id, points=p), card, offline=True)
        for p in points
    ]


def balance(ledger: LedgerServer, terminal: EnrolledTerminal, card: CardProfile) -> int:
    client = terminal.client(ledger.base_url)
    try:
        found = client.lookup(card.auth_certificate.public_bytes(serialization.Encoding.DER))
    finally:
        client.close()
    return sum(b.points for b in found.balances)


def test_pushes_1200_rows_in_three_batches_in_order(
    proxy: FaultyProxy,
    ledger: LedgerServer,
    desk_terminal: EnrolledTerminal,
    shop_terminal: EnrolledTerminal,
    sync_cards: list[CardProfile],
    cache: MemoryCache,
) -> None:
    ledger.resident(sync_cards[0], "BULK0001")
    start = datetime.now(UTC)
    txs = [
        desk_terminal.transaction(
            Grant(grant_program_id=ledger.grant_program_id, points=1),
            sync_cards[0],
            at=start + timedelta(microseconds=i),
        )
        for i in range(1200)
    ]
    outbox = ListOutbox(txs)
    progress: list[SyncProgress] = []
    engine, _ = make_engine(desk_terminal, proxy.url, outbox, cache, on_progress=progress.append)
    report = engine.sync_now()
    assert report.error is None
    assert (report.pushed, report.applied, report.rejected) == (1200, 1200, 0)
    assert [len(b) for b in outbox.batches] == [500, 500, 200]
    sent = [tx_id for batch in outbox.batches for tx_id in batch]
    assert sent == [tx.id for tx in txs]
    assert proxy.count(PUSH) == 3
    assert ledger.stored_ids(desk_terminal.terminal_id) == [str(tx.id) for tx in txs]
    assert outbox.unsynced_count() == 0
    assert balance(ledger, shop_terminal, sync_cards[0]) == 1200
    pending_seen = [p.pending for p in progress]
    assert pending_seen[0] == 1200 and 700 in pending_seen and 200 in pending_seen
    assert progress[-1].pending == 0 and progress[-1].online and progress[-1].pushed == 1200


def test_half_accepted_batch_records_each_result(
    ledger: LedgerServer,
    shop_terminal: EnrolledTerminal,
    sync_cards: list[CardProfile],
    cache: MemoryCache,
) -> None:
    ledger.resident(sync_cards[0], "HALF0001", 1000)
    first, too_much, last = uses(shop_terminal, ledger, sync_cards[0], 300, 5000, 200)
    outbox = ListOutbox([first, too_much, last])
    engine, _ = make_engine(shop_terminal, ledger.base_url, outbox, cache)
    report = engine.sync_now()
    assert report.error is None
    assert (report.pushed, report.rejected) == (3, 1)
    assert report.applied + report.accepted_offline == 2
    assert outbox.state(too_much.id) == "rejected"
    rejected = outbox.entries[too_much.id].result
    assert rejected is not None and rejected.reason and rejected.message_ja
    assert outbox.state(first.id) in ("applied", "accepted_offline")
    assert outbox.state(last.id) in ("applied", "accepted_offline")
    assert balance(ledger, shop_terminal, sync_cards[0]) == 500


def test_lost_acknowledgement_then_next_round_gets_duplicate(
    proxy: FaultyProxy,
    ledger: LedgerServer,
    shop_terminal: EnrolledTerminal,
    sync_cards: list[CardProfile],
    cache: MemoryCache,
) -> None:
    ledger.resident(sync_cards[0], "LOSTACK3", 1000)
    txs = uses(shop_terminal, ledger, sync_cards[0], 100, 250)
    outbox = ListOutbox(txs)
    engine, _ = make_engine(shop_terminal, proxy.url, outbox, cache)
    proxy.plan([Fault.LOSE_ACK])
    failed = engine.sync_now()
    assert failed.error == "サーバーに接続できません / Server unreachable"
    assert [outbox.state(tx.id) for tx in txs] == [SENT, SENT]
    assert outbox.entries[txs[0].id].last_error == failed.error
    assert cache.errors[-1][0] == failed.error and not cache.pulls
    assert ledger.transaction_count(shop_terminal.terminal_id) == 2  # the server applied them

    report = engine.sync_now()
    assert report.error is None
    assert (report.pushed, report.duplicates, report.applied) == (2, 2, 2)
    assert [outbox.state(tx.id) for tx in txs] == ["applied", "applied"]
    assert [outbox.entries[tx.id].attempts for tx in txs] == [2, 2]
    assert ledger.transaction_count(shop_terminal.terminal_id) == 2
    assert balance(ledger, shop_terminal, sync_cards[0]) == 650
    with ledger.engine.connect() as conn:
        assert audit(conn) == []


def test_pull_cursor_advances_and_is_stored(
    ledger: LedgerServer,
    shop_terminal: EnrolledTerminal,
    sync_cards: list[CardProfile],
    cache: MemoryCache,
) -> None:
    ledger.resident(sync_cards[0], "PULL0001", 1000)
    outbox = ListOutbox(uses(shop_terminal, ledger, sync_cards[0], 100))
    engine, _ = make_engine(shop_terminal, ledger.base_url, outbox, cache)
    assert engine.sync_now().pulled
    first_cursor = cache.cursor
    assert first_cursor is not None and int(first_cursor) > 0
    # the last pull of a round returns the cursor it was given: the cursor stopped moving
    assert cache.pulls[-1].cursor == first_cursor
    with ledger.engine.begin() as conn:
        op.grant_points(conn, ledger.grant_program_id, "PULL0001", 400)
    pulls_before = len(cache.pulls)
    assert engine.sync_now().error is None
    assert cache.cursor is not None and int(cache.cursor) > int(first_cursor)
    new_pulls = cache.pulls[pulls_before:]
    changed = [card for pull in new_pulls for card in pull.cards if card.mykey_id == "PULL0001"]
    assert changed and sum(b.points for b in changed[0].balances) == 1300


class TamperingClient:
    """The real client, but each pull's revocation snapshot is altered in transit."""

    def __init__(self, client: LedgerClient) -> None:
        self.client = client

    @property
    def last_clock_offset(self) -> float | None:
        return self.client.last_clock_offset

    def push(self, transactions: list[Transaction]) -> PushResponse:
        return self.client.push(transactions)

    def pull(self, cursor: str | None) -> PullResponse:
        pull = self.client.pull(cursor)
        snapshot = pull.revocation.snapshot
        forged = snapshot.model_copy(
            update={"entries": [*snapshot.entries, RevokedEntry(issuer="CN=x", serial="1")]}
        )
        revocation = pull.revocation.model_copy(update={"snapshot": forged})
        return pull.model_copy(update={"revocation": revocation})


def test_tampered_revocation_snapshot_is_refused(
    ledger: LedgerServer, shop_terminal: EnrolledTerminal, cache: MemoryCache
) -> None:
    client = shop_terminal.client(ledger.base_url)
    engine = SyncEngine(
        TamperingClient(client),
        ListOutbox(),
        cache,
        server_public_key=shop_terminal.identity.server_public_key,
    )
    report = engine.sync_now()
    assert report.error is not None and "revocation list" in report.error
    assert not report.pulled and cache.pulls == [] and cache.cursor is None
    assert cache.errors[-1][0] == report.error


def test_snapshot_signed_by_another_key_is_refused(
    ledger: LedgerServer, shop_terminal: EnrolledTerminal, cache: MemoryCache
) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    raw = other.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    engine = SyncEngine(
        shop_terminal.client(ledger.base_url), ListOutbox(), cache, server_public_key=b64encode(raw)
    )
    assert engine.sync_now().error is not None
    assert cache.pulls == []


def test_clock_two_hours_off_is_reported_in_plain_words(
    ledger: LedgerServer,
    shop_terminal: EnrolledTerminal,
    sync_cards: list[CardProfile],
    cache: MemoryCache,
) -> None:
    ledger.resident(sync_cards[0], "CLOCK001", 1000)
    tx = uses(shop_terminal, ledger, sync_cards[0], 100)[0]
    outbox = ListOutbox([tx])
    engine, _ = make_engine(
        shop_terminal,
        ledger.base_url,
        outbox,
        cache,
        client_options={"clock": lambda: datetime.now(UTC) - timedelta(hours=2)},
    )
    report = engine.sync_now()
    assert report.error == (
        "端末の時計がずれています（約2時間） / The terminal clock is off by about 2 hours"
    )
    assert outbox.state(tx.id) == SENT and outbox.entries[tx.id].last_error == report.error
    assert engine.progress.last_error == report.error and engine.progress.online
    assert ledger.transaction_count(shop_terminal.terminal_id) == 0


def test_revoked_terminal_is_reported_in_plain_words(
    ledger: LedgerServer, shop_terminal: EnrolledTerminal, cache: MemoryCache
) -> None:
    ledger.revoke(shop_terminal.terminal_id)
    engine, _ = make_engine(shop_terminal, ledger.base_url, ListOutbox(), cache)
    assert (
        engine.sync_now().error == "この端末は無効にされています / This terminal has been revoked"
    )


@pytest.fixture
def background() -> Iterator[list[SyncEngine]]:
    """Engines to stop after the test, whatever happens."""
    engines: list[SyncEngine] = []
    yield engines
    for engine in engines:
        engine.stop()


def test_background_thread_syncs_on_wake_backs_off_and_recovers(
    proxy: FaultyProxy,
    ledger: LedgerServer,
    shop_terminal: EnrolledTerminal,
    sync_cards: list[CardProfile],
    cache: MemoryCache,
    background: list[SyncEngine],
) -> None:
    ledger.resident(sync_cards[1], "BACKGND1", 1000)
    outbox = ListOutbox()
    engine, _ = make_engine(shop_terminal, proxy.url, outbox, cache, interval=600.0)
    background.append(engine)
    engine.start()
    wait_for(lambda: len(cache.successes) == 1)  # the first round runs at once

    first = uses(shop_terminal, ledger, sync_cards[1], 100)
    outbox.add(*first)
    engine.wake()  # without it the next round would be 600 s away
    wait_for(lambda: len(cache.successes) == 2)
    assert outbox.state(first[0].id) == "applied"

    proxy.mode = Fault.REFUSE  # the server is down
    second = uses(shop_terminal, ledger, sync_cards[1], 200)
    outbox.add(*second)
    engine.wake()
    wait_for(lambda: len(cache.errors) >= 3)  # retried on its own: backoff, not the interval
    assert cache.errors[-1][0] == "サーバーに接続できません / Server unreachable"
    assert outbox.state(second[0].id) == SENT
    assert not engine.progress.online and engine.progress.next_attempt_at is not None

    proxy.mode = Fault.PASS  # back up
    wait_for(lambda: len(cache.successes) == 3)
    assert outbox.state(second[0].id) == "applied"
    assert engine.progress.last_error is None and engine.progress.pending == 0
    assert balance(ledger, shop_terminal, sync_cards[1]) == 700

    engine.stop()
    assert not engine.running


def test_stop_ends_a_thread_that_is_backing_off(
    proxy: FaultyProxy, shop_terminal: EnrolledTerminal, cache: MemoryCache
) -> None:
    proxy.mode = Fault.REFUSE
    engine = SyncEngine(
        shop_terminal.client(proxy.url),
        ListOutbox(),
        cache,
        server_public_key=shop_terminal.identity.server_public_key,
        backoff=RetryPolicy(base_delay=60.0, max_delay=60.0),
    )
    engine.start()
    wait_for(lambda: len(cache.errors) >= 1)
    engine.stop()
    assert not engine.running


def test_a_row_the_server_refuses_does_not_hold_back_the_others(
    proxy: FaultyProxy,
    ledger: LedgerServer,
    shop_terminal: EnrolledTerminal,
    sync_cards: list[CardProfile],
    cache: MemoryCache,
) -> None:
    ledger.resident(sync_cards[0], "POISON01", 1000)
    txs = uses(shop_terminal, ledger, sync_cards[0], 10, 20, 30, 40, 50)
    # a row left from an earlier enrollment: the server refuses any push that contains it
    poison = txs[2].model_copy(update={"business_id": "A0002"})
    txs[2] = poison
    outbox = ListOutbox(txs)
    engine, _ = make_engine(shop_terminal, proxy.url, outbox, cache)
    report = engine.sync_now()
    assert report.error is not None and "another business" in report.error
    assert report.pulled and report.applied == 4
    assert [outbox.state(tx.id) for tx in txs] == ["applied"] * 2 + [SENT] + ["applied"] * 2
    assert outbox.entries[poison.id].last_error == report.error
    assert ledger.transaction_count(shop_terminal.terminal_id) == 4
    assert balance(ledger, shop_terminal, sync_cards[0]) == 880
    pushes = proxy.count(PUSH)
    assert pushes <= 2 * len(txs) - 1  # halves down to the one row, not one request per row
    engine.sync_now()  # the next round tries the held-back row once more, alone
    assert proxy.count(PUSH) == pushes + 1
