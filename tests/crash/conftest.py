"""Fixtures of the crash tests: the ledger fixtures' test CA and cards."""

from __future__ import annotations

from tests.ledger.conftest import cards, test_ca  # noqa: F401 - fixtures re-used here
