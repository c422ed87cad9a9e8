"""The modes of the main window, their function keys and the roles that see them.

The voucher screens: ``issue_vouchers`` (ui.screens.voucher_issue) and ``scan_vouchers``
(ui.screens.voucher_scan).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


def _checkout(s: AppServices, w: CardWorker, snd: Sounds) -> Screen:
    from ui.screens.checkout import CheckoutScreen

    return CheckoutScreen(s, w, snd)


def _issue_vouchers(s: AppServices, w: CardWorker, snd: Sounds) -> Screen:
    from ui.screens.voucher_issue import VoucherIssueScreen

    return VoucherIssueScreen(s, w, snd)


def _scan_vouchers(s: AppServices, w: CardWorker, snd: Sounds) -> Screen:
    from ui.screens.voucher_scan import VoucherScanScreen

    return VoucherScanScreen(s, w, snd)


def _library(s: AppServices, w: CardWorker, snd: Sounds) -> Screen:
    from ui.screens.library import LibraryScreen

    return LibraryScreen(s, w, snd)


def _grant(s: AppServices, w: CardWorker, snd: Sounds) -> Screen:
    from ui.screens.grant import GrantScreen

    return GrantScreen(s, w, snd)


def _mykey(s: AppServices, w: CardWorker, snd: Sounds) -> Screen:
    from ui.screens.mykey_setup import MyKeySetupScreen

    return MyKeySetupScreen(s, w, snd)


def _service_id(s: AppServices, w: CardWorker, snd: Sounds) -> Screen:
    from ui.screens.service_id import ServiceIdScreen

    return ServiceIdScreen(s, w, snd)


def _history(s: AppServices, w: CardWorker, snd: Sounds) -> Screen:
    from ui.screens.history import HistoryScreen

    return HistoryScreen(s, w, snd)


def _sync(s: AppServices, w: CardWorker, snd: Sounds) -> Screen:
    from ui.screens.sync_screen import SyncScreen

    return SyncScreen(s, w, snd)


def _settings(s: AppServices, w: CardWorker, snd: Sounds) -> Screen:
    from ui.screens.settings import SettingsScreen

    return SettingsScreen(s, w, snd)


def modes() -> list[Mode]:
    """Every mode in menu order (labels in the current language)."""
    shop_office = frozenset({Role.SHOP, Role.OFFICE})
    return [
        Mode("checkout", "F1", tr("お会計"), shop_office, _checkout),
        Mode(
            "issue_vouchers", "F2", tr("ポイント券発行"), frozenset({Role.OFFICE}), _issue_vouchers
        ),
        Mode("scan_vouchers", "F3", tr("ポイント券読取"), shop_office, _scan_vouchers),
        Mode("library", "F4", tr("図書館"), frozenset({Role.LIBRARY}), _library),
        Mode("grant", "F5", tr("ポイント付与"), frozenset({Role.MUNICIPAL}), _grant),
        Mode("mykey_setup", "F6", tr("マイキーID設定"), frozenset({Role.OFFICE}), _mykey),
        Mode(
            "service_id",
            "F7",
            tr("サービスID登録"),
            frozenset({Role.OFFICE, Role.LIBRARY, Role.SHOP}),
            _service_id,
        ),
        Mode("history", "F8", tr("履歴・精算"), None, _history),
        Mode("sync", "F9", tr("同期"), None, _sync),
        Mode("settings", "F10", tr("設定"), None, _settings, needs_enrollment=False),
    ]


def modes_for(services: AppServices) -> list[Mode]:
    """The modes this terminal's roles show (only 設定 before enrollment)."""
    counter = services.counter
    if counter is None:
        return [m for m in modes() if not m.needs_enrollment]
    return [
        m for m in modes() if m.roles is None or any(counter.identity.has_role(r) for r in m.roles)
    ]
