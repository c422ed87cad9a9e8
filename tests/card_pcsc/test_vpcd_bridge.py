"""The vpcd bridge and `mykey card virtual serve`, as pcscd sees them."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest

from cardio.virtual.card import CONTACT_ATR, CONTACTLESS_ATR, VirtualJpkiCard
from cardio.virtual.profile import CardProfile
from tests.card_pcsc.support import (
    PIN,
    READER,
    ROOT,
    Reader,
    make_card,
    reader_state,
    run_mykey,
    wait_for_card,
)

pytestmark = pytest.mark.pcsc


def test_pcscd_sees_the_inserted_card_with_its_atr_and_sees_it_go(
    reader: Reader, shared_profile: CardProfile
) -> None:
    reader.insert(make_card(shared_profile))
    assert reader_state(READER) == (True, CONTACT_ATR)

    reader.remove()
    assert reader_state(READER)[0] is False


def test_swapping_cards_shows_the_new_card(reader: Reader, shared_profile: CardProfile) -> None:
    reader.insert(make_card(shared_profile))

    reader.bridge.insert(VirtualJpkiCard(shared_profile, atr=CONTACTLESS_ATR))

    # pcscd must notice the old card leave, or it would keep reporting the old ATR
    wait_for_card(READER, present=True, atr=CONTACTLESS_ATR)


def _read_line(stream: IO[str]) -> str:
    return stream.readline().strip()


def test_serve_places_removes_and_reinserts_the_card_then_stops_on_sigterm(
    reader: Reader, shared_profile: CardProfile
) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "mykey.cli", "card", "virtual", "serve",
         "--profile", str(shared_profile.directory), "--atr", "contactless"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=ROOT,
    )  # fmt: skip
    assert server.stdin is not None and server.stdout is not None
    try:
        assert _read_line(server.stdout).startswith("serving ")
        wait_for_card(READER, present=True, atr=CONTACTLESS_ATR)

        server.stdin.write("remove\n")
        server.stdin.flush()
        assert _read_line(server.stdout) == "removed"
        wait_for_card(READER, present=False)

        server.stdin.write("insert\n")
        server.stdin.flush()
        assert _read_line(server.stdout) == "inserted"
        wait_for_card(READER, present=True)

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=10) == 0
        assert _read_line(server.stdout) == "stopped"
        wait_for_card(READER, present=False)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stdin.close()
        server.stdout.close()
        if server.stderr is not None:
            server.stderr.close()


def test_serve_logs_apdu_headers_at_debug_but_never_the_pin(
    reader: Reader, shared_profile: CardProfile, trust_dir: Path
) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "mykey.cli", "-vv", "card", "virtual", "serve",
         "--profile", str(shared_profile.directory)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=ROOT,
    )  # fmt: skip
    assert server.stdout is not None
    try:
        assert _read_line(server.stdout).startswith("serving ")
        wait_for_card(READER, present=True)
        auth = run_mykey("card", "auth", "--trust", str(trust_dir), "--pin-stdin", stdin=PIN + "\n")
        assert auth.returncode == 0, auth.stdout + auth.stderr
        server.send_signal(signal.SIGINT)
        _out, err = server.communicate(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0
    assert "-> 00 20 00 80" in err  # the VERIFY went through the bridge and was logged...
    assert PIN not in err  # ...without its data
    assert PIN.encode().hex() not in err.replace(" ", "").lower()
    wait_for_card(READER, present=False)


def test_serve_refuses_a_missing_profile_in_both_languages(tmp_path: Path) -> None:
    done = run_mykey("card", "virtual", "serve", "--profile", str(tmp_path / "nothing"))

    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) >= 2
    assert any(ord(ch) > 0x3000 for ch in lines[0])  # Japanese first
    assert "profile" in lines[1]


def test_serve_rejects_a_malformed_vpcd_address(shared_profile: CardProfile) -> None:
    done = run_mykey(
        "card", "virtual", "serve", "--profile", str(shared_profile.directory), "--vpcd", "35963"
    )

    assert done.returncode == 2
    assert "HOST:PORT" in done.stderr
