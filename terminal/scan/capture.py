"""The capture loop: frames from a camera (or a video file / folder of images) to accepted codes.

Two threads per worker. The *reader* opens the source and reads frames continuously (a camera
must be read all the time or its frames go stale) into a one-slot buffer: a frame that arrives
while the previous one is still waiting replaces it and is counted as dropped. The *decoder*
takes the newest frame, crops the scan window, decodes it, and feeds the texts to
``ConsistentReads``: a text is accepted after ``consistent_reads`` reads close together, then locked
out for ``lockout_s`` seconds after it was last seen, so one voucher held in view is reported once.

Callbacks (``on_code``, ``on_frame``, ``on_error``) run on the decoder thread; a GUI re-emits them
as signals. A missing camera is reported through ``on_error`` and ``state``/``error`` as
CameraUnavailableError, never raised into the caller's thread.
"""

from __future__ import annotations

import enum
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from terminal.scan._cv import load_cv2
from terminal.scan.decoders import DecodedCode, Decoder, read_image
from terminal.scan.errors import (
    CameraUnavailableError,
    DecoderError,
    ImageUnreadableError,
    ScanError,
    ScanSourceError,
)

log = logging.getLogger(__name__)

Corners = tuple[tuple[float, float], ...]
#: per code found in a frame, its 4 corners
Quads = tuple[Corners, ...]
ScanWindow = tuple[float, float, float, float]
FULL_FRAME: ScanWindow = (0.0, 0.0, 1.0, 1.0)
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})

#: camera: consecutive failed reads (≈ 2 s at 30 fps) before the camera counts as gone
CAMERA_READ_FAILURES = 60


class CaptureState(enum.Enum):
    """Where a CaptureWorker is in its life."""

    IDLE = "idle"
    OPENING = "opening"
    RUNNING = "running"
    FINISHED = "finished"  # a video file or folder came to its end
    STOPPED = "stopped"  # stop() was called
    FAILED = "failed"  # the source could not be opened or was lost; see ``error``


@dataclass
class CaptureStats:
    """Counters of one worker (a snapshot; frames_read = decoded + dropped once it has ended)."""

    frames_read: int = 0
    frames_decoded: int = 0
    frames_dropped: int = 0
    decode_errors: int = 0
    codes_accepted: int = 0


class ConsistentReads:
    """Accepts a text after ``required`` reads at most ``gap_s`` apart, then locks it out.

    The lock-out lasts ``lockout_s`` after the text was *last seen*, so a voucher left in front of
    the camera is not accepted again; it can be accepted again once it has been out of view for
    ``lockout_s``. Times are the frames' timestamps in seconds.
    """

    def __init__(self, required: int = 2, lockout_s: float = 3.0, gap_s: float = 1.0) -> None:
        if required < 1:
            raise ValueError("required must be at least 1")
        self.required = required
        self.lockout_s = lockout_s
        self.gap_s = gap_s
        self._seen: dict[str, tuple[int, float]] = {}
        self._locked: dict[str, float] = {}

    def feed(self, texts: Sequence[str], now: float) -> list[str]:
        """The texts of one frame; returns those accepted by this frame."""
        accepted: list[str] = []
        for text in dict.fromkeys(texts):
            until = self._locked.get(text)
            if until is not None and now < until:
                self._locked[text] = now + self.lockout_s
                continue
            count, last = self._seen.get(text, (0, -math.inf))
            count = count + 1 if now - last <= self.gap_s else 1
            if count >= self.required:
                accepted.append(text)
                self._seen.pop(text, None)
                self._locked[text] = now + self.lockout_s
            else:
                self._seen[text] = (count, now)
        self._locked = {t: u for t, u in self._locked.items() if u > now}
        self._seen = {t: v for t, v in self._seen.items() if now - v[1] <= self.gap_s}
        return accepted


@dataclass(frozen=True)
class Frame:
    """One frame and the time it was taken (seconds; monotonic clock or video position).

    The image is made read-only: it is shared with ``on_frame`` (which must copy before drawing).
    """

    image: np.ndarray
    timestamp: float

    def __post_init__(self) -> None:
        self.image.setflags(write=False)


