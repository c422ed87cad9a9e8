"""Shared fixtures: one test CA for the session, and fresh virtual cards built from one profile.

Keys are made once (RSA generation is the slow part); each test gets its own copy of the
profile, so PIN counters never leak between tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cardio.auth import TrustStore
from cardio.virtual.ca import TestCA
from cardio.virtual.card import Faults, VirtualJpkiCard
from cardio.virtual.profile import CardProfile

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
PIN = "4826"
WRONG_PIN = "9157"


@pytest.fixture(scope="session")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA.init(tmp_path_factory.mktemp("ca") / "ca", now=NOW - timedelta(days=30))


@pytest.fixture(scope="session")
def other_ca_same_name(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    """A second CA generation: the same DN, another key."""
    return TestCA.init(tmp_path_factory.mktemp("ca2") / "ca", now=NOW - timedelta(days=30))


@pytest.fixture(scope="session")
def base_profile(ca: TestCA, tmp_path_factory: pytest.TempPathFactory) -> CardProfile:
    return ca.issue_card(tmp_path_factory.mktemp("card") / "p", PIN, now=NOW - timedelta(days=1))


@pytest.fixture()
def trust(ca: TestCA) -> TrustStore:
    return TrustStore.from_directory(ca.trust_directory)


MakeCard = Callable[..., VirtualJpkiCard]


@pytest.fixture()
def make_card(base_profile: CardProfile, tmp_path: Path) -> MakeCard:
    """A fresh card: ``make_card(auth_certificate=..., faults=Faults(...), token_label=...)``."""
    counter = iter(range(1000))

    def make(
        *, faults: Faults | None = None, token_label: str | None = None, **changes: Any
    ) -> VirtualJpkiCard:
        directory = tmp_path / f"card{next(counter)}"
        directory.mkdir()
        profile = dataclasses.replace(base_profile, directory=directory, **changes)
        extra: dict[str, Any] = {} if token_label is None else {"token_label": token_label}
        return VirtualJpkiCard(profile, faults=faults, **extra)

    return make
