"""Fixtures for the tests that go through the real PC/SC stack: pcscd + vpcd + our emulator.

There is one vpcd reader we can put cards in ("Virtual PCD 00 00") for the whole machine, so one
session-scoped ``VpcdBridge`` owns it; each test places the cards it needs through ``reader``,
which waits until pcscd itself reports the card present (or the reader empty) and leaves the
reader empty afterwards. The test CA and a card profile are made once per session in temporary
folders; tests that spend PIN tries issue their own cards.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from cardio.virtual.vpcd import VpcdBridge
from tests.card_pcsc.support import PIN, READER, ROOT, VPCD_PORT, Reader, card_present


@pytest.fixture(scope="session")
def pcscd() -> None:
    """pcscd is running (started through scripts/pcscd.sh when it is not; never stopped)."""
    done = subprocess.run(
        [str(ROOT / "scripts" / "pcscd.sh"), "start"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"pcscd did not start: {done.stdout}{done.stderr}", pytrace=False)


@pytest.fixture(scope="session")
def bridge(pcscd: None) -> Iterator[VpcdBridge]:
    """The session's one bridge to 'Virtual PCD 00 00'."""
    vpcd_bridge = VpcdBridge("127.0.0.1", VPCD_PORT)
    vpcd_bridge.start()
    try:
        yield vpcd_bridge
    finally:
        vpcd_bridge.stop()


@pytest.fixture
def reader(bridge: VpcdBridge) -> Iterator[Reader]:
    """The vpcd reader, empty at the start and at the end of the test."""
    placed = Reader(bridge)
    if bridge.card is not None or card_present(READER):
        placed.remove()
    try:
        yield placed
    finally:
        placed.remove()


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    """The session's test CA (O=JPKI-TEST) in a temporary folder."""
    return TestCA.init(tmp_path_factory.mktemp("ca") / "ca")


@pytest.fixture(scope="session")
def trust_dir(test_ca: TestCA) -> Path:
    """A trust-anchor folder holding only the test CA's certificate (PEM)."""
    return test_ca.trust_directory


@pytest.fixture(scope="session")
def issue_card(
    test_ca: TestCA, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], CardProfile]:
    """Issue a fresh card profile (PIN ``PIN``, 3 tries) in its own temporary folder."""

    def issue() -> CardProfile:
        return test_ca.issue_card(tmp_path_factory.mktemp("card") / "profile", PIN)

    return issue


@pytest.fixture(scope="session")
def shared_profile(issue_card: Callable[[], CardProfile]) -> CardProfile:
    """A card for tests that never spend a PIN try."""
    return issue_card()
