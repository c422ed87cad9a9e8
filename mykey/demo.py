"""`mykey demo`: the terminal window on the demo world, with a demo card tray.

The demo world (:mod:`mykey.demo_world`: a local ledger on SQLite, Kawasaki's programs, the
Motosumi-Bremen street, a library, the health department, three residents' cards, one enrolled
terminal per role) is prepared in the demo folder (``--dir``; default the user data dir's
``mykey/demo``) and its ledger started on loopback. One window shows the terminal chosen in its
demo tray (or with ``--terminal``) next to the tray: place and take off the three cards (PIN
1234), stop and start the ledger to show offline work.

The cards go through pcscd + vsmartcard-vpcd when a vpcd reader is free ("Virtual PCD 00 00",
else "Virtual PCD 00 01"), otherwise in-process; the tray says which. ``--headless --out DIR``
drives the same window offscreen through the whole story (:mod:`mykey.demo_story`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from platformdirs import user_data_dir

from cardio.errors import CardError, NoCardError
from cardio.jpki import JpkiSession
from cardio.transport import InProcessConnection, reader_states
from cardio.virtual.card import VirtualJpkiCard
from cardio.virtual.profile import CardProfile
from cardio.virtual.vpcd import VpcdBridge
from mykey.app_context import Terminal, load_terminal, pcsc_session
from mykey.demo_world import TERMINALS, DemoLedger, DemoWorld

log = logging.getLogger(__name__)

#: vpcd's two readers: (TCP port, PC/SC reader name)
VPCD_READERS = ((35963, "Virtual PCD 00 00"), (35964, "Virtual PCD 00 01"))
IN_PROCESS_READER = "Demo Card Tray"
#: the demo window: the terminal (1280 × 800, as on a counter PC) and the tray beside it
WINDOW_SIZE = (1600, 800)


def default_dir() -> Path:
    """The demo folder when ``--dir`` is not given."""
    return Path(user_data_dir("mykey")) / "demo"


class CardBackend(Protocol):
    """How the demo tray's cards reach the window."""

    #: the reader the window uses (its preference)
    reader_name: str
    #: shown in the tray: through which path the cards go
    description: str

    def attach(self, reader: Any) -> None:
        """Feed ``reader`` (a ``ui.reader.ReaderState``) with this tray's card events."""
        ...

    def detach(self) -> None:
        """Stop feeding the reader state given to :meth:`attach`."""
        ...

    def place(self, profile: CardProfile) -> None:
        """Put the card on the reader (a card there is taken off first)."""
        ...

    def remove(self) -> None:
        """Take the card off."""
        ...

    def open_session(self, reader: str | None) -> Any:
        """The window's session factory: a context manager yielding a ``JpkiSession``."""
        ...

    def close(self) -> None:
        """Release everything."""
        ...


class InProcessCards:
    """The virtual card on a pretend reader inside this process (no pcscd needed)."""

    reader_name = IN_PROCESS_READER

    def __init__(self, latency: str = "instant", why: str = "") -> None:
        self.latency = latency
        self.card: VirtualJpkiCard | None = None
        self._reader: Any = None
        self.description = "プロセス内の仮想リーダー（pcscd なし）" + (f"\n{why}" if why else "")

    def attach(self, reader: Any) -> None:
        """Announce the pretend reader (and a card already on it) to ``reader``."""
        self._reader = reader
        reader.reader_added(IN_PROCESS_READER)
        if self.card is not None:
            reader.card_in(IN_PROCESS_READER)

    def detach(self) -> None:
        """Forget the reader state."""
        self._reader = None

    def place(self, profile: CardProfile) -> None:
        """Put a new virtual card of ``profile`` on the pretend reader."""
        if self.card is not None:
            self.remove()
        self.card = VirtualJpkiCard(profile, latency=self.latency)
        if self._reader is not None:
            self._reader.card_in(IN_PROCESS_READER)

    def remove(self) -> None:
        """Take the card off (an open session fails as with a pulled card)."""
        card, self.card = self.card, None
        if card is not None:
            card.power_off()
        if self._reader is not None:
            self._reader.card_out(IN_PROCESS_READER)

    @contextmanager
    def open_session(self, _reader: str | None) -> Iterator[JpkiSession]:
        """A JPKI session on the card lying on the pretend reader."""
        card = self.card
        if card is None:
            raise NoCardError("no demo card on the tray")
        connection = InProcessConnection(card)
        try:
            yield JpkiSession(connection)
        finally:
            connection.close()

    def close(self) -> None:
        """Take the card off."""
        self.card = None


class PcscCards:
    """The virtual card in a real PC/SC reader: VpcdBridge -> vsmartcard-vpcd -> pcscd."""

    def __init__(self, port: int, reader_name: str, latency: str = "instant") -> None:
        self.reader_name = reader_name
        self.description = f"pcscd + vpcd（{reader_name}）"
        self.latency = latency
        self.bridge = VpcdBridge(port=port)
        self.bridge.start()
        self._watcher: Any = None

    def attach(self, reader: Any) -> None:
        """Watch the real readers through the PC/SC card monitor."""
        from ui.reader import PcscWatcher

        self._watcher = PcscWatcher(reader)
        self._watcher.start()

    def detach(self) -> None:
        """Stop the card monitor."""
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def place(self, profile: CardProfile) -> None:
        """Insert the card into the vpcd reader (pcscd sees it at its next poll)."""
        self.bridge.insert(VirtualJpkiCard(profile, latency=self.latency))

    def remove(self) -> None:
        """Take the card out of the vpcd reader."""
        self.bridge.remove()

    def open_session(self, reader: str | None) -> Any:
        """A session through pyscard on ``reader``."""
        return pcsc_session(reader)

    def close(self) -> None:
        """Stop watching and end the bridge."""
        self.detach()
        self.bridge.stop()


