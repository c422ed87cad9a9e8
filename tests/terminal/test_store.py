"""The terminal store's database and outbox, on real SQLite files: durability, migrations,
idempotent adds, result states, attendance taps, sums, thread safety."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.protocol import (
    CardAuthorisation,
    Grant,
    PointUse,
    ResultStatus,
    Transaction,
    TransactionKind,
    TransactionResult,
    VoucherRedeem,
    b64encode,
    transaction_digest,
    uuid7,
    voucher_check_digit,
)
from terminal.errors import AlreadyTappedError, StoreError
from terminal.store import (
    SCHEMA_VERSION,
    LocalDecision,
    OutboxState,
    Tap,
    TerminalStore,
)
from terminal.store.db import connect, migrate

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
CARD = CardAuthorisation(certificate=b64encode(b"certificate-der"), signature=b64encode(b"sig"))


def use_tx(points: int = 100, *, at: datetime = NOW, program_id: int = 1) -> Transaction:
    """A signed point use of ``points`` at terminal time ``at``."""
    return Transaction(
        id=uuid7(at),
        terminal_id="T-1",
        business_id="B-1",
        terminal_time=at,
        payload=PointUse(program_id=program_id, points=points),
        card=CARD,
    )


def use_points(tx: Transaction) -> int:
    """The points a point use takes."""
    assert isinstance(tx.payload, PointUse)
    return tx.payload.points


def grant_tx(points: int = 50, *, event: str | None = None) -> Transaction:
    """A grant of ``points`` (optionally an attendance tap at ``event``)."""
    return Transaction(
        id=uuid7(NOW),
        terminal_id="T-1",
        business_id="B-1",
        terminal_time=NOW,
        payload=Grant(grant_program_id=7, points=points, event=event),
        card=CardAuthorisation(certificate=b64encode(b"certificate-der")),
    )


def result(tx: Transaction, status: ResultStatus, **extra: object) -> TransactionResult:
    """The server's answer for ``tx``."""
    return TransactionResult.model_validate(
        {"id": tx.id, "status": status, "server_time": NOW, **extra}
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TerminalStore]:
    opened = TerminalStore.open(tmp_path / "data" / "terminal.sqlite3")
    yield opened
    opened.close()


# --- database -------------------------------------------------------------------------------


def test_open_sets_wal_and_full_sync_and_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "new" / "terminal.sqlite3"
    TerminalStore.open(path).close()
    conn = connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()
    store = TerminalStore.open(path)
    try:
        sync = store._db.conn.execute("PRAGMA synchronous").fetchone()[0]
        assert sync == 2
        assert store.sync_cursor() is None
        assert store.unsynced_count() == 0
    finally:
        store.close()


def test_version_1_file_is_upgraded_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "terminal.sqlite3"
    conn = connect(path)
    migrate(conn, upto=1)
    conn.execute("INSERT INTO settings (key, value_json) VALUES ('printer', '\"usb\"')")
    conn.close()

    store = TerminalStore.open(path)
    try:
        assert store._db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.setting("printer", "none") == "usb"
        assert store.card_by_fingerprint("ab" * 32) is None  # a version-2 table answers
    finally:
        store.close()


def test_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "terminal.sqlite3"
    TerminalStore.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError) as caught:
        TerminalStore.open(path)
    assert "newer than this program knows" in caught.value.detail
    assert caught.value.code == "local-store-error"


# --- durability -----------------------------------------------------------------------------


def test_added_row_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "terminal.sqlite3"
    tx = use_tx(300)
    store = TerminalStore.open(path)
    row = store.add_transaction(tx, mykey_id="KEY1", program_id=1, points=300)
    store.close()

    again = TerminalStore.open(path)
    try:
        stored = again.get(tx.id)
        assert stored == row
        assert stored is not None
        assert stored.transaction == tx
        assert stored.digest == transaction_digest(tx)
        assert stored.state is OutboxState.PENDING
        assert stored.created_at == NOW
        assert again.pending_transactions(10) == [tx]
    finally:
        again.close()


