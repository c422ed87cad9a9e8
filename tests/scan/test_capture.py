"""The capture loop: a synthetic webcam video of three vouchers gives exactly three codes; folders
of images stand in for the camera; a missing camera is a reported state, not a crash."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from terminal.scan.capture import CaptureState, CaptureWorker, ConsistentReads, Quads
from terminal.scan.decoders import get_decoder
from terminal.scan.errors import CameraUnavailableError, ScanError, ScanSourceError
from terminal.scan.synthetic import Shot, voucher_frame
from tests.scan.support import hand_held_shot, payloads, write_voucher_video

TIMEOUT = 60.0


@pytest.fixture(scope="module")
def voucher_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """An MJPG .avi: three vouchers, each about a second at 20 fps, hand-held (see support)."""
    texts = payloads(3)
    path = tmp_path_factory.mktemp("video") / "three_vouchers.avi"
    write_voucher_video(path, texts)
    return path, texts


class Collector:
    """Gathers the worker's callbacks (they arrive on the worker's thread)."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.errors: list[ScanError] = []
        self.quads_seen = 0
        self.frames = 0
        self._lock = threading.Lock()

    def on_code(self, text: str) -> None:
        with self._lock:
            self.codes.append(text)

    def on_error(self, error: ScanError) -> None:
        with self._lock:
            self.errors.append(error)

    def on_frame(self, frame: np.ndarray, quads: Quads) -> None:
        assert frame.ndim == 3
        with self._lock:
            self.frames += 1
            self.quads_seen += sum(1 for q in quads if len(q) == 4)


def run(source: Path | int, **options: object) -> tuple[CaptureWorker, Collector]:
    seen = Collector()
    worker = CaptureWorker(
        source,
        get_decoder("zxing"),
        seen.on_code,
        on_frame=seen.on_frame,
        on_error=seen.on_error,
        **options,  # type: ignore[arg-type]
    )
    worker.start()
    assert worker.join(TIMEOUT), "the worker did not finish"
    return worker, seen


@pytest.mark.parametrize("realtime", [True, False], ids=["camera-like", "every-frame"])
def test_three_vouchers_in_a_video_are_accepted_once_each(
    voucher_video: tuple[Path, list[str]], realtime: bool
) -> None:
    path, texts = voucher_video
    worker, seen = run(path, realtime=realtime)
    assert seen.errors == []
    assert worker.state is CaptureState.FINISHED
    assert seen.codes == texts  # exactly three, in order, no double
    stats = worker.stats
    assert stats.codes_accepted == 3
    assert stats.frames_read == stats.frames_decoded + stats.frames_dropped
    assert seen.frames == stats.frames_decoded
    assert seen.quads_seen > 0  # the preview got corners to draw
    if not realtime:
        assert stats.frames_dropped == 0


def test_a_scan_window_ignores_codes_outside_it(voucher_video: tuple[Path, list[str]]) -> None:
    path, _ = voucher_video
    # the vouchers sit in the middle of the frame; a strip along the top edge sees none
    worker, seen = run(path, realtime=False, scan_window=(0.0, 0.0, 1.0, 0.08))
    assert seen.codes == []
    assert worker.stats.frames_decoded > 0


def test_a_folder_of_images_stands_in_for_the_camera(tmp_path: Path) -> None:
    texts = payloads(3, seed=11)
    rng = np.random.default_rng(2)
    # two photos of the first voucher (one reading), then the others, then a non-image file
    order = [texts[0], texts[0], texts[1], texts[2]]
    for index, text in enumerate(order):
        frame = voucher_frame(text, hand_held_shot(rng), rng)
        assert cv2.imwrite(str(tmp_path / f"{index:02d}.jpg"), frame)
    (tmp_path / "notes.txt").write_text("not an image", encoding="utf-8")
    (tmp_path / "99.png").write_bytes(b"broken")  # skipped with a warning
    worker, seen = run(tmp_path, realtime=False, frames_per_image=3)
    assert seen.codes == texts
    assert worker.state is CaptureState.FINISHED
    assert worker.stats.frames_read == 12


def test_a_single_frame_is_not_enough(tmp_path: Path) -> None:
    text = payloads(1, seed=12)[0]
    frame = voucher_frame(text, Shot(), np.random.default_rng(0))
    assert cv2.imwrite(str(tmp_path / "one.png"), frame)
    _, seen = run(tmp_path, realtime=False, frames_per_image=1)
    assert seen.codes == []
    _, seen = run(tmp_path, realtime=False, frames_per_image=2)
    assert seen.codes == [text]


