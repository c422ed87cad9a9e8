"""ポイント券読取 (shop and office): redeem point vouchers from the camera, a 2D scanner typing
into a field (keyboard wedge), or the typed 13-digit number (online check).

Each result is shown in large type with a sound and added to the list (newest first). The office's
batch mode (まとめて読取) keeps the camera scanning a stack and shows the running count and total;
duplicates, forgeries and expired vouchers are flagged red in the list with the failure sound.
Redemption goes through :mod:`terminal.services.vouchers` (outbox, online first, offline within
the program's limits) on one background thread, one voucher after another, so the window never
waits on the network.

Public methods (the demo drives these):

- ``start_camera(source=None)``: start the camera view (None: ``MYKEY_CAMERA_SOURCE``, else the
  saved camera, else camera 0); a source is a device index, a video file or a folder of images.
- ``stop_camera()``.
- ``set_batch(on)``: batch mode on or off (office).
- ``submit_wedge(text)``: what a 2D scanner typed (a payload, or a 13-digit number).
- ``redeem_number(number)``: the typed 13-digit number (online only).
- ``entries`` (list of :class:`ScanEntry`, oldest first), ``accepted_count``, ``total_points``;
  signal ``entry_added(ScanEntry)``; ``busy`` while a redemption is under way.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from sync.protocol import Role
from terminal.services.counter import Counter
from terminal.services.submit import Outcome, OutcomeStatus
from terminal.services.vouchers import redeem_by_number, redeem_voucher
from terminal.vouchers.errors import VoucherFormatError
from terminal.vouchers.numbers import normalise_number
from terminal.vouchers.payload import decode_payload
from ui.camera_view import CameraView, Source, camera_source, describe
from ui.card_worker import CardWorker
from ui.context import AppServices
from ui.failure import Failure
from ui.screens.base import Screen
from ui.screens.outcome_text import note_outcome
from ui.sound import Sounds
from ui.text import tr
from ui.widgets import big_label, button, set_role

log = logging.getLogger(__name__)

JST = ZoneInfo("Asia/Tokyo")

#: failure codes shown as their own flag in the list
DUPLICATE_CODES = frozenset({"voucher-already-redeemed-here", "voucher-already-redeemed"})
FORGED_CODES = frozenset({"voucher-forged", "voucher-unknown-issuer"})
EXPIRED_CODES = frozenset({"voucher-expired", "voucher-not-yet-valid"})


@dataclass(frozen=True)
class ScanEntry:
    """One voucher presented: how it came in, what it is, and what happened."""

    at: datetime
    via: str  # camera, scanner, number
    number: str
    points: int | None
    #: ok, offline, undecided, duplicate, forged, expired, unreadable, refused
    kind: str
    message_ja: str
    message_en: str

    @property
    def accepted(self) -> bool:
        """True when the points moved or will move for certain."""
        return self.kind in ("ok", "offline")

    @property
    def flag(self) -> str:
        """The list's short result word."""
        return {
            "ok": tr("消込済"),
            "offline": tr("オフライン受付"),
            "undecided": tr("未確定（券を保管）"),
            "duplicate": tr("重複・使用済"),
            "forged": tr("偽造・不正"),
            "unreadable": tr("券ではない"),
            "expired": tr("期限外"),
        }.get(self.kind, tr("受付不可"))


def _kind_of_failure(code: str) -> str:
    if code in DUPLICATE_CODES:
        return "duplicate"
    if code in FORGED_CODES:
        return "forged"
    if code in EXPIRED_CODES:
        return "expired"
    if code in ("voucher-malformed", "voucher-number-invalid"):
        return "unreadable"
    return "refused"


def _kind_of_outcome(outcome: Outcome) -> str:
    if outcome.status is OutcomeStatus.APPLIED:
        return "ok"
    if outcome.status is OutcomeStatus.ACCEPTED_OFFLINE:
        return "offline"
    if outcome.status is OutcomeStatus.UNDECIDED:
        return "undecided"
    reason = outcome.reason or ""
    return "duplicate" if "redeemed" in reason else "refused"


def _peek(text: str) -> tuple[str, int | None]:
    """Number and points printed in a payload (unverified: for the list only)."""
    try:
        data = decode_payload(text).data
    except VoucherFormatError:
        return "—", None
    return data.number, data.points


