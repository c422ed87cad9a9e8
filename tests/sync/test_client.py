"""The ledger client against the real server, through a fault-injecting proxy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization

from cardio.virtual.profile import CardProfile
from server_stub.audit import audit
from server_stub.errors import ClockSkewError, TerminalRevokedError, WrongRoleError
from sync.client import CLOCK_SKEW_CODE, LedgerClient, RetryPolicy
from sync.protocol import (
    LedgerRefusedError,
    LedgerUnreachableError,
    PointUse,
    ResultStatus,
)
from tests.support.faulty_proxy import Fault, FaultyProxy
from tests.sync.support import STREET, EnrolledTerminal, LedgerServer

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
PULL, PUSH = "/v1/pull", "/v1/transactions/push"


def der(card: CardProfile) -> bytes:
    return card.auth_certificate.public_bytes(serialization.Encoding.DER)


def test_enrolled_terminal_makes_signed_calls(
    ledger: LedgerServer, shop_terminal: EnrolledTerminal, sync_cards: list[CardProfile]
) -> None:
    ledger.resident(sync_cards[0], "CLIENT01", 800)
    client = shop_terminal.client(ledger.base_url)
    try:
        pull = client.pull(None)
        assert [p.program_id for p in pull.programs] == [ledger.program_id]
        found = client.lookup(der(sync_cards[0]))
        assert found.mykey_id == "CLIENT01"
        assert [b.points for b in found.balances] == [800]
        assert client.last_clock_offset is not None and abs(client.last_clock_offset) < 60
    finally:
        client.close()
    assert shop_terminal.identity.server_public_key


def test_office_calls_and_role_refusal(ledger: LedgerServer) -> None:
    office = ledger.enroll(STREET, ("office",))
    client = office.client(ledger.base_url)
    try:
        answer = client.mykey_availability("FREE0001")
        assert answer.available and answer.mykey_id == "FREE0001"
        assert len(client.mykey_challenge().challenge) >= 16
    finally:
        client.close()
    shop = ledger.enroll()
    with pytest.raises(LedgerRefusedError) as refused:
        shop.client(ledger.base_url).mykey_availability("FREE0001")
    assert refused.value.status == 403
    assert refused.value.code == WrongRoleError.code
    assert refused.value.title_ja == WrongRoleError.title_ja


def test_retries_until_the_server_answers(
    proxy: FaultyProxy, shop_terminal: EnrolledTerminal
) -> None:
    proxy.plan([Fault.CLOSE, Fault.ERROR_502])
    client = shop_terminal.client(proxy.url, retry=FAST_RETRY)
    assert client.pull(None).cursor
    assert proxy.count(PULL) == 3


@pytest.mark.parametrize(
    "fault", [Fault.CLOSE, Fault.REFUSE, Fault.ERROR_500, Fault.ERROR_502, Fault.GARBAGE]
)
def test_no_usable_answer_is_unreachable_after_all_attempts(
    proxy: FaultyProxy, shop_terminal: EnrolledTerminal, fault: Fault
) -> None:
    proxy.mode = fault
    client = shop_terminal.client(proxy.url, retry=FAST_RETRY)
    with pytest.raises(LedgerUnreachableError):
        client.pull(None)
    expected = 0 if fault is Fault.REFUSE else 3  # refused connections never reach the proxy
    assert proxy.count(PULL) == expected


def test_default_policy_tries_once(proxy: FaultyProxy, shop_terminal: EnrolledTerminal) -> None:
    proxy.plan([Fault.ERROR_500])
    with pytest.raises(LedgerUnreachableError):
        shop_terminal.client(proxy.url).pull(None)
    assert proxy.count(PULL) == 1


def test_timeout_is_unreachable(proxy: FaultyProxy, shop_terminal: EnrolledTerminal) -> None:
    proxy.delay_s = 1.0
    proxy.plan([Fault.DELAY])
    client = shop_terminal.client(proxy.url, timeout=0.2)
    with pytest.raises(LedgerUnreachableError, match="no answer within"):
        client.pull(None)


def test_challenge_is_never_retried(proxy: FaultyProxy, ledger: LedgerServer) -> None:
    office = ledger.enroll(STREET, ("office",))
    proxy.plan([Fault.CLOSE])
    with pytest.raises(LedgerUnreachableError):
        office.client(proxy.url, retry=FAST_RETRY).mykey_challenge()
    assert proxy.count("/v1/mykey/challenge") == 1


def test_problem_is_a_final_refusal_with_code_and_titles(
    proxy: FaultyProxy, ledger: LedgerServer, shop_terminal: EnrolledTerminal
) -> None:
    ledger.revoke(shop_terminal.terminal_id)
    client = shop_terminal.client(proxy.url, retry=FAST_RETRY)
    with pytest.raises(LedgerRefusedError) as refused:
        client.pull(None)
    assert (refused.value.status, refused.value.code) == (403, TerminalRevokedError.code)
    assert refused.value.title_ja == TerminalRevokedError.title_ja
    assert refused.value.title_en == TerminalRevokedError.title_en
    assert proxy.count(PULL) == 1  # a refusal is not retried


def test_clock_two_hours_off_is_refused_as_clock_skew(
    ledger: LedgerServer, shop_terminal: EnrolledTerminal
) -> None:
    client = shop_terminal.client(
        ledger.base_url, clock=lambda: datetime.now(UTC) + timedelta(hours=2)
    )
    with pytest.raises(LedgerRefusedError) as refused:
        client.pull(None)
    assert refused.value.code == CLOCK_SKEW_CODE == ClockSkewError.code
    assert refused.value.status == 401
    assert client.last_clock_offset is not None
    assert -7300 < client.last_clock_offset < -7100  # the server is 2 h behind this terminal


def test_lost_acknowledgement_is_answered_by_duplicate_and_applied_once(
    proxy: FaultyProxy,
    ledger: LedgerServer,
    shop_terminal: EnrolledTerminal,
    sync_cards: list[CardProfile],
) -> None:
    ledger.resident(sync_cards[0], "LOSTACK1", 1000)
    tx = shop_terminal.transaction(
        PointUse(program_id=ledger.program_id, points=300), sync_cards[0]
    )
    proxy.plan([Fault.LOSE_ACK])  # the server commits, the answer never arrives
    client = shop_terminal.client(proxy.url, retry=FAST_RETRY)
    result = client.push([tx]).results[0]
    assert proxy.count(PUSH) == 2
    assert result.status is ResultStatus.DUPLICATE
    assert result.original_status is ResultStatus.APPLIED
    assert result.balance == 700
    assert ledger.transaction_count(shop_terminal.terminal_id) == 1
    assert [b.points for b in client.lookup(der(sync_cards[0])).balances] == [700]
    with ledger.engine.connect() as conn:
        assert audit(conn) == []


def test_lost_acknowledgement_without_retry_is_unreachable(
    proxy: FaultyProxy,
    ledger: LedgerServer,
    shop_terminal: EnrolledTerminal,
    sync_cards: list[CardProfile],
) -> None:
    ledger.resident(sync_cards[0], "LOSTACK2", 1000)
    tx = shop_terminal.transaction(
        PointUse(program_id=ledger.program_id, points=100), sync_cards[0]
    )
    proxy.plan([Fault.LOSE_ACK])
    client: LedgerClient = shop_terminal.client(proxy.url)
    with pytest.raises(LedgerUnreachableError):
        client.authorize(tx)
    assert ledger.transaction_count(shop_terminal.terminal_id) == 1  # applied all the same
    again = client.authorize(tx)
    assert again.status is ResultStatus.DUPLICATE and again.balance == 900


def test_retry_policy_backs_off_exponentially_with_a_cap() -> None:
    policy = RetryPolicy(attempts=5, base_delay=0.5, max_delay=3.0)
    assert [policy.ceiling(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.ceiling(10_000) == 3.0
    for n in range(1, 8):
        assert all(0.0 <= policy.delay(n) <= policy.ceiling(n) for _ in range(50))
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
