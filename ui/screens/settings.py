"""設定: the terminal's enrollment (type the code), reader choice, language, text size,
contrast, sounds; the offline limits shown read-only."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sync.protocol import Role
from terminal.offline import DEFAULT_LIMITS
from ui.background import BackgroundCall
from ui.card_worker import CardWorker
from ui.context import AppServices
from ui.failure import Failure
from ui.prefs import Prefs
from ui.screens.base import Screen
from ui.screens.voucher_devices import DeviceSettings  # camera and printer section
from ui.sound import Sounds
from ui.text import tr
from ui.widgets import big_label, button


def role_text(role: Role) -> str:
    """A terminal role in plain words (enrollment section)."""
    words = {
        Role.SHOP: tr("お店"),
        Role.OFFICE: tr("商店街事務局"),
        Role.LIBRARY: tr("図書館"),
        Role.MUNICIPAL: tr("自治体の窓口"),
    }
    return words.get(role, role.value)


class SettingsScreen(Screen):
    """Settings; ``prefs_changed(Prefs)`` asks the window to apply new options."""

    prefs_changed = Signal(object)
    enrolled = Signal()

    def __init__(self, services: AppServices, worker: CardWorker, sounds: Sounds) -> None:
        super().__init__(services, worker, sounds)
        store = None if services.counter is None else services.counter.store
        self.prefs = Prefs.load(store)
        self.enroller = BackgroundCall("mykey-enroll")
        self.enroller.done.connect(self._enrolled)
        self.enroller.failed.connect(self._enroll_failed)
        outer = QVBoxLayout(self)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        layout = QVBoxLayout(body)
        scroll.setWidget(body)
        outer.addWidget(scroll)
        layout.addWidget(big_label(tr("端末の登録"), role="section"))
        layout.addWidget(self._enrollment())
        layout.addWidget(big_label(tr("表示と操作"), role="section"))
        layout.addWidget(self._options())
        layout.addWidget(
            big_label(tr("オフラインの上限（サーバーで設定・表示のみ）"), role="section")
        )
        self.limits = QTableWidget(0, 6)
        self.limits.setHorizontalHeaderLabels(
            [
                tr("ポイント"),
                tr("1回"),
                tr("1枚1日"),
                tr("同期までの合計"),
                tr("同期なし"),
                tr("失効情報の古さ"),
            ]
        )
        self.limits.verticalHeader().setVisible(False)
        self.limits.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.limits.setMinimumHeight(160)
        layout.addWidget(self.limits)
        # --- camera and printer (voucher screens; ui/screens/voucher_devices.py) ------------
        layout.addWidget(big_label(tr("カメラとプリンター"), role="section"))
        self.devices = DeviceSettings(store)
        layout.addWidget(self.devices)
        # --- end camera and printer -----------------------------------------------------------
        layout.addStretch(1)

    # --- sections ---------------------------------------------------------------------------

    def _enrollment(self) -> QWidget:
        box = QWidget()
        form = QFormLayout(box)
        counter = self.services.counter
        if counter is not None:
            identity = counter.identity
            business = counter.store.business()
            name = business.name if business is not None else ""
            form.addRow(tr("端末ID"), big_label(identity.terminal_id, role="hint"))
            self.business_label = big_label(f"{identity.business_id} {name}", role="hint")
            form.addRow(tr("事業者"), self.business_label)
            roles = "、".join(role_text(r) for r in sorted(identity.roles))
            form.addRow(tr("役割"), big_label(roles, role="hint"))
            form.addRow(tr("サーバー"), big_label(identity.server_url, role="hint"))
            self.enroll_note = big_label("", role="ok")  # set by the window after enrolling
            form.addRow(self.enroll_note)
            return box
        self.server = QLineEdit()
        self.server.setPlaceholderText("https://ledger.example.jp")
        self.code = QLineEdit()
        self.code.setPlaceholderText(tr("運営者から受け取った登録コード"))
        self.terminal_name = QLineEdit()
        self.terminal_name.setPlaceholderText(tr("例: レジ1"))
        form.addRow(tr("サーバー"), self.server)
        form.addRow(tr("登録コード"), self.code)
        form.addRow(tr("端末の名前"), self.terminal_name)
        self.enroll_button = button(tr("この端末を登録する"), role="primary")
        self.enroll_button.clicked.connect(self.enroll)
        self.enroll_result = big_label("", role="prompt")
        form.addRow(self.enroll_button)
        form.addRow(self.enroll_result)
        return box

    def _show_business(self) -> None:
        counter = self.services.counter
        label = getattr(self, "business_label", None)
        if counter is None or label is None:
            return
        business = counter.store.business()
        name = business.name if business is not None else ""
        label.setText(f"{counter.identity.business_id} {name}".strip())

    def _options(self) -> QWidget:
        box = QWidget()
        grid = QGridLayout(box)
        self.reader = QComboBox()
        self.language = QComboBox()
        self.language.addItem("日本語", "ja")
        self.language.addItem("English", "en")
        self.text_size = QComboBox()
        for key, label in (("normal", tr("標準")), ("large", tr("大")), ("huge", tr("特大"))):
            self.text_size.addItem(label, key)
        self.high_contrast = QCheckBox(tr("ハイコントラスト（黒地に白い文字）"))
        self.sounds_box = QCheckBox(tr("成功・失敗の音を鳴らす"))
        rows: list[tuple[str, QWidget]] = [
            (tr("カードリーダー"), self.reader),
            (tr("言語（再起動後に反映）"), self.language),
            (tr("文字の大きさ"), self.text_size),
        ]
        for index, (label, widget) in enumerate(rows):
            grid.addWidget(big_label(label, role="hint"), index, 0)
            grid.addWidget(widget, index, 1)
        checks = QHBoxLayout()
        checks.addWidget(self.high_contrast)
        checks.addWidget(self.sounds_box)
        grid.addLayout(checks, len(rows), 0, 1, 2)
        save = button(tr("保存して反映"), role="primary")
        save.clicked.connect(self.save)
        grid.addWidget(save, len(rows) + 1, 0, 1, 2)
        self.saved = big_label("", role="hint")
        grid.addWidget(self.saved, len(rows) + 2, 0, 1, 2)
        return box

    # --- behaviour --------------------------------------------------------------------------

    def activate(self) -> None:
        """Show the current options, readers and limits."""
        self._show_business()  # enrollment section: the name arrives with the first sync
        prefs = self.prefs
        self.reader.clear()
        self.reader.addItem(tr("自動（カードが置かれたリーダー）"), None)
        for name in self.services.reader.readers:
            self.reader.addItem(name, name)
        if prefs.reader and self.reader.findData(prefs.reader) < 0:
            self.reader.addItem(prefs.reader, prefs.reader)
        self.reader.setCurrentIndex(max(self.reader.findData(prefs.reader), 0))
        self.language.setCurrentIndex(max(self.language.findData(prefs.language), 0))
        self.text_size.setCurrentIndex(max(self.text_size.findData(prefs.text_size), 0))
        self.high_contrast.setChecked(prefs.high_contrast)
        self.sounds_box.setChecked(prefs.sounds)
        self._show_limits()
        self.devices.load()  # camera and printer section

    def deactivate(self) -> None:
        """Left: the camera preview stops (camera and printer section)."""
        self.devices.stop_preview()
        super().deactivate()

    def _show_limits(self) -> None:
        counter = self.services.counter
        programs = [] if counter is None else counter.store.programs()
        rows = [(p.name, p.offline) for p in programs] or [(tr("標準（未同期）"), DEFAULT_LIMITS)]
        self.limits.setRowCount(len(rows))
        for r, (name, limits) in enumerate(rows):
            cells = [
                name,
                tr("{n:,} pt").format(n=limits.max_per_transaction),
                tr("{n:,} pt").format(n=limits.max_per_card_per_day),
                tr("{n:,} pt").format(n=limits.max_per_terminal_since_sync),
                tr("{n} 時間").format(n=limits.max_hours_without_sync),
                tr("{n} 時間").format(n=limits.max_revocation_age_hours),
            ]
            for c, text in enumerate(cells):
                self.limits.setItem(r, c, QTableWidgetItem(text))
        self.limits.resizeColumnsToContents()

    def save(self) -> None:
        """Keep the options and apply them now."""
        self.prefs = Prefs(
            language=self.language.currentData(),
            text_size=self.text_size.currentData(),
            high_contrast=self.high_contrast.isChecked(),
            sounds=self.sounds_box.isChecked(),
            reader=self.reader.currentData(),
        )
        store = None if self.services.counter is None else self.services.counter.store
        self.prefs.save(store)
        self.devices.save()  # camera and printer section
        self.saved.setText(tr("保存しました。"))
        self.prefs_changed.emit(self.prefs)

    def enroll(self) -> None:
        """Enroll with the typed server and code (off the GUI thread)."""
        enroll = self.services.enroll
        server, code = self.server.text().strip(), self.code.text().strip()
        name = self.terminal_name.text().strip()
        if not server or not code:
            self.enroll_result.setText(tr("サーバーと登録コードを入力してください。"))
            return
        if enroll is None:
            return
        self.enroll_result.setText(tr("登録しています…"))
        self.enroll_button.setEnabled(False)
        self.enroller.start(lambda: enroll(server, code, name))

    def _enrolled(self, _result: Any) -> None:
        self.enroll_result.setText(tr("登録しました。端末を準備しています…"))
        self.sounds.success()
        self.enrolled.emit()

    def _enroll_failed(self, failure: Failure) -> None:
        self.enroll_button.setEnabled(True)
        self.enroll_result.setText(f"{failure.message_ja}\n{failure.message_en}")
        self.sounds.failure()

    def shutdown(self) -> None:
        """Wait for an enrollment under way; stop the camera preview."""
        self.devices.stop_preview()  # camera and printer section
        self.enroller.wait()
