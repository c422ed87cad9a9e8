"""The one card flow every mode uses: place the card → reading → PIN → checking → the screen's
own pages → result → remove the card. Each state has one large prompt; each failure of
DOMAIN.md §8 shows its own message and what to do.

A screen gives the flow a *first job factory* (called on the GUI thread when a card arrives; the
job it returns runs on the card worker), gets each job's result from ``job_finished``, shows its
own pages with :meth:`CardFlow.show_page`, runs further jobs on the same card with
:meth:`CardFlow.run` and ends with :meth:`CardFlow.finish`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QStackedWidget, QVBoxLayout, QWidget

from ui.card_worker import CardJob, CardWorker
from ui.failure import Failure
from ui.reader import ReaderState
from ui.sound import Sounds
from ui.text import tr
from ui.widgets import PinPad, big_label, button, set_role

log = logging.getLogger(__name__)


class FlowState(StrEnum):
    """Where the flow is."""

    IDLE = "idle"  # the screen is not shown
    PLACE = "place"
    BUSY = "busy"
    PIN = "pin"
    CONTENT = "content"
    FAILED = "failed"
    RESULT = "result"
    REMOVE = "remove"


def stage_text(stage: str) -> str:
    """The large prompt of a worker stage."""
    texts = {
        "reading": tr("カードを読み取っています。カードを動かさずにお待ちください。"),
        "checking": tr("確認しています。そのままお待ちください。"),
        "signing": tr("カードで確定しています。カードを動かさないでください。"),
        "server": tr("サーバーに問い合わせています。"),
    }
    return texts.get(stage, tr("処理しています。そのままお待ちください。"))


class Page(QWidget):
    """A screen page inside the flow; Enter and Esc call ``on_enter`` / ``on_escape``."""

    def __init__(self) -> None:
        super().__init__()
        self.on_enter: Callable[[], None] | None = None
        self.on_escape: Callable[[], None] | None = None


class CardFlow(QWidget):
    """The card flow widget (see the module docstring)."""

    job_finished = Signal(object)
    job_error = Signal(object)
    restarted = Signal()
    state_changed = Signal(str)

    def __init__(
        self, worker: CardWorker, reader: ReaderState, sounds: Sounds, *, place_hint: str = ""
    ) -> None:
        super().__init__()
        self.worker = worker
        self.reader = reader
        self.sounds = sounds
        self.state = FlowState.IDLE
        self._first: Callable[[], CardJob | None] | None = None
        self._job_id: int | None = None
        self._back: QWidget | None = None
        self._records = False
        self._card_pulled = False
        self._failure_note = ""
        self._retry_back = False
        self.stack = QStackedWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.place_hint = big_label(place_hint, role="hint")
        self.reader_hint = big_label("", role="bad")
        self.place_page = self._page(
            big_label(tr("カードをリーダーに置いてください"), role="title"),
            self.place_hint,
            self.reader_hint,
        )
        self.busy_label = big_label("", role="title")
        self.busy_page = self._page(self.busy_label)
        self.pin_pad = PinPad()
        self.pin_pad.entered.connect(self._pin_entered)
        self.pin_pad.cancelled.connect(self.cancel)
        self.stack.addWidget(self.pin_pad)
        self.fail_title = big_label("", role="bad")
        self.fail_en = big_label("", role="hint")
        self.fail_note = big_label("", role="warn")
        self.retry_button = button(tr("もう一度 (Enter)"), role="primary")
        self.retry_button.clicked.connect(self.retry)
        stop = button(tr("中止 (Esc)"))
        stop.clicked.connect(self.cancel)
        actions = QWidget()
        row = QHBoxLayout(actions)
        row.addWidget(self.retry_button)
        row.addWidget(stop)
        self.fail_page = self._page(self.fail_title, self.fail_note, self.fail_en, actions)
        self.result_title = big_label("", role="ok")
        self.result_huge = big_label("", role="huge")
        self.result_lines = big_label("", role="prompt")
        self.result_hint = big_label("", role="warn")
        self.result_page = self._page(
            self.result_title, self.result_huge, self.result_lines, self.result_hint
        )
        self.remove_page = self._page(big_label(tr("カードをお取りください"), role="title"))
        worker.stage_changed.connect(self._on_stage)
        worker.pin_requested.connect(self._on_pin_requested)
        worker.job_done.connect(self._on_done)
        worker.job_failed.connect(self._on_failed)
        reader.card_inserted.connect(self._on_card_inserted)
        reader.card_removed.connect(self._on_card_removed)
        reader.changed.connect(self._update_reader_hint)

    def _page(self, *widgets: QWidget) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        for widget in widgets:
            layout.addWidget(widget)
        layout.addStretch(1)
        self.stack.addWidget(page)
        return page

    # --- set-up by the screen ---------------------------------------------------------------

    def set_first_job(self, factory: Callable[[], CardJob | None]) -> None:
        """What to run when a card arrives (None from the factory: not ready, stay waiting)."""
        self._first = factory

    def add_page(self, page: QWidget) -> None:
        """Add one of the screen's own pages."""
        self.stack.addWidget(page)

    def activate(self) -> None:
        """The screen is shown: wait for a card (or start at once if one is there)."""
        self._to_place()
        if self.reader.card_present:
            self._start_first()

    def deactivate(self) -> None:
        """The screen is left: drop the card session, ignore late results."""
        if self._job_id is not None:
            self.worker.abandon(self._job_id)
        if self.state is FlowState.PIN:
            self.worker.cancel_pin()
        self._job_id = None
        self.worker.release()
        self._set_state(FlowState.IDLE)

    # --- during a customer ------------------------------------------------------------------

    def show_page(self, page: QWidget) -> None:
        """Show a screen page (the card stays in use)."""
        self.stack.setCurrentWidget(page)
        self._set_state(FlowState.CONTENT)
        page.setFocus()

    def run(
        self,
        job: CardJob,
        *,
        stage: str = "signing",
        records: bool = False,
        back: QWidget | None = None,
    ) -> None:
        """Run a further job on the same card; ``records``: it may write a transaction (a
        card pulled during it is then reported as 'nothing recorded'); ``back``: the page
        'again' returns to after a failure (default: the page shown now)."""
        current = self.stack.currentWidget() if self.state is FlowState.CONTENT else None
        self._back = back if back is not None else current
        self._records = records
        self._busy(stage)
        self._job_id = self.worker.submit(job)

    def finish(self, kind: str, title: str, lines: list[str], *, huge: str = "") -> None:
        """Show the result (``kind``: ok, warn or bad; ``huge``: a number in very large type)
        and ask for the card back."""
        self.worker.release()
        set_role(self.result_title, kind)
        self.result_title.setText(title)
        self.result_huge.setText(huge)
        self.result_huge.setVisible(bool(huge))
        self.result_lines.setText("\n".join(lines))
        self._set_result_hint()
        self.stack.setCurrentWidget(self.result_page)
        self._set_state(FlowState.RESULT)
        if kind == "bad":
            self.sounds.failure()
        else:
            self.sounds.success()

    def fail(self, failure: Failure, note: str = "") -> None:
        """Show ``failure`` with what to do."""
        self.fail_title.setText(failure.message_ja)
        self.fail_en.setText(failure.message_en)
        self.fail_note.setText(note)
        self._failure_note = note
        back = self._back is not None and not failure.card_gone and not self._card_pulled
        self.retry_button.setText(
            tr("戻って入力し直す (Enter)") if back else tr("もう一度カードを読む (Enter)")
        )
        self._retry_back = back
        self._update_failure_actions()
        self.stack.setCurrentWidget(self.fail_page)
        self._set_state(FlowState.FAILED)
        self.sounds.failure()
        self.job_error.emit(failure)

    def _update_failure_actions(self) -> None:
        """'Again' when it can do something now; with no card, say that placing one restarts."""
        present = self.reader.card_present
        self.retry_button.setVisible(self._retry_back or present)
        note = self._failure_note
        if not present and not self._retry_back:
            restart = tr("カードを置くと、最初からやり直します。")
            note = f"{note}\n{restart}" if note else restart
        self.fail_note.setText(note)
        self.fail_note.setVisible(bool(note))

    def retry(self) -> None:
        """'Again': back to the page before the failed step, else read the card again."""
        if self.state is not FlowState.FAILED:
            return
        if self._back is not None and self.reader.card_present and not self._card_pulled:
            self.show_page(self._back)
            return
        self.worker.release()
        if self.reader.card_present:
            self._start_first()
        else:
            self._to_place()

    def cancel(self) -> None:
        """Esc: stop this customer; nothing is recorded by a cancel."""
        if self.state is FlowState.PIN:
            self.worker.cancel_pin()
            return
        if self.state is FlowState.BUSY:
            return  # the card is mid-operation: it finishes or fails by itself
        self._job_id = None
        self.worker.release()
        if self.reader.card_present:
            self.stack.setCurrentWidget(self.remove_page)
            self._set_state(FlowState.REMOVE)
        else:
            self._to_place()

    # --- internals --------------------------------------------------------------------------

    def _set_state(self, state: FlowState) -> None:
        self.state = state
        self.state_changed.emit(state.value)

    def _to_place(self) -> None:
        self._job_id = None
        self._back = None
        self._card_pulled = False
        self._update_reader_hint()
        self.stack.setCurrentWidget(self.place_page)
        self._set_state(FlowState.PLACE)
        self.restarted.emit()

    def _update_reader_hint(self) -> None:
        if self.reader.error:
            text = self.reader.error
        elif not self.reader.readers:
            text = tr("カードリーダーが見つかりません。リーダーを接続してください。")
        else:
            text = ""
        self.reader_hint.setText(text)
        if self.state is FlowState.RESULT:
            self._set_result_hint()

    def _set_result_hint(self) -> None:
        present = self.reader.card_present
        self.result_hint.setText(tr("カードをお取りください") if present else "")

    def _busy(self, stage: str) -> None:
        self.busy_label.setText(stage_text(stage))
        self.stack.setCurrentWidget(self.busy_page)
        self._set_state(FlowState.BUSY)

    def _start_first(self) -> None:
        job = None if self._first is None else self._first()
        if job is None:
            return
        self._back = None
        self._records = False
        self._card_pulled = False
        self._busy("reading")
        self._job_id = self.worker.submit(job)

    def _on_stage(self, stage: str) -> None:
        if self._job_id is not None and self.state in (FlowState.BUSY, FlowState.PIN):
            self._busy(stage)

    def _on_pin_requested(self, tries_left: int, wrong: bool) -> None:
        if self._job_id is None:
            return  # another screen's flow (or a job this flow gave up) asked
        self.pin_pad.reset(tries_left, wrong=wrong)
        if wrong:
            self.sounds.failure()
        self.stack.setCurrentWidget(self.pin_pad)
        self._set_state(FlowState.PIN)
        self.pin_pad.setFocus()

    def _pin_entered(self) -> None:
        if self.state is not FlowState.PIN:
            return
        self.worker.provide_pin(self.pin_pad.take_pin())
        self._busy("checking")

    def _on_done(self, job_id: int, result: object) -> None:
        if job_id != self._job_id:
            return
        self._job_id = None
        self._set_state(FlowState.CONTENT)
        self.job_finished.emit(result)

    def _on_failed(self, job_id: int, failure: Failure) -> None:
        if job_id != self._job_id:
            return
        self._job_id = None
        if self._card_pulled and failure.code == "pin-cancelled":
            failure = Failure(
                "card-removed",
                "カードが離れました。カードをリーダーに置いたまま、もう一度お試しください。",
                "The card was removed. Keep the card on the reader and try again.",
            )
        note = ""
        if self._records and failure.code not in ("unexpected",):
            note = tr("この取引は記録されていません。ポイントは動いていません。")
        self.fail(failure, note)

    def _on_card_inserted(self, _reader: str) -> None:
        if self.state in (FlowState.PLACE, FlowState.RESULT, FlowState.FAILED):
            self.worker.release()
            self._start_first()

    def _on_card_removed(self, _reader: str) -> None:
        self._card_pulled = True
        if self.state is FlowState.PIN:
            self.worker.cancel_pin()
        elif self.state is FlowState.CONTENT:
            self._job_id = None
            self.worker.release()
            self._back = None
            self._records = False
            self.fail(
                Failure(
                    "card-removed",
                    "カードが離れました。この取引は記録されていません。"
                    "もう一度カードを置いてください。",
                    "The card was removed. Nothing was recorded. Please place the card again.",
                )
            )
        elif self.state in (FlowState.RESULT, FlowState.REMOVE):
            self._to_place()
        elif self.state is FlowState.FAILED:
            self._retry_back = False
            self._update_failure_actions()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        """Enter confirms, Esc cancels (a screen page's own actions first)."""
        key = event.key()
        current = self.stack.currentWidget()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if isinstance(current, Page) and current.on_enter is not None:
                current.on_enter()
            elif self.state is FlowState.FAILED:
                self.retry()
            return
        if key == Qt.Key.Key_Escape:
            if isinstance(current, Page) and current.on_escape is not None:
                current.on_escape()
            else:
                self.cancel()
            return
        super().keyPressEvent(event)
