"""The live camera view of the scan screens and 設定: a :class:`terminal.scan.capture.CaptureWorker`
on its own threads, its frames shown scaled in a QLabel with the scan window and the corners of
the codes found drawn over them.

The worker's callbacks run on its decoder thread; :class:`CameraView` turns them into Qt signals
(queued to the GUI thread). Only the newest frame is kept: a frame that arrives while the previous
one has not been painted yet replaces it.

Where the camera is: :func:`camera_source` reads ``MYKEY_CAMERA_SOURCE`` (the demo and tests), else
the terminal's setting (``ui.camera``), else camera 0. A source is a device index ("0"), a video
file or a folder of images.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QLabel, QSizePolicy

from terminal.scan.capture import FULL_FRAME, CaptureState, CaptureWorker, Quads, ScanWindow
from terminal.scan.decoders import get_decoder
from terminal.scan.errors import ScanError
from terminal.store import TerminalStore
from ui.failure import Failure
from ui.text import tr

log = logging.getLogger(__name__)

ENV_SOURCE = "MYKEY_CAMERA_SOURCE"
SETTING_KEY = "ui.camera"
#: a live camera decodes the middle of the picture (where the clerk holds the voucher)
CAMERA_WINDOW: ScanWindow = (0.15, 0.1, 0.7, 0.8)

Source = int | str | Path


def parse_source(text: str) -> int | str:
    """``"0"`` -> camera 0; anything else is a path (video file or folder of images)."""
    text = text.strip()
    return int(text) if text.isdigit() else text


def source_text(source: Source) -> str:
    """How a source is shown to the clerk."""
    if isinstance(source, int):
        return tr("カメラ {n}").format(n=source)
    return str(source)


def camera_source(store: TerminalStore | None) -> Source:
    """The camera to use: the environment variable, else the saved choice, else camera 0."""
    env = os.environ.get(ENV_SOURCE, "").strip()
    if env:
        return parse_source(env)
    if store is not None:
        saved = store.setting(SETTING_KEY, "")
        if isinstance(saved, (int, str)) and str(saved).strip():
            return parse_source(str(saved))
    return 0


def save_camera_source(store: TerminalStore | None, source: Source) -> None:
    """Keep the camera choice (no-op before enrollment)."""
    if store is not None:
        store.set_setting(SETTING_KEY, str(source))


def to_qimage(image: np.ndarray) -> QImage:
    """A BGR or gray uint8 frame as a QImage that owns its pixels."""
    if image.ndim == 2:
        height, width = image.shape
        gray = np.ascontiguousarray(image)
        return QImage(gray.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    height, width = image.shape[:2]
    bgr = np.ascontiguousarray(image[:, :, :3])
    return QImage(bgr.data, width, height, 3 * width, QImage.Format.Format_BGR888).copy()


class CameraView(QLabel):
    """Shows one capture source; ``code_read(text)`` for each accepted code.

    ``state_changed(text)`` carries the camera state in words for the status bar;
    ``failed(Failure)`` when the source cannot be opened or was lost.
    """

    code_read = Signal(str)
    failed = Signal(object)
    state_changed = Signal(str)
    _frame_ready = Signal()
    _ended = Signal()

    def __init__(self, *, min_size: tuple[int, int] = (480, 300)) -> None:
        super().__init__()
        self.setObjectName("camera")
        self.setMinimumSize(*min_size)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setStyleSheet("QLabel#camera { background: #202020; color: #ffffff; }")
        self.worker: CaptureWorker | None = None
        self.source: Source | None = None
        self.window_fraction: ScanWindow = FULL_FRAME
        self.frames_shown = 0
        self.state_text = tr("未使用")
        self._lock = threading.Lock()
        self._pending: tuple[QImage, Quads] | None = None
        self._last_quads: Quads = ()
        self._quads_age = 0
        self._frame_ready.connect(self._show_pending)
        self._ended.connect(self._on_ended)
        self.setText(tr("カメラは止まっています"))

    # --- control (GUI thread) ---------------------------------------------------------------

    def start(self, source: Source, *, backend: str = "zxing") -> bool:
        """Start showing ``source``; False (and ``failed``) when it cannot even be set up."""
        self.stop()
        self.source = source
        self.window_fraction = CAMERA_WINDOW if isinstance(source, int) else FULL_FRAME
        try:
            decoder = get_decoder(backend)
            self.worker = CaptureWorker(
                source,
                decoder,
                self._on_code,
                scan_window=self.window_fraction,
                on_frame=self._on_frame,
                on_error=self._on_error,
            )
            self.worker.start()
        except (ScanError, ValueError, TypeError) as error:
            self.worker = None
            self._report(Failure.of(error) if isinstance(error, ScanError) else _bad_source())
            return False
        self.frames_shown = 0
        self.setText(tr("カメラを起動しています…"))
        self._set_state(tr("起動中"))
        threading.Thread(target=self._watch_end, args=(self.worker,), daemon=True).start()
        return True

    def stop(self) -> None:
        """Stop the worker (idempotent); the view says the camera is off."""
        worker, self.worker = self.worker, None
        if worker is None:
            return
        worker.stop()
        with self._lock:
            self._pending = None
        self._last_quads = ()
        self.clear()
        self.setText(tr("カメラは止まっています"))
        self._set_state(tr("停止中"))

    @property
    def running(self) -> bool:
        """True while a worker reads frames."""
        worker = self.worker
        return worker is not None and worker.state in (CaptureState.OPENING, CaptureState.RUNNING)

    # --- worker threads ---------------------------------------------------------------------

    def _on_frame(self, image: np.ndarray, quads: Quads) -> None:
        qimage = to_qimage(image)
        with self._lock:
            first = self._pending is None
            self._pending = (qimage, quads)
        if first:
            _emit(self._frame_ready)

    def _on_error(self, error: ScanError) -> None:
        _emit(self.failed, Failure.of(error))

    def _on_code(self, text: str) -> None:
        _emit(self.code_read, text)

    def _watch_end(self, worker: CaptureWorker) -> None:
        worker.join()
        if worker.state in (CaptureState.FINISHED, CaptureState.FAILED):
            _emit(self._ended)

    # --- GUI thread -------------------------------------------------------------------------

    def _report(self, failure: Failure) -> None:
        self.clear()
        self.setText(f"{failure.message_ja}\n{failure.message_en}")
        self._set_state(tr("使えません"))
        self.failed.emit(failure)

    def _set_state(self, text: str) -> None:
        self.state_text = text
        self.state_changed.emit(text)

    def _on_ended(self) -> None:
        worker = self.worker
        if worker is None:
            return
        if worker.state is CaptureState.FAILED:
            self.worker = None
            error = worker.error
            failure = Failure.of(error) if error is not None else _bad_source()
            self.clear()
            self.setText(f"{failure.message_ja}\n{failure.message_en}")
            self._set_state(tr("使えません"))
        elif worker.state is CaptureState.FINISHED:
            self.worker = None
            self._set_state(tr("読み終わりました"))

    def _show_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is None or self.worker is None:
            return
        image, quads = pending
        if quads:
            self._last_quads, self._quads_age = quads, 0
        else:
            self._quads_age += 1
            if self._quads_age > 5:  # keep the outline a moment, then let it go
                self._last_quads = ()
        if self.frames_shown == 0:
            self._set_state(tr("読取中"))
        self.frames_shown += 1
        self.setPixmap(self._compose(image))

    def _compose(self, image: QImage) -> QPixmap:
        """The frame scaled to the label, the scan window and the found codes drawn on it."""
        target = self.contentsRect().size()
        pixmap = QPixmap.fromImage(image).scaled(
            target, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        sx = pixmap.width() / max(image.width(), 1)
        sy = pixmap.height() / max(image.height(), 1)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        x, y, w, h = self.window_fraction
        pen = QPen(QColor(255, 210, 0), 3, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRect(
            QRectF(x * pixmap.width(), y * pixmap.height(), w * pixmap.width(), h * pixmap.height())
        )
        painter.setPen(QPen(QColor(0, 220, 90), 4))
        for corners in self._last_quads:
            polygon = QPolygonF([QPointF(px * sx, py * sy) for px, py in corners])
            painter.drawPolygon(polygon)
        painter.end()
        return pixmap


def _emit(signal: object, *args: object) -> None:
    """Emit from a worker thread; a view already deleted (window closed) is ignored."""
    try:
        signal.emit(*args)  # type: ignore[attr-defined]
    except RuntimeError:
        log.debug("camera view gone; signal dropped")


def _bad_source() -> Failure:
    return Failure(
        "camera-unavailable",
        "カメラの指定が正しくありません。設定でカメラを選び直してください。",
        "The camera setting is not valid. Choose the camera again in Settings.",
    )


def describe(source: Source) -> str:
    """The source for logs and the settings screen (a path shown by its name)."""
    if isinstance(source, int):
        return source_text(source)
    path = Path(source)
    kind = tr("画像フォルダ") if path.is_dir() else tr("動画ファイル")
    return f"{kind} {path.name}"
