"""The camera and printer part of 設定 (a section of :mod:`ui.screens.settings`), and the saved
printer/paper choice the voucher issue screen starts from.

Camera: a device index, a video file or a folder of images, with a live preview (the same
:class:`ui.camera_view.CameraView` as ポイント券読取). Printer: the system's printers, the paper
(A4 sheet, 58 mm or 80 mm receipt) and a test print (``printer_test_preview``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtPrintSupport import QPrinterInfo
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QWidget,
)

from terminal.store import TerminalStore
from terminal.vouchers.layout import PaperLayout, a4_sheet, receipt
from ui.camera_view import CameraView, Source, camera_source, parse_source, save_camera_source
from ui.failure import Failure
from ui.printing.preview import printer_test_preview
from ui.text import tr
from ui.widgets import big_label, button

log = logging.getLogger(__name__)

PRINTER_KEY = "ui.printer"
#: paper key -> label; the label is translated where shown
PAPERS = ("a4", "58", "80")


def paper_label(key: str) -> str:
    """The paper's name on screen."""
    return {
        "a4": tr("A4（8枚・切取線）"),
        "58": tr("レシート 58 mm"),
        "80": tr("レシート 80 mm"),
    }.get(key, key)


def paper_layout(key: str) -> PaperLayout:
    """The layout of a paper key (A4 for anything unknown)."""
    if key == "58":
        return receipt(58)
    if key == "80":
        return receipt(80)
    return a4_sheet()


@dataclass
class PrinterChoice:
    """The printer (None: the system's default) and the paper."""

    printer: str | None = None
    paper: str = "a4"


def printer_choice(store: TerminalStore | None) -> PrinterChoice:
    """The saved printer choice (defaults when none)."""
    if store is None:
        return PrinterChoice()
    data: object = store.setting(PRINTER_KEY, {})
    choice = PrinterChoice()
    if isinstance(data, dict):
        printer = data.get("printer")
        choice.printer = printer if isinstance(printer, str) and printer else None
        paper = data.get("paper")
        choice.paper = paper if paper in PAPERS else "a4"
    return choice


def save_printer_choice(store: TerminalStore | None, choice: PrinterChoice) -> None:
    """Keep the printer choice (no-op before enrollment)."""
    if store is not None:
        store.set_setting(PRINTER_KEY, {"printer": choice.printer, "paper": choice.paper})


def fill_papers(combo: QComboBox, selected: str) -> None:
    """The paper choices in ``combo``, ``selected`` chosen."""
    combo.clear()
    for key in PAPERS:
        combo.addItem(paper_label(key), key)
    combo.setCurrentIndex(max(combo.findData(selected), 0))


class DeviceSettings(QWidget):
    """設定's camera (with preview) and printer (with test print) rows."""

    def __init__(self, store: TerminalStore | None) -> None:
        super().__init__()
        self.store = store
        grid = QGridLayout(self)
        self.camera = QComboBox()
        self.camera.setEditable(True)
        self.camera.setToolTip(tr("カメラ番号（0, 1, …）、動画ファイル、または画像フォルダ"))
        browse = button(tr("フォルダ…"))
        browse.clicked.connect(self._browse)
        self.preview_button = button(tr("プレビュー"))
        self.preview_button.clicked.connect(self.toggle_preview)
        self.view = CameraView(min_size=(320, 200))
        self.view.setVisible(False)
        self.camera_state = big_label("", role="hint")
        self.view.state_changed.connect(self.camera_state.setText)
        self.view.failed.connect(self._camera_failed)
        self.read_text = big_label("", role="ok")
        self.view.code_read.connect(self._code_read)
        camera_row = QHBoxLayout()
        camera_row.addWidget(self.camera, 2)
        camera_row.addWidget(browse)
        camera_row.addWidget(self.preview_button)
        grid.addWidget(big_label(tr("カメラ"), role="hint"), 0, 0)
        grid.addLayout(camera_row, 0, 1)
        grid.addWidget(self.view, 1, 1)
        grid.addWidget(self.camera_state, 2, 1)
        grid.addWidget(self.read_text, 3, 1)
        self.printer = QComboBox()
        self.paper = QComboBox()
        test = button(tr("テスト印刷"))
        test.clicked.connect(self.test_print)
        printer_row = QHBoxLayout()
        printer_row.addWidget(self.printer, 2)
        printer_row.addWidget(self.paper, 2)
        printer_row.addWidget(test)
        grid.addWidget(big_label(tr("プリンター"), role="hint"), 4, 0)
        grid.addLayout(printer_row, 4, 1)
        self.test_dialog: QWidget | None = None

    def load(self) -> None:
        """Show the saved choices and the printers there are now."""
        source = camera_source(self.store)
        self.camera.clear()
        for index in range(3):
            self.camera.addItem(tr("カメラ {n}").format(n=index), str(index))
        if self.camera.findData(str(source)) < 0:
            self.camera.addItem(str(source), str(source))
        self.camera.setCurrentIndex(max(self.camera.findData(str(source)), 0))
        choice = printer_choice(self.store)
        self.printer.clear()
        self.printer.addItem(tr("システムの既定のプリンター"), None)
        for name in QPrinterInfo.availablePrinterNames():
            self.printer.addItem(name, name)
        if choice.printer and self.printer.findData(choice.printer) < 0:
            self.printer.addItem(
                tr("{name}（見つかりません）").format(name=choice.printer), choice.printer
            )
        self.printer.setCurrentIndex(max(self.printer.findData(choice.printer), 0))
        fill_papers(self.paper, choice.paper)

    def chosen_source(self) -> Source:
        """The camera source chosen (typed text or a listed camera)."""
        data = self.camera.currentData()
        text = self.camera.currentText()
        if data is not None and self.camera.itemText(self.camera.currentIndex()) == text:
            return parse_source(str(data))
        return parse_source(text)

    def save(self) -> None:
        """Keep the camera and printer choices."""
        save_camera_source(self.store, self.chosen_source())
        save_printer_choice(
            self.store, PrinterChoice(self.printer.currentData(), self.paper.currentData() or "a4")
        )

    def toggle_preview(self) -> None:
        """Start or stop the camera preview."""
        if self.view.running:
            self.stop_preview()
            return
        self.view.setVisible(True)
        self.read_text.clear()
        self.view.start(self.chosen_source())
        self.preview_button.setText(tr("プレビューを止める"))

    def stop_preview(self) -> None:
        """Stop the preview (leaving the screen)."""
        self.view.stop()
        self.view.setVisible(False)
        self.preview_button.setText(tr("プレビュー"))

    def test_print(self) -> QWidget:
        """Open the test page's print preview on the chosen paper (its print button prints)."""
        layout = paper_layout(self.paper.currentData() or "a4")
        dialog = printer_test_preview(layout, self)
        name = self.printer.currentData()
        if name:
            dialog.printer().setPrinterName(name)
        self.test_dialog = dialog
        dialog.open()
        return dialog

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("画像フォルダを選ぶ"))
        if folder:
            self.camera.setEditText(folder)

    def _code_read(self, text: str) -> None:
        shown = text if len(text) <= 40 else text[:40] + "…"
        self.read_text.setText(tr("QRコードを読み取れました: {t}").format(t=shown))

    def _camera_failed(self, failure: Failure) -> None:
        self.camera_state.setText(f"{failure.message_ja}\n{failure.message_en}")