class _FrameSource:
    """Where frames come from; ``frames()`` runs on the reader thread."""

    live = False
    #: True: frames come at the source's pace and the newest wins; False: every frame is decoded
    realtime = True

    def open(self) -> None:
        """Open the source; raises ScanSourceError (CameraUnavailableError for a camera)."""

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        """Frames until the source ends or ``stop`` is set."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what ``open`` took; safe to call more than once."""

    @property
    def fps(self) -> float:
        """Nominal frames per second."""
        return 30.0


class _VideoCaptureSource(_FrameSource):
    """A camera (by index) or a video file, through cv2.VideoCapture."""

    def __init__(self, target: int | Path, *, realtime: bool) -> None:
        self.target = target
        self.live = isinstance(target, int)
        self.realtime = realtime or self.live
        self._cap: Any = None
        self._fps = 30.0

    def open(self) -> None:
        try:
            cv2: Any = load_cv2()
            if isinstance(self.target, int):
                cap = cv2.VideoCapture(self.target)
                if cap.isOpened():
                    self._configure_camera(cv2, cap)
            else:
                if not self.target.is_file():
                    raise ScanSourceError(f"no such video file: {self.target}")
                cap = cv2.VideoCapture(str(self.target))
        except ScanSourceError:
            raise
        except Exception as error:  # cv2.error, ImportError, backend failures
            raise self._error(f"{type(error).__name__}: {error}") from error
        if not cap.isOpened():
            cap.release()
            raise self._error("could not be opened")
        self._cap = cap
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._fps = fps if 1.0 <= fps <= 240.0 else 30.0

    def _error(self, detail: str) -> ScanSourceError:
        if isinstance(self.target, int):
            return CameraUnavailableError(f"camera {self.target}: {detail}")
        return ScanSourceError(f"{self.target}: {detail}")

    @staticmethod
    def _configure_camera(cv2: Any, cap: Any) -> None:
        """Ask for MJPG at 1280×720 (cameras that do not offer it keep their own mode)."""
        cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, 1280)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, 720)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        log.info(
            "camera mode %dx%d fourcc=%08x",
            int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            int(cap.get(cv2.CAP_PROP_FOURCC)) & 0xFFFFFFFF,
        )

    @property
    def fps(self) -> float:
        return self._fps

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        failures = 0
        index = 0
        start = time.monotonic()
        while not stop.is_set():
            ok, image = self._cap.read()
            if not ok or image is None:
                if not self.live:
                    return  # end of the video file
                failures += 1
                if failures >= CAMERA_READ_FAILURES:
                    raise CameraUnavailableError(f"camera {self.target}: stopped sending frames")
                time.sleep(0.03)
                continue
            failures = 0
            if self.live:
                yield Frame(np.asarray(image), time.monotonic())
                continue
            position = index / self._fps
            index += 1
            if self.realtime:  # play the file like a camera: one frame per 1/fps
                delay = start + position - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    return
            yield Frame(np.asarray(image), position)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class _FolderSource(_FrameSource):
    """A folder of images in name order; each shown for ``frames_per_image`` frames at ``fps``."""

    def __init__(
        self, folder: Path, *, realtime: bool, fps: float = 10.0, frames_per_image: int = 5
    ) -> None:
        self.folder = folder
        self.realtime = realtime
        self._fps = fps
        self.frames_per_image = frames_per_image
        self._files: list[Path] = []

    @property
    def fps(self) -> float:
        return self._fps

    def open(self) -> None:
        if not self.folder.is_dir():
            raise ScanSourceError(f"no such folder: {self.folder}")
        self._files = sorted(
            p for p in self.folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not self._files:
            raise ScanSourceError(f"no images in {self.folder}")

    def frames(self, stop: threading.Event) -> Iterator[Frame]:
        index = 0
        start = time.monotonic()
        for path in self._files:
            try:
                image = read_image(path)
            except ImageUnreadableError as error:
                log.warning("skipping %s", error)
                continue
            for _ in range(self.frames_per_image):
                if stop.is_set():
                    return
                position = index / self._fps
                index += 1
                if self.realtime:
                    delay = start + position - time.monotonic()
                    if delay > 0 and stop.wait(delay):
                        return
                yield Frame(image, position)


def open_source(
    source: int | str | Path,
    *,
    realtime: bool = True,
    folder_fps: float = 10.0,
    frames_per_image: int = 5,
) -> _FrameSource:
    """The frame source for a camera index, a video file path or a folder path (not yet open)."""
    if isinstance(source, bool):
        raise TypeError("source must be a camera index or a path")
    if isinstance(source, int):
        return _VideoCaptureSource(source, realtime=True)
    path = Path(source)
    if path.is_dir():
        return _FolderSource(
            path, realtime=realtime, fps=folder_fps, frames_per_image=frames_per_image
        )
    return _VideoCaptureSource(path, realtime=realtime)


class _FrameSlot:
    """A one-frame buffer between the reader and the decoder; newest frame wins."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._closed = False
        self.read = 0
        self.dropped = 0

    def put(self, frame: Frame, *, wait_for_room: bool) -> None:
        """Offer a frame; replaces (drops) an untaken one, or waits for room when asked to."""
        with self._cond:
            if wait_for_room:
                self._cond.wait_for(lambda: self._frame is None or self._closed)
            if self._closed:
                return
            self.read += 1
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self._cond.notify_all()

    def take(self) -> Frame | None:
        """The newest frame, waiting for one; None once closed and empty."""
        with self._cond:
            self._cond.wait_for(lambda: self._frame is not None or self._closed)
            frame, self._frame = self._frame, None
            self._cond.notify_all()
            return frame

    def close(self, *, discard: bool) -> None:
        """No more frames; with ``discard`` an untaken frame is dropped."""
        with self._cond:
            self._closed = True
            if discard and self._frame is not None:
                self._frame = None
                self.dropped += 1
            self._cond.notify_all()


def _check_window(window: ScanWindow) -> ScanWindow:
    x, y, w, h = (float(v) for v in window)
    if not (0 <= x < 1 and 0 <= y < 1 and w > 0 and h > 0 and x + w <= 1 and y + h <= 1):
        raise ValueError(f"scan window {window} must lie inside (0, 0, 1, 1)")
    return x, y, w, h


class CaptureWorker:
    """Reads frames from ``source`` on its own threads and reports each accepted code once.

    ``source``: a camera index (int), a video file, or a folder of images. ``on_code(text)`` is
    called once per accepted code; ``on_frame(frame, quads)`` after each decoded frame with the
    BGR frame (read-only: copy it before drawing) and, per code found in it, its 4 corners in frame
    pixels (empty when none: the preview keeps the last ones if it wants to); ``on_error(error)``
    when the source cannot be opened or is lost. ``realtime=False`` (files and folders only)
    decodes every frame instead of playing at the source's speed. A folder shows each image for
    ``frames_per_image`` frames at ``folder_fps`` (a still voucher in front of the camera).
    All callbacks run on the worker's decoder thread.
    """

    def __init__(
        self,
        source: int | str | Path,
        decoder: Decoder,
        on_code: Callable[[str], None],
        *,
        consistent_reads: int = 2,
        lockout_s: float = 3.0,
        scan_window: ScanWindow = FULL_FRAME,
        on_frame: Callable[[np.ndarray, Quads], None] | None = None,
        on_error: Callable[[ScanError], None] | None = None,
        realtime: bool = True,
        folder_fps: float = 10.0,
        frames_per_image: int = 5,
    ) -> None:
        self.decoder = decoder
        self.on_code = on_code
        self.on_frame = on_frame
        self.on_error = on_error
        self.scan_window = _check_window(scan_window)
        self._source = open_source(
            source, realtime=realtime, folder_fps=folder_fps, frames_per_image=frames_per_image
        )
        self._confirm = ConsistentReads(consistent_reads, lockout_s)
        self._slot = _FrameSlot()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._state = CaptureState.IDLE
        self._error: ScanError | None = None
        self._decoded = 0
        self._decode_errors = 0
        self._accepted = 0
        self._source_ended = False
        self._reader = threading.Thread(target=self._read_loop, name="scan-reader", daemon=True)
        self._decoder = threading.Thread(target=self._decode_loop, name="scan-decoder", daemon=True)

    # -- control --------------------------------------------------------------------------------

    def start(self) -> None:
        """Open the source and start both threads (returns at once; errors go to ``on_error``)."""
        with self._lock:
            if self._state is not CaptureState.IDLE:
                raise RuntimeError("a CaptureWorker can be started once")
            self._state = CaptureState.OPENING
        self._decoder.start()
        self._reader.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Ask both threads to end, release the source and wait; True when they have ended."""
        self._stop.set()
        self._slot.close(discard=True)
        with self._lock:
            if self._state in (CaptureState.IDLE, CaptureState.OPENING, CaptureState.RUNNING):
                self._state = CaptureState.STOPPED
        return self.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker to end (the source ended, failed or was stopped)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in (self._reader, self._decoder):
            if thread.ident is None or thread is threading.current_thread():
                continue  # never started, or stop() called from a callback on this thread
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(remaining)
        others = [t for t in (self._reader, self._decoder) if t is not threading.current_thread()]
        return not any(t.is_alive() for t in others)

    @property
    def state(self) -> CaptureState:
        """The worker's state."""
        with self._lock:
            return self._state

    @property
    def error(self) -> ScanError | None:
        """Why the worker failed (CameraUnavailableError / ScanSourceError), else None."""
        with self._lock:
            return self._error

    @property
    def stats(self) -> CaptureStats:
        """A snapshot of the counters."""
        with self._lock:
            return CaptureStats(
                frames_read=self._slot.read,
                frames_decoded=self._decoded,
                frames_dropped=self._slot.dropped,
                decode_errors=self._decode_errors,
                codes_accepted=self._accepted,
            )

    # -- threads --------------------------------------------------------------------------------

    def _set_state(self, state: CaptureState, error: ScanError | None = None) -> None:
        with self._lock:
            if self._state is CaptureState.STOPPED:
                return
            self._state = state
            if error is not None:
                self._error = error

    def _read_loop(self) -> None:
        source = self._source
        try:
            source.open()
            self._set_state(CaptureState.RUNNING)
            for frame in source.frames(self._stop):
                self._slot.put(frame, wait_for_room=not source.realtime)
            self._source_ended = True  # FINISHED once the decoder has had the last frame
        except ScanError as error:
            log.warning("scan source failed: %s", error)
            self._set_state(CaptureState.FAILED, error)
            self._report_error(error)
        except Exception as error:
            log.exception("scan source crashed")
            wrapped = ScanSourceError(f"{type(error).__name__}: {error}")
            self._set_state(CaptureState.FAILED, wrapped)
            self._report_error(wrapped)
        finally:
            source.close()
            self._slot.close(discard=False)

    def _report_error(self, error: ScanError) -> None:
        if self.on_error is None:
            return
        try:
            self.on_error(error)
        except Exception:
            log.exception("on_error callback failed")

    def _decode_loop(self) -> None:
        while True:
            frame = self._slot.take()
            if frame is None:
                if self._source_ended:
                    self._set_state(CaptureState.FINISHED)
                return
            codes = self._decode(frame.image)
            with self._lock:
                self._decoded += 1
            if self.on_frame is not None:
                try:
                    self.on_frame(frame.image, tuple(c.corners for c in codes))
                except Exception:
                    log.exception("on_frame callback failed")
            for text in self._confirm.feed([c.text for c in codes], frame.timestamp):
                with self._lock:
                    self._accepted += 1
                log.info("accepted a code (%d characters)", len(text))
                try:
                    self.on_code(text)
                except Exception:
                    log.exception("on_code callback failed")

    def _decode(self, image: np.ndarray) -> list[DecodedCode]:
        height, width = image.shape[:2]
        x, y, w, h = self.scan_window
        x0, y0 = int(x * width), int(y * height)
        x1, y1 = max(x0 + 1, int((x + w) * width)), max(y0 + 1, int((y + h) * height))
        try:
            codes = self.decoder.decode(image[y0:y1, x0:x1])
        except DecoderError as error:
            with self._lock:
                self._decode_errors += 1
            log.debug("frame not decoded: %s", error)
            return []
        except Exception:  # a Decoder that breaks its contract must not end the loop
            with self._lock:
                self._decode_errors += 1
            log.exception("decoder %s raised outside its contract", self.decoder.name)
            return []
        if x0 == 0 and y0 == 0:
            return codes
        return [
            DecodedCode(c.text, tuple((px + x0, py + y0) for px, py in c.corners)) for c in codes
        ]