def _refused(
    now: datetime, via: str, number: str, points: int | None, failure: Failure
) -> ScanEntry:
    kind = _kind_of_failure(failure.code)
    return ScanEntry(now, via, number, points, kind, failure.message_ja, failure.message_en)


def redeem(
    counter: Counter, via: str, text: str, now: datetime
) -> tuple[ScanEntry, Outcome | None]:
    """Redeem one presented voucher (runs on the redeem thread); never raises."""
    if via == "number":
        number, points = text, None
        try:
            number = normalise_number(text)
            outcome = redeem_by_number(counter, number)
        except Exception as error:
            failure = Failure.of(error)
            kind = _kind_of_failure(failure.code)
            return ScanEntry(
                now, via, number, None, kind, failure.message_ja, failure.message_en
            ), None
        points = outcome.row.points or None
    else:
        number, points = _peek(text)
        try:
            outcome = redeem_voucher(counter, text)
        except Exception as error:
            failure = Failure.of(error)
            kind = _kind_of_failure(failure.code)
            return ScanEntry(
                now, via, number, points, kind, failure.message_ja, failure.message_en
            ), None
    kind = _kind_of_outcome(outcome)
    return (
        ScanEntry(now, via, number, points or None, kind, outcome.message_ja, outcome.message_en),
        outcome,
    )


