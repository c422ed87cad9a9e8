"""The store's offline caches, sync state and settings, on real SQLite files."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from sync.protocol import (
    Balance,
    CardLink,
    CardState,
    LookupResponse,
    Lot,
    OfflineLimits,
    ProgramSettings,
    PullResponse,
    Redemption,
    RevocationInfo,
    RevocationSnapshot,
    RevokedEntry,
    ServiceIdEntry,
    VoucherKey,
)
from terminal.store import TerminalStore

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
FP1, FP2, FP3 = "1" * 64, "2" * 64, "3" * 64
LIMITS = OfflineLimits(
    max_per_transaction=3000,
    max_per_card_per_day=5000,
    max_per_terminal_since_sync=50000,
    max_hours_without_sync=24,
    max_revocation_age_hours=72,
)


def balance(program_id: int, points: int, name: str = "川崎ポイント") -> Balance:
    """A balance with one lot."""
    return Balance(
        program_id=program_id,
        program_name=name,
        points=points,
        overdraft=0,
        nearest_expiry=date(2027, 3, 31),
        lots=[Lot(expires_on=date(2027, 3, 31), points=points)],
    )


def program(program_id: int, name: str) -> ProgramSettings:
    """Program settings with the default offline limits."""
    return ProgramSettings(
        program_id=program_id,
        municipality_code="141305",
        name=name,
        kind="municipal",
        lot_validity_days=365,
        voucher_validity_days=90,
        voucher_max_points=10000,
        offline=LIMITS,
    )


def pull(
    cursor: str,
    *,
    cards: list[CardState] | None = None,
    programs: list[ProgramSettings] | None = None,
    keys: list[VoucherKey] | None = None,
    redemptions: list[Redemption] | None = None,
    revoked: list[RevokedEntry] | None = None,
    service_ids: list[ServiceIdEntry] | None = None,
) -> PullResponse:
    """A pull answer with the given deltas."""
    snapshot = RevocationSnapshot(
        generated_at=NOW,
        data_as_of=NOW - timedelta(hours=1),
        entries=revoked or [],
        server_key_id="k1",
        signature="c2ln",
    )
    return PullResponse(
        cursor=cursor,
        server_time=NOW + timedelta(seconds=1),
        cards=cards or [],
        service_ids=service_ids or [],
        revocation=RevocationInfo(snapshot=snapshot, age_seconds=3600),
        voucher_keys=keys or [],
        redemptions=redemptions or [],
        programs=programs or [],
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TerminalStore]:
    opened = TerminalStore.open(tmp_path / "terminal.sqlite3")
    yield opened
    opened.close()


def test_apply_pull_caches_everything_and_replaces_programs_and_keys(
    tmp_path: Path, store: TerminalStore
) -> None:
    card = CardState(
        mykey_id="KEY1",
        status="active",
        balances=[balance(1, 500), balance(2, 70, "豊島ポイント")],
        certificates=[
            CardLink(fingerprint_sha256=FP1, issuer="CN=JPKI", serial="11", mykey_id="KEY1"),
            CardLink(fingerprint_sha256=FP2, issuer="CN=JPKI", serial="12", mykey_id="KEY1"),
        ],
    )
    key_a = VoucherKey(terminal_id="T-A", business_id="B-1", public_key="a" * 44)
    key_b = VoucherKey(terminal_id="T-B", business_id="B-2", public_key="b" * 44)
    redeemed = Redemption(voucher_number="1234567890128", business_id="B-2", redeemed_at=NOW)
    received = NOW + timedelta(seconds=2)
    store.apply_pull(
        pull(
            "c1",
            cards=[card],
            programs=[program(1, "川崎"), program(2, "豊島")],
            keys=[key_a, key_b],
            redemptions=[redeemed],
            revoked=[RevokedEntry(issuer="CN=JPKI", serial="99")],
            service_ids=[ServiceIdEntry(mykey_id="KEY1", customer_id="M-001")],
        ),
        received_at=received,
    )
    cached = store.card_by_fingerprint(FP2)
    assert cached is not None
    assert cached.mykey_id == "KEY1" and cached.status == "active"
    assert cached.balances == [balance(1, 500), balance(2, 70, "豊島ポイント")]
    assert (cached.customer_id, cached.version, cached.updated_at) == ("M-001", "pull:c1", received)
    assert store.service_id("KEY1") == "M-001"
    assert [p.program_id for p in store.programs()] == [1, 2]
    assert store.program(2) == program(2, "豊島")
    assert store.voucher_keys() == [key_a, key_b]
    assert store.is_redeemed("1234567890128")
    assert not store.is_redeemed("1234567890135")
    state = store.sync_state()
    assert state.cursor == store.sync_cursor() == "c1"
    assert state.last_pull_server_time == NOW + timedelta(seconds=1)
    assert state.last_success_at == received and state.revocation_received_at == received
    assert state.revocation is not None
    assert state.revocation.snapshot.entries == [RevokedEntry(issuer="CN=JPKI", serial="99")]

    # the next pull: programs and keys replaced, redemptions kept (and repeats ignored),
    # the card's balances replaced, the error cleared, revocation replaced
    store.record_sync_error("サーバーに接続できません / Server unreachable", NOW)
    changed = card.model_copy(update={"status": "suspended", "balances": [balance(1, 20)]})
    store.apply_pull(
        pull(
            "c2",
            cards=[changed],
            programs=[program(2, "豊島2")],
            keys=[key_b],
            redemptions=[redeemed],
        ),
        received_at=received + timedelta(minutes=1),
    )
    assert store.programs() == [program(2, "豊島2")] and store.program(1) is None
    assert store.voucher_keys() == [key_b]
    assert store.is_redeemed("1234567890128")
    again = store.card_by_fingerprint(FP1)
    assert again is not None
    assert (again.status, again.balances, again.version) == (
        "suspended",
        [balance(1, 20)],
        "pull:c2",
    )
    state = store.sync_state()
    assert state.cursor == "c2" and state.last_error is None and state.last_error_at is None
    assert state.revocation is not None and state.revocation.snapshot.entries == []
    store.close()

    reopened = TerminalStore.open(tmp_path / "terminal.sqlite3")
    try:
        assert reopened.sync_cursor() == "c2"
        assert reopened.service_id("KEY1") == "M-001"
    finally:
        reopened.close()


def test_lookup_is_cached_and_unregistered_cards_are_not(store: TerminalStore) -> None:
    unregistered = LookupResponse(
        mykey_id=None, status="unregistered", balances=[], customer_id=None
    )
    store.remember_lookup(b"der3", FP3, "CN=JPKI", "13", unregistered, at=NOW)
    assert store.card_by_fingerprint(FP3) is None

    found = LookupResponse(
        mykey_id="KEY2", status="active", balances=[balance(1, 800)], customer_id="L-42"
    )
    store.remember_lookup(b"der1", FP1, "CN=JPKI", "11", found, at=NOW)
    cached = store.card_by_fingerprint(FP1)
    assert cached is not None
    assert (cached.mykey_id, cached.customer_id) == ("KEY2", "L-42")
    assert cached.balances == [balance(1, 800)]
    assert cached.version == "lookup:2026-11-24T03:00:00.000000+00:00"


def test_set_balance_after_an_online_answer(store: TerminalStore) -> None:
    found = LookupResponse(
        mykey_id="KEY2", status="active", balances=[balance(1, 800)], customer_id=None
    )
    store.remember_lookup(b"der1", FP1, "CN=JPKI", "11", found, at=NOW)
    store.set_balance("KEY2", 1, 500, 0, at=NOW + timedelta(seconds=5))
    store.set_balance("KEY2", 3, 40, 10, at=NOW + timedelta(seconds=5))
    cached = store.card_by_fingerprint(FP1)
    assert cached is not None
    assert [(b.program_id, b.points, b.overdraft) for b in cached.balances] == [
        (1, 500, 0),
        (3, 40, 10),
    ]
    assert cached.balances[0].program_name == "川崎ポイント"
    assert cached.version.startswith("result:")
    assert cached.customer_id is None
    store.set_service_id("KEY2", "L-7")
    assert store.service_id("KEY2") == "L-7"
    assert store.service_id("KEY9") is None


def test_sync_state_and_settings(store: TerminalStore) -> None:
    empty = store.sync_state()
    assert (empty.cursor, empty.last_success_at, empty.revocation) == (None, None, None)
    store.record_sync_error("端末の時計がずれています / The terminal clock is off", NOW)
    failed = store.sync_state()
    assert failed.last_error == "端末の時計がずれています / The terminal clock is off"
    assert failed.last_error_at == NOW
    store.record_sync_success(NOW + timedelta(minutes=1))
    ok = store.sync_state()
    assert ok.last_success_at == NOW + timedelta(minutes=1) and ok.last_error is None

    assert store.setting("attendance_event", None) is None
    store.set_setting("attendance_event", {"event": "祭り", "points": 100})
    store.set_setting("attendance_event", {"event": "祭り2", "points": 200})
    assert store.setting("attendance_event", None) == {"event": "祭り2", "points": 200}
