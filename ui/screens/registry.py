"""The modes of the main window, their function keys and the roles that see them.

The voucher screens: ``issue_vouchers`` (ui.screens.voucher_issue) and ``scan_vouchers``
(ui.screens.voucher_scan).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from sync.protocol import Role
from ui.card_worker import CardWorker
from ui.context import AppServices
from ui.screens.base import Screen
from ui.sound import Sounds
from ui.text import tr

ScreenFactory = Callable[[AppServices, CardWorker, Sounds], Screen]


@dataclass(frozen=True)
class Mode:
    """One mode: its name (stable, for code and tests), key, label and who sees it."""

    name: str
    key: str
    label: str
    #: None: every terminal (also before enrollment for 設定)
    roles: frozenset[Role] | None
    factory: ScreenFactory
    needs_enrollment: bool = True


def _lazy(module: str, class_name: str) -> ScreenFactory:
    """A factory that imports ``ui.screens.<module>`` only when its screen is first opened (the
    window paints sooner); build.spec ships every screen module."""

    def build(services: AppServices, worker: CardWorker, sounds: Sounds) -> Screen:
        screen: Screen = getattr(import_module(f"ui.screens.{module}"), class_name)(
            services, worker, sounds
        )
        return screen

    return build


def modes() -> list[Mode]:
    """Every mode in menu order (labels in the current language)."""
    shop_office = frozenset({Role.SHOP, Role.OFFICE})
    return [
        Mode("checkout", "F1", tr("お会計"), shop_office, _lazy("checkout", "CheckoutScreen")),
        Mode(
            "issue_vouchers",
            "F2",
            tr("ポイント券発行"),
            frozenset({Role.OFFICE}),
            _lazy("voucher_issue", "VoucherIssueScreen"),
        ),
        Mode(
            "scan_vouchers",
            "F3",
            tr("ポイント券読取"),
            shop_office,
            _lazy("voucher_scan", "VoucherScanScreen"),
        ),
        Mode(
            "library",
            "F4",
            tr("図書館"),
            frozenset({Role.LIBRARY}),
            _lazy("library", "LibraryScreen"),
        ),
        Mode(
            "grant",
            "F5",
            tr("ポイント付与"),
            frozenset({Role.MUNICIPAL}),
            _lazy("grant", "GrantScreen"),
        ),
        Mode(
            "mykey_setup",
            "F6",
            tr("マイキーID設定"),
            frozenset({Role.OFFICE}),
            _lazy("mykey_setup", "MyKeySetupScreen"),
        ),
        Mode(
            "service_id",
            "F7",
            tr("サービスID登録"),
            frozenset({Role.OFFICE, Role.LIBRARY, Role.SHOP}),
            _lazy("service_id", "ServiceIdScreen"),
        ),
        Mode("history", "F8", tr("履歴・精算"), None, _lazy("history", "HistoryScreen")),
        Mode("sync", "F9", tr("同期"), None, _lazy("sync_screen", "SyncScreen")),
        Mode(
            "settings",
            "F10",
            tr("設定"),
            None,
            _lazy("settings", "SettingsScreen"),
            needs_enrollment=False,
        ),
    ]


def modes_for(services: AppServices) -> list[Mode]:
    """The modes this terminal's roles show (only 設定 before enrollment)."""
    counter = services.counter
    if counter is None:
        return [m for m in modes() if not m.needs_enrollment]
    return [
        m for m in modes() if m.roles is None or any(counter.identity.has_role(r) for r in m.roles)
    ]