class RedeemWorker(QObject):
    """Redeems the presented vouchers one after another on its own thread."""

    finished = Signal(object, object)  # ScanEntry, Outcome | None

    def __init__(self, counter: Counter, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.counter = counter
        self.clock = clock
        self.queue: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self.pending = 0
        self._thread = threading.Thread(target=self._loop, name="voucher-redeem", daemon=True)
        self._thread.start()

    def submit(self, via: str, text: str) -> None:
        """Queue one voucher (GUI thread)."""
        self.pending += 1
        self.queue.put((via, text))

    def _loop(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            via, text = item
            entry, outcome = redeem(self.counter, via, text, self.clock())
            try:
                self.finished.emit(entry, outcome)
            except RuntimeError:  # the window is gone
                return

    def shutdown(self) -> None:
        """End the thread after the queued vouchers."""
        self.queue.put(None)
        self._thread.join(10.0)


class VoucherScanScreen(Screen):
    """The voucher reading screen (see the module docstring)."""

    entry_added = Signal(object)

    def __init__(self, services: AppServices, worker: CardWorker, sounds: Sounds) -> None:
        super().__init__(services, worker, sounds)
        counter = self.counter
        self.is_office = counter.identity.has_role(Role.OFFICE)
        self.entries: list[ScanEntry] = []
        self.batch_start = 0
        self.redeemer = RedeemWorker(counter, lambda: counter.clock())
        self.redeemer.finished.connect(self._on_redeemed)
        self.camera = CameraView(min_size=(360, 260))
        self.camera.code_read.connect(lambda text: self.submit("camera", text))
        self.camera.state_changed.connect(self._camera_state)
        self.camera.failed.connect(self._camera_failed)

        layout = QHBoxLayout(self)
        left = QVBoxLayout()
        left.addWidget(
            big_label(tr("ポイント券のQRコードをカメラの枠の中にかざしてください"), role="section")
        )
        left.addWidget(self.camera, 1)
        self.camera_note = big_label("", role="hint")
        left.addWidget(self.camera_note)
        camera_row = QHBoxLayout()
        self.camera_button = button(tr("カメラを開始"), role="primary")
        self.camera_button.clicked.connect(self._toggle_camera)
        camera_row.addWidget(self.camera_button)
        left.addLayout(camera_row)
        layout.addLayout(left, 4)

        right = QVBoxLayout()
        self.result_title = big_label(tr("ポイント券をお待ちしています"), role="title")
        self.result_detail = big_label("", role="prompt")
        self.result_en = big_label("", role="hint")
        right.addWidget(self.result_title)
        right.addWidget(self.result_detail)
        right.addWidget(self.result_en)
        inputs = QGridLayout()
        self.wedge = QLineEdit()
        self.wedge.setObjectName("wedge")
        self.wedge.setPlaceholderText(tr("2Dスキャナーの読取がここに入ります"))
        self.wedge.returnPressed.connect(self._wedge_entered)
        inputs.addWidget(big_label(tr("スキャナー"), role="hint"), 0, 0)
        inputs.addWidget(self.wedge, 0, 1, 1, 2)
        self.number = QLineEdit()
        self.number.setObjectName("number")
        self.number.setMaxLength(20)
        self.number.setPlaceholderText(tr("13桁（QRが読めないとき）"))
        self.number.returnPressed.connect(self._number_entered)
        number_button = button(tr("番号で消込"))
        number_button.setToolTip(tr("券番号での消込はサーバーに接続しているときだけできます"))
        number_button.clicked.connect(self._number_entered)
        inputs.addWidget(big_label(tr("券番号"), role="hint"), 1, 0)
        inputs.addWidget(self.number, 1, 1)
        inputs.addWidget(number_button, 1, 2)
        inputs.setColumnStretch(1, 1)
        right.addLayout(inputs)
        batch_row = QHBoxLayout()
        self.batch = QCheckBox(tr("まとめて読取（束を続けて読み取る）"))
        self.batch.toggled.connect(self.set_batch)
        self.batch.setVisible(self.is_office)
        self.clear_button = button(tr("集計をリセット"))
        self.clear_button.clicked.connect(self.reset_batch)
        batch_row.addWidget(self.batch, 1)
        batch_row.addWidget(self.clear_button)
        right.addLayout(batch_row)
        self.summary = big_label("", role="section")
        right.addWidget(self.summary)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels([tr("券番号"), tr("ポイント"), tr("結果"), tr("時刻")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        right.addWidget(self.table, 1)
        layout.addLayout(right, 6)
        self._show_batch(False)
        self._update_summary()

    # --- public -----------------------------------------------------------------------------

    def start_camera(self, source: Source | None = None) -> bool:
        """Start the camera view (see the module docstring); False when it cannot start."""
        chosen = camera_source(self.counter.store) if source is None else source
        self.camera_note.setText(tr("読み取り元: {s}").format(s=describe(chosen)))
        started = self.camera.start(chosen)
        self._update_camera_button()
        return started

    def stop_camera(self) -> None:
        """Stop the camera."""
        self.camera.stop()
        self._update_camera_button()

    def set_batch(self, on: bool) -> None:
        """Batch mode on/off: the running count and total from now on."""
        if self.batch.isChecked() != on:
            self.batch.setChecked(on)  # comes back here through ``toggled``
            return
        self._show_batch(on)
        if on:
            self.reset_batch()
            if not self.camera.running:
                self.start_camera()

    def _show_batch(self, on: bool) -> None:
        self.summary.setVisible(on)
        self.clear_button.setVisible(on)
        self._update_summary()

    def reset_batch(self) -> None:
        """Start a new count and total."""
        self.batch_start = len(self.entries)
        self._update_summary()

    def submit(self, via: str, text: str) -> None:
        """Redeem one presented voucher (``via``: camera, scanner or number)."""
        text = text.strip()
        if not text:
            return
        self.result_title.setText(tr("確認しています…"))
        set_role(self.result_title, "title")
        self.result_detail.setText("")
        self.redeemer.submit(via, text)

    def submit_wedge(self, text: str) -> None:
        """What a 2D scanner typed: a payload, or a 13-digit number (then checked online)."""
        digits = "".join(ch for ch in text if ch.isdigit())
        looks_like_number = len(digits) == 13 and all(ch.isdigit() or ch in " -" for ch in text)
        self.submit("number" if looks_like_number else "scanner", text)

    def redeem_number(self, number: str) -> None:
        """The typed 13-digit number (online only)."""
        self.submit("number", number)

    @property
    def busy(self) -> bool:
        """True while a voucher is being redeemed."""
        return self.redeemer.pending > 0

    @property
    def batch_entries(self) -> list[ScanEntry]:
        """The entries since batch mode began (or was reset)."""
        return self.entries[self.batch_start :]

    @property
    def accepted_count(self) -> int:
        """Vouchers accepted in this batch."""
        return sum(1 for e in self.batch_entries if e.accepted)

    @property
    def total_points(self) -> int:
        """Points of the vouchers accepted in this batch."""
        return sum(e.points or 0 for e in self.batch_entries if e.accepted)

    # --- screen life ------------------------------------------------------------------------

    def activate(self) -> None:
        """Shown: start the camera and put the scanner field in focus."""
        if not self.camera.running:
            self.start_camera()
        self.wedge.setFocus()

    def deactivate(self) -> None:
        """Left: the camera is released."""
        self.stop_camera()
        self.services.camera_state = ""

    def shutdown(self) -> None:
        """Window closing: stop the camera and the redeem thread."""
        self.camera.stop()
        self.redeemer.shutdown()

    # --- internals --------------------------------------------------------------------------

    def _toggle_camera(self) -> None:
        if self.camera.running:
            self.stop_camera()
        else:
            self.start_camera()

    def _update_camera_button(self) -> None:
        self.camera_button.setText(
            tr("カメラを停止") if self.camera.running else tr("カメラを開始")
        )

    def _camera_state(self, text: str) -> None:
        self.services.camera_state = text
        self._update_camera_button()

    def _camera_failed(self, failure: Failure) -> None:
        self.services.camera_state = tr("使えません")
        self.camera_note.setText(
            tr("カメラを使えません。スキャナー入力か券番号の入力で受け付けできます。")
        )
        log.info("camera failed: %s", failure.code)
        self._update_camera_button()

    def _wedge_entered(self) -> None:
        text = self.wedge.text()
        self.wedge.clear()
        self.submit_wedge(text)

    def _number_entered(self) -> None:
        text = self.number.text()
        if not text.strip():
            return
        self.number.clear()
        self.redeem_number(text)

    def _on_redeemed(self, entry: ScanEntry, outcome: Outcome | None) -> None:
        self.redeemer.pending = max(0, self.redeemer.pending - 1)
        if outcome is not None:
            note_outcome(self.services, outcome)
        self.entries.append(entry)
        self._show(entry)
        self._add_row(entry)
        self._update_summary()
        if entry.accepted:
            self.sounds.success()
        else:
            self.sounds.failure()
        self.entry_added.emit(entry)
        self.wedge.setFocus()

    def _show(self, entry: ScanEntry) -> None:
        points = "" if entry.points is None else tr("{p:,} ポイント").format(p=entry.points)
        titles = {
            "ok": (tr("OK 使えます {p}").format(p=points), "ok"),
            "offline": (tr("OK オフラインで受付 {p}").format(p=points), "warn"),
            "undecided": (tr("結果は未確定です。券をお預かりください"), "warn"),
            "duplicate": (tr("使えません: 使用済みの券"), "bad"),
            "unreadable": (tr("ポイント券ではありません"), "bad"),
            "forged": (tr("使えません: 偽造・不正の疑い"), "bad"),
            "expired": (tr("使えません: 有効期間外"), "bad"),
        }
        title, role = titles.get(entry.kind, (tr("使えません"), "bad"))
        set_role(self.result_title, role)
        self.result_title.setText(title.strip())
        number = "" if entry.number == "—" else tr("券番号 {n}").format(n=entry.number)
        if entry.kind == "ok":
            lines = [number, tr("券に利用店舗印を押して、お預かりください。")]
            english = "Stamp the voucher's shop box and keep the voucher."
        elif entry.kind == "offline":
            lines = [number, entry.message_ja, tr("券に利用店舗印を押して、お預かりください。")]
            english = entry.message_en
        else:
            lines = [number, entry.message_ja]
            english = entry.message_en
        self.result_detail.setText("\n".join(line for line in lines if line))
        self.result_en.setText(english)

    def _add_row(self, entry: ScanEntry) -> None:
        self.table.insertRow(0)
        points = "—" if entry.points is None else f"{entry.points:,}"
        cells = [entry.number, points, entry.flag, entry.at.astimezone(JST).strftime("%H:%M:%S")]
        colour = None if entry.accepted else QColor("#b3261e")
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if column == 1:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if colour is not None:
                item.setForeground(colour)
                item.setToolTip(entry.message_ja)
            self.table.setItem(0, column, item)

    def _update_summary(self) -> None:
        flagged = sum(1 for e in self.batch_entries if not e.accepted)
        self.summary.setText(
            tr("受付 {n}枚  合計 {p:,} ポイント／受付不可 {f}件").format(
                n=self.accepted_count, p=self.total_points, f=flagged
            )
        )
