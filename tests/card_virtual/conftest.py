"""Fixtures of the emulator's tests: one CA and one issued card per session (RSA keys are slow),
copied into a fresh folder for each test so counters never leak between tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cardio.virtual.ca import TestCA
from cardio.virtual.card import VirtualJpkiCard
from cardio.virtual.profile import CardProfile

PIN = "7391"
SIGN_PASSWORD = "TESTPW2026"


@pytest.fixture(scope="session")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A test CA folder made once per session (tests that change it use ``fresh_ca``)."""
    directory = tmp_path_factory.mktemp("ca") / "ca"
    TestCA.init(directory)
    return directory


@pytest.fixture(scope="session")
def template_profile_dir(ca_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A card issued once per session; tests get copies."""
    directory = tmp_path_factory.mktemp("template") / "card"
    TestCA.load(ca_dir).issue_card(directory, PIN, sign_password=SIGN_PASSWORD)
    return directory


@pytest.fixture
def fresh_ca(ca_dir: Path, tmp_path: Path) -> TestCA:
    """A private copy of the session's CA (revocations and renewals stay in this test)."""
    target = tmp_path / "ca"
    shutil.copytree(ca_dir, target)
    return TestCA.load(target)


@pytest.fixture
def profile(template_profile_dir: Path, tmp_path: Path) -> CardProfile:
    """A private copy of the session's card profile, with full tries."""
    target = tmp_path / "card"
    shutil.copytree(template_profile_dir, target)
    return CardProfile.load(target)


@pytest.fixture
def card(profile: CardProfile) -> VirtualJpkiCard:
    """A powered virtual card (instant latency) of ``profile``."""
    return VirtualJpkiCard(profile)
