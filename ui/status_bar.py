"""The status bar every screen shows: online or offline, unsynced count and last sync, reader
state, camera state. Clicking it opens 同期."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from ui.context import AppServices
from ui.text import tr

JST = ZoneInfo("Asia/Tokyo")


def jst_text(moment: datetime | None) -> str:
    """``11/24 15:03`` in JST, or a dash."""
    return "—" if moment is None else moment.astimezone(JST).strftime("%m/%d %H:%M")


def is_online(services: AppServices) -> bool:
    """Whether the ledger answered the last time anyone asked (a counter call or sync)."""
    if services.online is not None:
        return services.online
    if services.counter is None:
        return False
    state = services.counter.store.sync_state()
    return state.last_success_at is not None and state.last_error is None


class StatusBar(QWidget):
    """One line of facts; ``clicked`` opens the sync screen."""

    clicked = Signal()

    def __init__(self, services: AppServices) -> None:
        super().__init__()
        self.setObjectName("statusbar")
        self.services = services
        self.network = QLabel()
        self.unsynced = QLabel()
        self.last_sync = QLabel()
        self.reader = QLabel()
        self.camera = QLabel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        for label in (self.network, self.unsynced, self.last_sync, self.reader, self.camera):
            layout.addWidget(label)
        layout.addStretch(1)
        self.setToolTip(tr("クリックすると同期画面を開きます"))
        self._progress: object = None
        self.refresh()

    def refresh(self) -> None:
        """Read the facts again (cheap: a few local queries)."""
        services = self.services
        if services.engine is not None:
            progress = services.engine.progress
            ran = progress.last_success_at is not None or progress.last_error is not None
            if progress is not self._progress and ran:
                services.online = progress.online  # the background sync learnt something new
            self._progress = progress
        online: bool | None = is_online(services)
        self.last_sync.setVisible(services.counter is not None)
        if services.online is None and services.counter is not None and not online:
            state = services.counter.store.sync_state()
            if state.last_error is None:  # nobody asked the server yet
                self.network.setText(tr("● 接続未確認"))
                self.network.setStyleSheet("color: #4a4a4a;")
                online = None
        if services.counter is None:
            self.network.setText(tr("● 未登録"))
            self.network.setStyleSheet("color: #4a4a4a;")
        elif online is not None:
            self.network.setText(tr("● オンライン") if online else tr("● オフライン"))
            self.network.setStyleSheet("color: #0b7a32;" if online else "color: #b3261e;")
        if services.counter is None:
            self.unsynced.setText(tr("F10 設定で端末を登録してください"))
            self.last_sync.setText("")
        else:
            store = services.counter.store
            self.unsynced.setText(tr("未送信 {n}件").format(n=store.unsynced_count()))
            state = store.sync_state()
            self.last_sync.setText(tr("最終同期 {t}").format(t=jst_text(state.last_success_at)))
        reader = services.reader
        if reader.error:
            text = tr("リーダー: エラー")
        elif not reader.readers:
            text = tr("リーダー: 未接続")
        elif reader.card_present:
            text = tr("リーダー: カードあり")
        else:
            text = tr("リーダー: 接続済み")
        self.reader.setText(text)
        self.camera.setText(tr("カメラ: {s}").format(s=services.camera_state or tr("未使用")))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        """A click opens 同期."""
        self.clicked.emit()
        event.accept()