_CHILD = """
import os, signal, sys
from pathlib import Path
from sync.protocol import Transaction
from terminal.store import TerminalStore
store = TerminalStore.open(Path(sys.argv[1]))
tx = Transaction.model_validate_json(sys.argv[2])
store.add_transaction(tx, mykey_id="KEY1", program_id=1, points=100)
sys.stdout.write("added\\n")
sys.stdout.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_added_row_survives_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / "terminal.sqlite3"
    tx = use_tx(100)
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), tx.model_dump_json()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert child.stdout == "added\n"
    assert Path(f"{path}-wal").exists()  # nothing checkpointed it: the WAL holds the commit

    store = TerminalStore.open(path)
    try:
        row = store.get(tx.id)
        assert row is not None
        assert row.transaction == tx
        assert store.unsynced_count() == 1
    finally:
        store.close()


# --- outbox ---------------------------------------------------------------------------------


def test_re_adding_the_same_id_returns_the_first_row_unchanged(store: TerminalStore) -> None:
    tx = use_tx(100)
    first = store.add_transaction(tx, mykey_id="KEY1", program_id=1, points=100)
    store.mark_sent([tx.id])
    again = store.add_transaction(
        tx, mykey_id="OTHER", program_id=2, points=999, decision=LocalDecision.OFFLINE
    )
    assert again.seq == first.seq
    assert (again.mykey_id, again.points, again.state) == ("KEY1", 100, OutboxState.SENT)
    assert len(store.rows()) == 1


def test_sent_attempts_failure_and_results(store: TerminalStore) -> None:
    a, b, c = use_tx(10), use_tx(20), use_tx(30)
    for tx in (a, b, c):
        store.add_transaction(tx, mykey_id="KEY1", program_id=1, points=use_points(tx))
    store.mark_sent([a.id, b.id])
    store.record_failure([a.id, b.id], "サーバーに接続できません / Server unreachable")
    row_a = store.get(a.id)
    assert row_a is not None
    assert (row_a.state, row_a.attempts) == (OutboxState.SENT, 1)
    assert row_a.last_error == "サーバーに接続できません / Server unreachable"
    assert store.pending_transactions(10) == [a, b, c]  # sent rows are resent, same order
    assert store.pending_transactions(2) == [a, b]

    rows = store.record_results(
        [
            result(a, ResultStatus.APPLIED, balance=990),
            result(b, ResultStatus.DUPLICATE, original_status=ResultStatus.ACCEPTED_OFFLINE),
            result(use_tx(), ResultStatus.APPLIED),  # unknown ID: ignored
        ]
    )
    assert [(r.id, r.state) for r in rows] == [
        (a.id, OutboxState.APPLIED),
        (b.id, OutboxState.ACCEPTED_OFFLINE),
    ]
    assert rows[0].result is not None and rows[0].result.balance == 990
    assert rows[0].last_error is None and rows[0].is_final
    assert store.unsynced_count() == 1
    assert store.pending_transactions(10) == [c]


def test_a_final_state_never_goes_back(store: TerminalStore) -> None:
    tx = use_tx(10)
    store.add_transaction(tx, mykey_id="KEY1", program_id=1, points=10)
    store.record_results([result(tx, ResultStatus.REJECTED, reason="insufficient")])
    store.mark_sent([tx.id])
    store.record_failure([tx.id], "late failure")
    store.mark_offline(tx.id)
    row = store.get(tx.id)
    assert row is not None
    assert row.state is OutboxState.REJECTED
    assert (row.attempts, row.last_error, row.decision) == (0, None, LocalDecision.ONLINE)
    assert store.pending_transactions(10) == []
    assert [p.id for p in store.problems()] == [tx.id]


def test_mark_offline_keeps_id_and_digest(store: TerminalStore) -> None:
    tx = use_tx(40)
    first = store.add_transaction(tx, mykey_id="KEY1", program_id=1, points=40)
    row = store.mark_offline(tx.id)
    assert row.transaction.offline is True
    assert row.id == tx.id and row.digest == first.digest == transaction_digest(tx)
    assert row.decision is LocalDecision.OFFLINE and row.state is OutboxState.PENDING
    assert store.pending_transactions(1)[0].offline is True
    undecided = store.mark_undecided(tx.id)
    assert undecided.decision is LocalDecision.UNDECIDED
    assert undecided.state is OutboxState.PENDING


def test_unknown_id_is_a_store_error(store: TerminalStore) -> None:
    with pytest.raises(StoreError):
        store.mark_offline(uuid7())


def test_second_tap_at_an_event_writes_nothing(store: TerminalStore) -> None:
    tap = Tap(event="festival-1", grant_program_id=7, card_fingerprint="f" * 64)
    first = grant_tx(event="festival-1")
    store.add_transaction(first, mykey_id="KEY1", program_id=1, points=50, tap=tap)
    second = grant_tx(event="festival-1")
    with pytest.raises(AlreadyTappedError):
        store.add_transaction(second, mykey_id="KEY1", program_id=1, points=50, tap=tap)
    assert store.get(second.id) is None
    assert store.unsynced_count() == 1
    assert store.taps("festival-1") == [tap]
    other = Tap(event="festival-2", grant_program_id=7, card_fingerprint="f" * 64)
    store.add_transaction(
        grant_tx(event="festival-2"), mykey_id="KEY1", program_id=1, points=50, tap=other
    )
    assert store.taps("festival-2") == [other]


def test_offline_points_and_pending_delta(store: TerminalStore) -> None:
    day = NOW
    offline_a = use_tx(100, at=day)
    offline_b = use_tx(200, at=day + timedelta(hours=1))
    offline_rejected = use_tx(400, at=day + timedelta(hours=2))
    offline_yesterday = use_tx(800, at=day - timedelta(days=1))
    offline_other_card = use_tx(1600, at=day)
    online = use_tx(3200, at=day)
    for tx, card in [
        (offline_a, "KEY1"),
        (offline_b, "KEY1"),
        (offline_rejected, "KEY1"),
        (offline_yesterday, "KEY1"),
        (offline_other_card, "KEY2"),
    ]:
        store.add_transaction(
            tx,
            mykey_id=card,
            program_id=1,
            points=use_points(tx),
            decision=LocalDecision.OFFLINE,
        )
    store.add_transaction(online, mykey_id="KEY1", program_id=1, points=3200)
    store.record_results([result(offline_rejected, ResultStatus.REJECTED)])
    store.record_results([result(offline_b, ResultStatus.ACCEPTED_OFFLINE)])

    assert store.offline_points(since=day, until=day + timedelta(days=1), mykey_id="KEY1") == 300
    assert store.offline_points(since=day, mykey_id="KEY2") == 1600
    assert store.offline_points(since=None) == 100 + 200 + 800 + 1600
    assert store.offline_points(since=day + timedelta(hours=1)) == 200

    # unsynced for KEY1/program 1: uses 100 + 800 + 3200 taken; a grant of 50 given
    store.add_transaction(grant_tx(50), mykey_id="KEY1", program_id=1, points=50)
    store.add_transaction(use_tx(5, program_id=2), mykey_id="KEY1", program_id=2, points=5)
    assert store.pending_delta("KEY1", 1) == -100 - 800 - 3200 + 50
    assert store.pending_delta("KEY1", 2) == -5
    assert store.pending_delta("KEY3", 1) == 0


def test_rows_filter_newest_first(store: TerminalStore) -> None:
    old, mid, new = (use_tx(1, at=NOW + timedelta(minutes=m)) for m in (0, 10, 20))
    redeem = Transaction(
        id=uuid7(),
        terminal_id="T-1",
        business_id="B-1",
        terminal_time=NOW + timedelta(minutes=5),
        payload=VoucherRedeem(number="123456789012" + voucher_check_digit("123456789012")),
    )
    for tx in (new, old, redeem, mid):
        store.add_transaction(tx, mykey_id=None, program_id=None, points=0)
    assert [r.id for r in store.rows()] == [new.id, mid.id, redeem.id, old.id]
    assert [r.id for r in store.rows(kinds={TransactionKind.VOUCHER_REDEEM})] == [redeem.id]
    window = store.rows(since=NOW + timedelta(minutes=5), until=NOW + timedelta(minutes=20))
    assert [r.id for r in window] == [mid.id, redeem.id]
    assert [r.id for r in store.rows(limit=1)] == [new.id]
    assert store.is_redeemed(redeem.payload.number)  # type: ignore[union-attr]


def test_two_threads_writing_at_once_lose_nothing(store: TerminalStore) -> None:
    per_thread = 60
    errors: list[BaseException] = []
    made: list[list[Transaction]] = [[], []]

    def work(index: int) -> None:
        try:
            for _ in range(per_thread):
                tx = use_tx(1)
                made[index].append(tx)
                store.add_transaction(tx, mykey_id=f"KEY{index}", program_id=1, points=1)
                store.mark_sent([tx.id])
                store.record_sync_success(datetime.now(UTC))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.unsynced_count() == 2 * per_thread
    stored = {tx.id for tx in store.pending_transactions(1000)}
    assert stored == {tx.id for tx in made[0] + made[1]}
    assert store.pending_delta("KEY0", 1) == store.pending_delta("KEY1", 1) == -per_thread