def free_vpcd_reader() -> tuple[int, str] | None:
    """The first vpcd reader pcscd lists with no card in it, or None (no pcscd, no vpcd)."""
    try:
        states = reader_states()
    except (CardError, ImportError, OSError) as error:
        log.info("no PC/SC for the demo cards: %s", error)
        return None
    for port, name in VPCD_READERS:
        if name in states and states[name] is None:
            return port, name
    return None


def choose_cards(pcsc: bool | None, latency: str) -> CardBackend:
    """pcscd + vpcd when asked (``True``) or available (``None``), else in-process."""
    if pcsc is not False:
        found = free_vpcd_reader()
        if found is not None:
            return PcscCards(found[0], found[1], latency)
        if pcsc:
            raise SystemExit(
                "vpcd の空きリーダーがありません（pcscd は動いていますか）。\n"
                "No free vpcd reader (is pcscd running? scripts/pcscd.sh start)."
            )
        return InProcessCards(latency, "vpcd のリーダーが見つかりません / no vpcd reader")
    return InProcessCards(latency)


class DemoSession:
    """The demo window's parts that are not Qt: the world, the ledger, the card backend and
    the terminal shown now (opened from its data folder as ``mykey`` opens one)."""

    def __init__(self, world: DemoWorld, ledger: DemoLedger, cards: CardBackend) -> None:
        self.world = world
        self.ledger = ledger
        self.cards = cards
        self.terminal: Terminal | None = None
        self.card_name: str | None = None

    def open_terminal(self, name: str) -> Terminal:
        """Close the terminal shown now and open ``name``."""
        self.close_terminal()
        self.terminal = load_terminal(self.world.terminals[name].root)
        return self.terminal

    def close_terminal(self) -> None:
        """Close the terminal shown now."""
        if self.terminal is not None:
            self.terminal.close()
            self.terminal = None

    def place(self, name: str) -> None:
        """Place demo card ``name``."""
        self.cards.place(self.world.cards[name])
        self.card_name = name

    def remove(self) -> None:
        """Take the card off."""
        self.cards.remove()
        self.card_name = None

    def toggle_ledger(self) -> bool:
        """Stop the ledger when it runs, start it when stopped; returns whether it runs."""
        if self.ledger.running:
            self.ledger.stop()
        else:
            self.ledger.start()
        return self.ledger.running

    def close(self) -> None:
        """Close the terminal and the card backend."""
        self.close_terminal()
        self.cards.close()


def run_window(base: Path, terminal: str, pcsc: bool | None, latency: str) -> int:
    """The interactive demo: prepare, start the ledger, open the window; returns the exit code."""
    from mykey.demo_window import DemoWindow
    from mykey.demo_world import running_world
    from ui.app import make_app
    from ui.prefs import Prefs

    sys.stdout.write(f"デモ用フォルダ / demo folder: {base}\n")
    sys.stdout.flush()
    with running_world(base) as (world, ledger):
        session = DemoSession(world, ledger, choose_cards(pcsc, latency))
        app = make_app(Prefs())
        window = DemoWindow(session, terminal, background_sync=True)
        window.resize(*WINDOW_SIZE)
        window.show()
        try:
            code: int = app.exec()
        finally:
            window.shutdown()
            session.close()
    return code


def has_display() -> bool:
    """Whether a window can be shown here (Windows and macOS always; Linux with X11/Wayland)."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _run(args: argparse.Namespace) -> int:
    base = Path(args.dir) if args.dir else default_dir()
    pcsc: bool | None = True if args.pcsc else None
    if not args.headless and not has_display():
        args.headless, args.out = True, args.out or str(base / "headless")
        sys.stdout.write(
            "画面がないため、デモを画面なしで最後まで実行します（スクリーンショットは "
            f"{args.out}）。\n"
            "No display here: running the whole demo story headless "
            f"(screenshots in {args.out}).\n"
        )
        sys.stdout.flush()
    if args.headless:
        if not args.out:
            sys.stderr.write("--headless には --out DIR が必要です / --headless needs --out DIR\n")
            return 2
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from mykey.demo_story import run_headless

        return run_headless(
            base if args.dir else Path(args.out) / "world",
            Path(args.out),
            pcsc=bool(args.pcsc),
            latency=args.latency,
        )
    return run_window(base, args.terminal, pcsc, args.latency)


def register(parser: argparse.ArgumentParser) -> None:
    """Options of ``mykey demo``."""
    parser.add_argument("--dir", help="demo folder (default: the user data dir's mykey/demo)")
    parser.add_argument(
        "--terminal",
        choices=list(TERMINALS),
        default="shop",
        help="the terminal the window opens as (the tray switches it too)",
    )
    parser.add_argument(
        "--pcsc",
        action="store_true",
        help="cards only through pcscd + vpcd (default: when available, else in-process; "
        "the headless demo: in-process unless this is given)",
    )
    parser.add_argument(
        "--latency", choices=["instant", "contact", "contactless"], default="instant"
    )
    parser.add_argument(
        "--headless",
        action="store_true",
        help="drive the window offscreen through the whole story; needs --out",
    )
    parser.add_argument("--out", help="headless: screenshots, voucher PDF and summary.json here")
    parser.set_defaults(func=_run)
