"""GUI fixtures: the real window over an enrolled counter (in-process ledger, fake clock) with
the virtual card on an in-process tray; every test is marked ``gui``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine

from cardio.auth import TrustStore
from cardio.virtual.ca import TestCA
from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from sync.engine import SyncEngine
from terminal.services.counter import Counter
from tests.ledger.conftest import (  # noqa: F401 - fixtures re-used
    cards,
    client,
    settings,
    test_ca,
    world,
)
from tests.terminal.conftest import clock, db_url, make_counter  # noqa: F401 - fixtures re-used
from tests.terminal.support import InProcessLedger
from tests.ui.support import Tray
from ui.context import AppServices
from ui.main_window import MainWindow
from ui.prefs import Prefs
from ui.reader import ReaderState

OFFSCREEN_SIZE_HINTS = "^This plugin does not support propagateSizeHints"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/ui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.gui)
            # the offscreen platform cannot pass size hints to a window manager; not our fault
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_SIZE_HINTS))


def engine_for(counter: Counter, ledger: InProcessLedger) -> SyncEngine:
    """A sync engine over the counter's store and the in-process ledger."""
    return SyncEngine(
        ledger, counter.store, counter.store, server_public_key=counter.identity.server_public_key
    )


MakeWindow = Callable[..., tuple[MainWindow, Tray]]


@pytest.fixture
def make_window(qtbot: QtBot) -> Iterator[MakeWindow]:
    """The main window of ``counter`` (None: not enrolled), with a card tray."""
    windows: list[MainWindow] = []

    def make(
        counter: Counter | None,
        ledger: InProcessLedger | None = None,
        prefs: Prefs | None = None,
        enroll: Callable[[str, str, str], None] | None = None,
    ) -> tuple[MainWindow, Tray]:
        reader = ReaderState()
        tray = Tray(reader)
        engine = None if counter is None or ledger is None else engine_for(counter, ledger)
        services = AppServices(counter, engine, tray.open, reader, enroll=enroll)
        window = MainWindow(services, prefs or Prefs())
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        windows.append(window)
        return window, tray

    yield make
    for window in windows:
        window.shutdown()


@pytest.fixture
def crl_imported(engine: Engine, test_ca: TestCA) -> None:  # noqa: F811
    """A fresh CRL on the server, so a synced terminal may accept offline."""
    with engine.begin() as conn:
        op.import_crl(
            conn,
            test_ca.crl().public_bytes(Encoding.DER),
            TrustStore.from_directory(test_ca.trust_directory),
        )


@pytest.fixture(scope="session")
def fresh_cards(test_ca: TestCA, tmp_path_factory: pytest.TempPathFactory) -> list[CardProfile]:  # noqa: F811
    """Cards of the GUI tests (PIN 8642), made once; tests that spend PIN tries make their own."""
    base = tmp_path_factory.mktemp("ui-cards")
    return [test_ca.issue_card(base / f"ui{i}", "8642") for i in range(3)]


@pytest.fixture
def new_card(test_ca: TestCA, tmp_path: Path) -> Callable[[str], CardProfile]:  # noqa: F811
    """A new card with ``pin`` (for tests that use up PIN tries)."""

    def make(pin: str = "8642") -> CardProfile:
        return test_ca.issue_card(tmp_path / f"card-{pin}-{len(list(tmp_path.iterdir()))}", pin)

    return make