def test_a_missing_camera_is_reported_not_raised() -> None:
    worker, seen = run(97)
    assert worker.state is CaptureState.FAILED
    assert isinstance(worker.error, CameraUnavailableError)
    assert seen.errors == [worker.error]
    assert worker.error.user_lines()[0].startswith("カメラを使えません")
    assert seen.codes == []


@pytest.mark.parametrize("name", ["missing.avi", "empty-folder"])
def test_a_missing_file_or_empty_folder_is_a_source_error(tmp_path: Path, name: str) -> None:
    if name == "empty-folder":
        (tmp_path / name).mkdir()
    worker, seen = run(tmp_path / name)
    assert worker.state is CaptureState.FAILED
    assert isinstance(worker.error, ScanSourceError)
    assert not isinstance(worker.error, CameraUnavailableError)
    assert len(seen.errors) == 1


def test_stop_ends_a_running_worker_cleanly(voucher_video: tuple[Path, list[str]]) -> None:
    path, _ = voucher_video
    started = threading.Event()
    worker = CaptureWorker(
        path, get_decoder("zxing"), lambda _t: None, on_frame=lambda _f, _q: started.set()
    )
    worker.start()
    assert started.wait(TIMEOUT)
    assert worker.stop(timeout=TIMEOUT)
    assert worker.state is CaptureState.STOPPED
    with pytest.raises(RuntimeError):
        worker.start()


def test_scan_window_must_lie_inside_the_frame() -> None:
    with pytest.raises(ValueError, match="scan window"):
        CaptureWorker(0, get_decoder("zxing"), lambda _t: None, scan_window=(0.5, 0, 0.6, 1))


class TestConsistentReads:
    """Acceptance rules on frame timestamps (seconds)."""

    def test_two_reads_close_together_accept_once_while_in_view(self) -> None:
        reads = ConsistentReads(required=2, lockout_s=3.0, gap_s=1.0)
        assert reads.feed(["A"], 0.0) == []
        assert reads.feed(["A"], 0.05) == ["A"]
        # held in front of the camera for ten seconds: still only once
        assert all(reads.feed(["A"], 0.1 + i * 0.05) == [] for i in range(200))

    def test_reads_too_far_apart_do_not_count(self) -> None:
        reads = ConsistentReads(required=2, lockout_s=3.0, gap_s=1.0)
        assert reads.feed(["A"], 0.0) == []
        assert reads.feed(["A"], 1.5) == []
        assert reads.feed(["A"], 1.6) == ["A"]

    def test_lockout_runs_from_the_last_sighting(self) -> None:
        reads = ConsistentReads(required=2, lockout_s=3.0, gap_s=1.0)
        reads.feed(["A"], 0.0)
        assert reads.feed(["A"], 0.1) == ["A"]
        assert reads.feed([], 2.0) == []
        assert reads.feed(["A"], 3.0) == []  # back within 3 s of last sighting: still locked
        assert reads.feed(["A"], 5.0) == []  # 2 s after last sighting: still locked
        assert reads.feed(["A"], 8.5) == []  # out of view 3.5 s: first read again
        assert reads.feed(["A"], 8.6) == ["A"]

    def test_two_codes_in_one_frame_and_a_switch(self) -> None:
        reads = ConsistentReads(required=2, lockout_s=3.0, gap_s=1.0)
        assert reads.feed(["A", "B", "A"], 0.0) == []
        assert reads.feed(["B", "A"], 0.1) == ["B", "A"]
        assert reads.feed(["C"], 0.2) == []
        assert reads.feed(["C"], 0.3) == ["C"]


def test_windows_gets_the_fast_camera_open_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    from terminal.scan import _cv

    monkeypatch.delenv(_cv.MSMF_HW_TRANSFORMS, raising=False)
    monkeypatch.setattr(_cv.sys, "platform", "linux")
    _cv.prepare_environment()
    assert _cv.MSMF_HW_TRANSFORMS not in _cv.os.environ
    monkeypatch.setattr(_cv.sys, "platform", "win32")
    _cv.prepare_environment()
    assert _cv.os.environ[_cv.MSMF_HW_TRANSFORMS] == "0"


def test_stop_from_the_on_code_callback_does_not_deadlock(
    voucher_video: tuple[Path, list[str]],
) -> None:
    path, texts = voucher_video
    codes: list[str] = []
    holder: list[CaptureWorker] = []

    def on_code(text: str) -> None:
        codes.append(text)
        holder[0].stop()

    worker = CaptureWorker(path, get_decoder("zxing"), on_code, realtime=False)
    holder.append(worker)
    worker.start()
    assert worker.join(TIMEOUT)
    assert codes == texts[:1]
    assert worker.state is CaptureState.STOPPED
