"""`mykey demo --headless --out DIR`: the demo window driven offscreen through the whole story.

Grant at the municipal desk, online use at the shop, offline use with the ledger stopped, the
ledger started and the queue synced, a voucher issued at the street office and printed to PDF,
the same sheet painted as an image and scanned back (a folder of images as the camera) and
redeemed at the shop, a library look-up, a wrong PIN, the last PIN try, a revoked card; then
every screen of every terminal and a ledger audit. Every step goes through the window's widgets
(the tray's buttons, the screens' fields and keys) where the window offers it.

DIR receives ``screenshots/NN_name.png`` (each at the same fixed size), ``voucher.pdf`` and
``summary.json`` (each step: name, expected, observed, ok). Exit 0 only if every step did what
it should.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMessageLogContext, Qt, QtMsgType, qInstallMessageHandler
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget

from mykey.demo import WINDOW_SIZE, DemoSession, choose_cards
from mykey.demo_window import DemoWindow
from mykey.demo_world import DEMO_PIN, TERMINALS, running_world
from server_stub.audit import audit
from server_stub.db.engine import make_engine
from terminal.vouchers.layout import VoucherFace, a4_sheet
from ui.app import make_app
from ui.card_flow import CardFlow, FlowState
from ui.main_window import MainWindow
from ui.prefs import Prefs
from ui.printing.voucher_painter import sheet_image
from ui.screens.base import Screen

log = logging.getLogger(__name__)

WAIT_S = 20.0
#: the printed sheet as the camera sees it (A4 at 150 dpi: 1240 × 1754)
CAMERA_DPI = 150
#: where the scan screens' camera looks (ui.camera_view)
CAMERA_ENV = "MYKEY_CAMERA_SOURCE"
WRONG_PIN = "0000"
VOUCHER_POINTS = 500
PATRON_NUMBER = "NK-0012345"
GRANT = "普通救命講習"


class StoryError(Exception):
    """A step did not reach what it waited for (the text says where it stood)."""


@dataclass
class StepResult:
    """One line of summary.json."""

    name: str
    expected: str
    observed: str
    ok: bool
    #: the process's peak resident memory after the step (None on Windows)
    peak_rss_mb: float | None = None


class Story:
    """Drives a :class:`DemoWindow` step by step and records what it saw."""

    def __init__(self, window: DemoWindow, session: DemoSession, out: Path) -> None:
        self.window = window
        self.session = session
        self.out = out
        self.shots = out / "screenshots"
        self.shots.mkdir(parents=True, exist_ok=True)
        self.steps: list[StepResult] = []
        self.screenshots: list[str] = []
        #: the vouchers the street office printed (shown to the shop's camera)
        self.printed: list[VoucherFace] = []

    # --- plumbing ---------------------------------------------------------------------------

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
        """Run the event loop until ``condition``; StoryError naming ``what`` on timeout."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise StoryError(f"timed out waiting for {what}")
            QTest.qWait(10)

    def shot(self, name: str) -> None:
        """Screenshot of the whole demo window at the fixed size."""
        self.window.resize(*WINDOW_SIZE)
        QTest.qWait(1)
        path = self.shots / f"{len(self.screenshots) + 1:02d}_{name}.png"
        if not self.window.grab().save(str(path)):
            raise StoryError(f"could not save {path}")
        self.screenshots.append(str(path.relative_to(self.out)))

    def step(self, name: str, expected: str, run: Callable[[], tuple[str, bool]]) -> bool:
        """Run one step; its exception (if any) is what was observed."""
        try:
            observed, ok = run()
        except Exception as error:
            log.exception("demo step %s failed", name)
            observed, ok = f"{type(error).__name__}: {error}", False
        self.steps.append(StepResult(name, expected, observed, ok, _peak_rss_mb()))
        log.info("step %s: %s (%s)", name, "ok" if ok else "FAILED", observed)
        return ok

    @property
    def main(self) -> MainWindow:
        """The terminal window shown now."""
        return self.window.window_

    def terminal(self, name: str) -> None:
        """Choose terminal ``name`` in the tray."""
        combo = self.window.tray.terminal
        combo.setCurrentIndex(combo.findData(name))
        combo.activated.emit(combo.currentIndex())
        self.wait(lambda: self.window.terminal_name == name, f"terminal {name}")

    def open(self, mode: str) -> Screen:
        """Open ``mode`` with its menu button."""
        QTest.mouseClick(self.main.buttons[mode], Qt.MouseButton.LeftButton)
        return self.main.screens[mode]

    def click(self, widget: QWidget) -> None:
        """A left click."""
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton)

    def place(self, card: str) -> None:
        """Place a demo card with the tray's button."""
        self.click(self.window.tray.card_buttons[card])

    def remove(self) -> None:
        """Take the card off with the tray's button."""
        if self.window.tray.remove_button.isEnabled():
            self.click(self.window.tray.remove_button)
        reader = self.main.services.reader  # through pcscd the window hears it a poll later
        self.wait(lambda: not reader.card_present, "the reader to be empty")

    @staticmethod
    def flow_of(screen: Screen) -> CardFlow:
        """The screen's card flow."""
        assert screen.flow is not None
        return screen.flow

    def reach(self, flow: CardFlow, *states: FlowState) -> None:
        """Wait until the flow is in one of ``states``."""
        try:
            self.wait(lambda: flow.state in states, "/".join(s.value for s in states))
        except StoryError as error:
            shown = f"{flow.fail_title.text()} {flow.result_title.text()}".strip()
            raise StoryError(f"{error}; the flow is {flow.state.value}: {shown}") from error

    def type_pin(self, flow: CardFlow, pin: str = DEMO_PIN) -> None:
        """Wait for the PIN pad, type ``pin`` and press Enter."""
        self.reach(flow, FlowState.PIN)
        QTest.keyClicks(flow.pin_pad, pin)
        QTest.keyClick(flow.pin_pad, Qt.Key.Key_Return)

    def page(self, flow: CardFlow, page: QWidget, what: str) -> None:
        """Wait until the flow shows the screen's ``page``."""
        try:
            self.wait(lambda: flow.stack.currentWidget() is page, what)
        except StoryError as error:
            shown = f"{flow.fail_title.text()} {flow.result_title.text()}".strip()
            raise StoryError(f"{error}; the flow is {flow.state.value}: {shown}") from error

    def sync(self) -> str:
        """Press 今すぐ同期 on the sync screen; the result line."""
        screen: Any = self.open("sync")
        self.click(screen.sync_button)
        self.wait(
            lambda: not screen.runner.busy and screen.result.text() != "同期しています…",
            "the sync to finish",
        )
        text: str = screen.result.text()
        return text

    # --- the story --------------------------------------------------------------------------

    def run(self) -> None:
        """Every step, in order (a failed step does not stop the others)."""
        self.step("desk_sync", "同期しました", self.desk_sync)
        self.step("grant", "300 ポイントを付与しました", self.grant)
        self.step("shop_sync", "同期しました", self.shop_sync)
        self.step("online_use", "ポイントを使いました; 新しい残高", self.online_use)
        self.step("ledger_stopped", "停止中", self.stop_ledger)
        self.step("offline_use", "オフラインで受け付けました; 未送信 1件", self.offline_use)
        self.step("ledger_started_sync", "同期しました; 未送信 0件", self.start_ledger_and_sync)
        self.step("voucher_issue", f"1 voucher of {VOUCHER_POINTS} pt in voucher.pdf", self.issue)
        self.step("voucher_scan_redeem", "scanned from the PDF's image; 消込済", self.scan_redeem)
        self.step("library_lookup", f"利用者番号 {PATRON_NUMBER}", self.library)
        self.step("wrong_pin", "暗証番号が違います; 残り回数: 2回", self.wrong_pin)
        self.step("last_pin_try", "confirmation before the last try", self.last_try)
        self.step("revoked_card", "失効しています", self.revoked)
        self.step("every_screen", "a screenshot of every mode of every terminal", self.every_screen)
        self.step("ledger_audit", "no violations", self.ledger_audit)

    def desk_sync(self) -> tuple[str, bool]:
        self.terminal("desk")
        text = self.sync()
        self.shot("desk_synced")
        return text, text.startswith("同期しました")

    def grant(self) -> tuple[str, bool]:
        screen: Any = self.open("grant")
        flow = self.flow_of(screen)
        index = next(
            (i for i in range(screen.program.count()) if GRANT in screen.program.itemText(i)), -1
        )
        if index < 0:
            raise StoryError(f"no {GRANT} in the grant programs")
        screen.program.setCurrentIndex(index)
        self.shot("grant_ready")
        self.place("ordinary")
        self.reach(flow, FlowState.RESULT, FlowState.FAILED)
        self.shot("grant_done")
        observed = f"{flow.result_title.text()} {flow.result_lines.text()}".strip()
        done = flow.result_title.text() == "300 ポイントを付与しました"
        ok = flow.state is FlowState.RESULT and done
        self.remove()
        return observed or flow.fail_title.text(), ok

    def shop_sync(self) -> tuple[str, bool]:
        self.terminal("shop")
        text = self.sync()
        return text, text.startswith("同期しました")

    def _pay(self, points: int, name: str) -> tuple[CardFlow, Any]:
        screen: Any = self.open("checkout")
        flow = self.flow_of(screen)
        self.shot(f"{name}_place_card")
        self.place("ordinary")
        self.reach(flow, FlowState.PIN)
        QTest.keyClicks(flow.pin_pad, DEMO_PIN[:2])
        self.shot(f"{name}_pin")
        QTest.keyClicks(flow.pin_pad, DEMO_PIN[2:])
        QTest.keyClick(flow.pin_pad, Qt.Key.Key_Return)
        self.page(flow, screen.amount_page, "the amount page")
        QTest.keyClicks(screen.amount, str(points))
        self.shot(f"{name}_amount")
        QTest.keyClick(screen.amount, Qt.Key.Key_Return)
        self.page(flow, screen.confirm_page, "the confirmation")
        self.shot(f"{name}_confirm")
        QTest.keyClick(screen.confirm_page, Qt.Key.Key_Return)
        self.reach(flow, FlowState.RESULT, FlowState.FAILED)
        self.main.status.refresh()
        self.shot(f"{name}_done")
        return flow, screen

    def online_use(self) -> tuple[str, bool]:
        flow, _ = self._pay(500, "online_use")
        observed = f"{flow.result_title.text()} / {flow.result_lines.text()}"
        ok = flow.result_title.text() == "ポイントを使いました" and "新しい残高" in observed
        self.remove()
        return observed, ok

    def stop_ledger(self) -> tuple[str, bool]:
        self.click(self.window.tray.ledger_button)
        observed = self.window.tray.ledger_state.text()
        return observed, not self.session.ledger.running and "停止中" in observed

    def offline_use(self) -> tuple[str, bool]:
        flow, _ = self._pay(200, "offline_use")
        status = self.main.status
        observed = (
            f"{flow.result_title.text()} / {flow.result_lines.text()} / "
            f"{status.network.text()} {status.unsynced.text()}"
        )
        ok = (
            "オフラインで受け付けました" in flow.result_title.text()
            and "未送信 1件" in status.unsynced.text()
        )
        self.remove()
        return observed, ok

    def start_ledger_and_sync(self) -> tuple[str, bool]:
        self.click(self.window.tray.ledger_button)
        if not self.session.ledger.running:
            raise StoryError("the ledger did not start")
        text = self.sync()
        self.main.status.refresh()
        self.shot("synced_after_offline")
        unsynced = self.main.status.unsynced.text()
        return f"{text} / {unsynced}", text.startswith("同期しました") and unsynced == "未送信 0件"

    def issue(self) -> tuple[str, bool]:
        """ポイント券発行 at the street office: card, PIN, 1 × 500 pt, the card signs; saved as
        PDF on the A4 sheet."""
        self.terminal("office")
        self.sync()
        screen: Any = self.open("issue_vouchers")
        screen.auto_preview = False  # a print preview dialog would cover the window
        flow = self.flow_of(screen)
        self.place("ordinary")
        self.type_pin(flow)
        self.page(flow, screen.form_page, "the issue form")
        screen.fill(1, VOUCHER_POINTS)
        self.shot("voucher_issue_form")
        if not screen.issue():
            raise StoryError(f"the form was refused: {screen.form_error.text()}")
        self.reach(flow, FlowState.RESULT, FlowState.FAILED)
        self.shot("voucher_issued")
        title = flow.result_title.text() or flow.fail_title.text()
        screen.set_paper("a4")
        faces = self.printed = list(screen.faces)
        if not faces:
            raise StoryError(f"nothing to print: {title}")
        pdf = screen.save_pdf(self.out / "voucher.pdf")
        self.remove()
        return (
            f"{title}: {len(faces)} voucher {faces[0].number} {faces[0].points} pt → "
            f"{Path(pdf).name}",
            len(faces) == 1 and faces[0].points == VOUCHER_POINTS and Path(pdf).exists(),
        )

    def scan_redeem(self) -> tuple[str, bool]:
        """Show the printed A4 sheet to the shop's camera (a folder of images), redeem."""
        frames = self.out / "camera"
        shutil.rmtree(frames, ignore_errors=True)
        frames.mkdir()
        sheet = sheet_image(self.printed, a4_sheet(), CAMERA_DPI)
        if not sheet.save(str(frames / "sheet.png")):
            raise StoryError(f"could not save the printed sheet in {frames}")
        self.terminal("shop")
        screen: Any = self.open("scan_vouchers")
        before = len(screen.entries)
        if not screen.start_camera(frames):
            raise StoryError("the scan screen could not start the folder camera")
        self.wait(lambda: len(screen.entries) > before, "a scanned voucher", timeout=30)
        self.wait(lambda: not screen.busy, "the redemption")
        self.shot("voucher_redeemed")  # the camera view still shows the voucher
        screen.stop_camera()
        self.main.status.refresh()
        entry = screen.entries[-1]
        return (
            f"{entry.number} {entry.points} pt: {entry.flag} {entry.message_ja} (scan screen)",
            entry.kind == "ok" and entry.points == VOUCHER_POINTS,
        )

    def library(self) -> tuple[str, bool]:
        self.terminal("library")
        screen: Any = self.open("library")
        flow = self.flow_of(screen)
        self.place("ordinary")
        self.reach(flow, FlowState.PIN, FlowState.CONTENT, FlowState.RESULT, FlowState.FAILED)
        if flow.state is FlowState.PIN:
            self.type_pin(flow)
            self.reach(flow, FlowState.CONTENT, FlowState.RESULT, FlowState.FAILED)
        link_page: QWidget = screen.link_page
        if flow.state is FlowState.CONTENT and flow.stack.currentWidget() is link_page:
            self.shot("library_link")
            QTest.keyClicks(screen.patron, PATRON_NUMBER)
            QTest.keyClick(link_page, Qt.Key.Key_Return)
            self.type_pin(flow)
            self.reach(flow, FlowState.RESULT, FlowState.FAILED)
        self.shot("library_number")
        observed = f"{flow.result_title.text()} {flow.result_huge.text()}".strip()
        ok = flow.state is FlowState.RESULT and flow.result_huge.text() == PATRON_NUMBER
        self.remove()
        return observed or flow.fail_title.text(), ok

    def wrong_pin(self) -> tuple[str, bool]:
        self.terminal("shop")
        screen: Any = self.open("checkout")
        flow = self.flow_of(screen)
        self.place("ordinary")
        self.type_pin(flow, WRONG_PIN)
        pad = flow.pin_pad
        self.wait(lambda: flow.state is FlowState.PIN and pad.notice.isVisible(), "the notice")
        self.shot("wrong_pin")
        observed = f"{pad.notice.text()} {pad.tries.text()}"
        ok = "暗証番号が違います" in pad.notice.text() and pad.tries.text() == "残り回数: 2回"
        QTest.keyClicks(pad, DEMO_PIN)  # the right one now: the card's counter is back to 3
        QTest.keyClick(pad, Qt.Key.Key_Return)
        self.page(flow, screen.amount_page, "the amount page")
        QTest.keyClick(screen.amount, Qt.Key.Key_Escape)
        self.remove()
        return observed, ok

    def last_try(self) -> tuple[str, bool]:
        screen: Any = self.open("checkout")
        flow = self.flow_of(screen)
        self.place("last-try")
        self.reach(flow, FlowState.PIN)
        pad = flow.pin_pad
        tries = pad.tries.text()
        QTest.keyClicks(pad, DEMO_PIN)
        QTest.keyClick(pad, Qt.Key.Key_Return)
        confirming = pad.needs_confirmation and flow.state is FlowState.PIN
        self.shot("last_pin_try")
        QTest.keyClick(pad, Qt.Key.Key_Return)
        self.page(flow, screen.amount_page, "the amount page")
        QTest.keyClick(screen.amount, Qt.Key.Key_Escape)
        self.remove()
        observed = f"{tries}; confirmation shown: {confirming}; then the amount page"
        return observed, tries == "残り回数: 1回" and confirming

    def revoked(self) -> tuple[str, bool]:
        screen: Any = self.open("checkout")
        flow = self.flow_of(screen)
        self.place("revoked")
        self.reach(flow, FlowState.FAILED, FlowState.PIN, FlowState.RESULT)
        if flow.state is FlowState.PIN:  # checked after the PIN when online
            self.type_pin(flow)
            self.reach(flow, FlowState.FAILED, FlowState.RESULT, FlowState.CONTENT)
        self.shot("revoked_card")
        observed = flow.fail_title.text()
        self.remove()
        return observed, flow.state is FlowState.FAILED and "失効" in observed

    def every_screen(self) -> tuple[str, bool]:
        count = 0
        for name in TERMINALS:
            self.terminal(name)
            for mode in self.main.screens:
                self.open(mode)
                QTest.qWait(20)
                self.shot(f"{name}_{mode}")
                count += 1
            scan = self.main.screens.get("scan_vouchers")
            if scan is not None and hasattr(scan, "stop_camera"):
                scan.stop_camera()
        self.open(next(iter(self.main.screens)))
        return f"{count} screens", count >= len(TERMINALS)

    def ledger_audit(self) -> tuple[str, bool]:
        engine = make_engine(self.session.world.database_url)
        try:
            with engine.connect() as conn:
                violations = audit(conn)
        finally:
            engine.dispose()
        return f"{len(violations)} violations", not violations

    def write_summary(self) -> bool:
        """summary.json; True when every step was ok."""
        ok = all(s.ok for s in self.steps) and bool(self.steps)
        summary = {
            "ok": ok,
            "cards": self.session.cards.description,
            "voucher_pdf": "voucher.pdf" if (self.out / "voucher.pdf").exists() else None,
            "steps": [asdict(s) for s in self.steps],
            "screenshots": self.screenshots,
            "window_size": list(WINDOW_SIZE),
        }
        (self.out / "summary.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        return ok


def _idle_camera(folder: Path) -> Path:
    """The scan screens' camera between scans: an empty counter top (one plain image), so no
    camera device is needed offscreen."""
    from PySide6.QtGui import QColor, QImage

    folder.mkdir(parents=True, exist_ok=True)
    image = QImage(640, 480, QImage.Format.Format_RGB32)
    image.fill(QColor("#d8d4cc"))
    image.save(str(folder / "counter.png"))
    return folder


def _qt_message(_mode: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    """Qt's messages to the log; the offscreen platform's one about size hints is no news."""
    if "propagateSizeHints" not in message:
        log.warning("Qt: %s", message)


def run_headless(base: Path, out: Path, *, pcsc: bool, latency: str) -> int:
    """Prepare the world in ``base``, drive the window offscreen, write ``out``; exit code."""
    import sys

    out.mkdir(parents=True, exist_ok=True)
    qInstallMessageHandler(_qt_message)
    os.environ[CAMERA_ENV] = str(_idle_camera(out / "camera-idle"))
    with running_world(base) as (world, ledger):
        session = DemoSession(world, ledger, choose_cards(pcsc, latency))
        app = make_app(Prefs(sounds=False))
        window = DemoWindow(session, "desk", background_sync=False)
        window.resize(*WINDOW_SIZE)
        window.show()
        story = Story(window, session, out)
        try:
            story.run()
        finally:
            ok = story.write_summary()
            window.shutdown()
            window.deleteLater()
            session.close()
            app.processEvents()
    for s in story.steps:
        mark = "ok  " if s.ok else "FAIL"
        sys.stdout.write(f"{mark} {s.name}: {s.observed}\n")
    sys.stdout.write(f"{'すべて成功 / all steps ok' if ok else '失敗あり / some steps failed'}\n")
    return 0 if ok else 1


def _peak_rss_mb() -> float | None:
    """This process's peak resident memory in MB; None on Windows, which has no getrusage."""
    try:
        import resource
    except ImportError:
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
