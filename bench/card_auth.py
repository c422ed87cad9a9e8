"""Benchmark: JPKI user authentication, ours against OpenSC, through pcscd + vpcd + the emulator.

Run:  .venv/bin/python bench/card_auth.py [--repeat N] [--latency contact]

One run, one emulator (``contact`` latency profile: ≈9,600 bit/s and RSA sign ≈ 400 ms), one
real PC/SC stack. For each scenario a fresh virtual card of the same profile is placed in
'Virtual PCD 00 00'; its counters give the APDU count and the bytes of command and response
APDUs; wall time runs from opening the connection to closing it (OpenSC: the whole process).

  a  ours, first-time card: select, label, whole certificate, tries, PIN, sign, checks
  b  ours, repeat card: the certificate cache matches the first chunk (fast path)
  a' ours through `mykey card auth` in a subprocess (process start-up included, like OpenSC)
  c  OpenSC pkcs11-tool: login + sign with the auth key (it reads the certificates itself)
  d  the same with OPENSC_DRIVER=jpki (no probing by the other drivers)

Aims: a ≤ d in APDUs and time; b ≤ 60 % of a's time. Medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cardio.auth import TrustStore, authenticate
from cardio.jpki import CertificateCache, JpkiSession
from cardio.secrets import Pin
from cardio.transport import PcscConnection, reader_states
from cardio.virtual.ca import TestCA
from cardio.virtual.card import VirtualJpkiCard
from cardio.virtual.latency import PROFILES
from cardio.virtual.profile import CardProfile
from cardio.virtual.vpcd import VpcdBridge

ROOT = Path(__file__).resolve().parent.parent
READER = "Virtual PCD 00 00"
PKCS11_MODULE = "/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so"
PIN = "4821"

log = logging.getLogger("bench.card_auth")


@dataclass
class Sample:
    """One measured run: APDUs, bytes sent to / received from the card, wall seconds."""

    apdus: int
    bytes_in: int
    bytes_out: int
    seconds: float


@dataclass
class Row:
    """A scenario's medians."""

    key: str
    name: str
    apdus: float
    bytes_in: float
    bytes_out: float
    seconds: float


def card_present() -> bool:
    """Whether pcscd reports a card in the vpcd reader."""
    return reader_states().get(READER) is not None


def wait_for(present: bool) -> None:
    """Wait until pcscd sees the reader full (or empty)."""
    deadline = time.monotonic() + 10
    while card_present() != present:
        if time.monotonic() > deadline:
            raise SystemExit(f"{READER}: card never became {'present' if present else 'absent'}")
        time.sleep(0.02)


class Bench:
    """The emulator in the vpcd reader, fresh for every measured run."""

    def __init__(self, profile: CardProfile, trust: TrustStore, latency: str) -> None:
        self.profile = profile
        self.trust = trust
        self.latency = latency
        self.bridge = VpcdBridge()
        self.bridge.start()

    def fresh_card(self) -> VirtualJpkiCard:
        """Place a new card of the profile (zeroed counters) and wait until pcscd sees it."""
        self.bridge.remove()
        wait_for(False)
        card = VirtualJpkiCard(self.profile, latency=self.latency)
        self.bridge.insert(card)
        wait_for(True)
        time.sleep(0.2)  # let pcscd finish its own power-up of the new card
        card.reset_statistics()
        return card

    def measure(self, work: Callable[[], None]) -> Sample:
        """Run ``work`` against a fresh card; its counters and the wall time."""
        card = self.fresh_card()
        start = time.perf_counter()
        work()
        seconds = time.perf_counter() - start
        return Sample(card.apdu_count, card.bytes_in, card.bytes_out, seconds)

    def ours(self, cache: CertificateCache) -> None:
        """Authenticate in-process with ``cache`` as the certificate cache."""
        challenge = os.urandom(32)
        connection = PcscConnection.open(READER)  # by name: other vpcd users cannot interfere
        try:
            session = JpkiSession(connection, certificate_cache=cache)
            authenticate(session, Pin(PIN), challenge, trust=self.trust)  # checks the signature
        finally:
            connection.close()

    def ours_cli(self, trust_dir: Path) -> None:
        """Authenticate through `mykey card auth --pin-stdin` (a fresh process, empty cache)."""
        done = subprocess.run(
            [sys.executable, "-m", "mykey.cli", "card", "auth", "--trust", str(trust_dir),
             "--pin-stdin"],
            input=PIN + "\n", capture_output=True, text=True, check=False, cwd=ROOT,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"mykey card auth failed:\n{done.stdout}{done.stderr}")

    def opensc(self, workdir: Path, driver: str | None) -> None:
        """pkcs11-tool: log in with the PIN and sign with the auth key (ID 01); verify it."""
        message = workdir / "message"
        message.write_bytes(os.urandom(32))
        signature = workdir / "signature"
        env = {k: v for k, v in os.environ.items() if k != "OPENSC_DRIVER"}
        if driver:
            env["OPENSC_DRIVER"] = driver
        done = subprocess.run(
            ["pkcs11-tool", "--module", PKCS11_MODULE, "--slot-index", "0", "--login",
             "--pin", PIN, "--sign", "--mechanism", "SHA256-RSA-PKCS", "--id", "01",
             "--input-file", str(message), "--output-file", str(signature)],
            capture_output=True, text=True, check=False, env=env,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"pkcs11-tool failed:\n{done.stdout}{done.stderr}")
        public_key = self.profile.auth_certificate.public_key()
        assert isinstance(public_key, rsa.RSAPublicKey)
        public_key.verify(
            signature.read_bytes(), message.read_bytes(), padding.PKCS1v15(), hashes.SHA256()
        )

    def close(self) -> None:
        """Take the card out and stop the bridge."""
        self.bridge.stop()


def median_row(key: str, name: str, samples: list[Sample]) -> Row:
    """The medians of ``samples``."""
    return Row(
        key,
        name,
        statistics.median(s.apdus for s in samples),
        statistics.median(s.bytes_in for s in samples),
        statistics.median(s.bytes_out for s in samples),
        statistics.median(s.seconds for s in samples),
    )


def table(rows: list[Row]) -> str:
    """The results as a plain-text table."""
    lines = [f"{'':3}{'scenario':46}{'APDUs':>7}{'bytes→card':>12}{'bytes←card':>12}{'wall s':>9}"]
    for r in rows:
        lines.append(
            f"{r.key:3}{r.name:46}{r.apdus:7.0f}{r.bytes_in:12.0f}{r.bytes_out:12.0f}"
            f"{r.seconds:9.3f}"
        )
    return "\n".join(lines)


def ratios(rows: dict[str, Row]) -> str:
    """The ratios the aims are stated in."""
    a, b, d = rows["a"], rows["b"], rows["d"]
    out = [
        f"a / d (ours first-time vs OpenSC forced driver): APDUs {a.apdus / d.apdus:.2f}, "
        f"time {a.seconds / d.seconds:.2f}   aim ≤ 1.00",
        f"b / a (repeat card vs first-time): time {b.seconds / a.seconds:.2f}, "
        f"APDUs {b.apdus / a.apdus:.2f}   aim time ≤ 0.60",
    ]
    if "c" in rows:
        c = rows["c"]
        out.append(
            f"a / c (ours vs OpenSC with probing): APDUs {a.apdus / c.apdus:.2f}, "
            f"time {a.seconds / c.seconds:.2f}"
        )
    if "a'" in rows:
        cli = rows["a'"]
        out.append(
            f"a' / d (our CLI process vs pkcs11-tool process, forced driver): "
            f"time {cli.seconds / d.seconds:.2f}"
        )
    return "\n".join(out)


def main() -> int:
    """Set up a CA and a card, measure every scenario ``--repeat`` times, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", default="contact", choices=tuple(PROFILES))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    subprocess.run([str(ROOT / "scripts" / "pcscd.sh"), "start"], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="card-auth-bench-") as tmp:
        work = Path(tmp)
        ca = TestCA.init(work / "ca")
        profile = ca.issue_card(work / "card", PIN)
        trust_dir = ca.trust_directory
        trust = TrustStore.from_directory(trust_dir)
        bench = Bench(profile, trust, args.latency)
        try:
            warm = CertificateCache()
            bench.measure(lambda: bench.ours(warm))  # warm-up; fills the repeat-card cache
            scenarios: list[tuple[str, str, Callable[[], None]]] = [
                ("a", "ours, first-time card", lambda: bench.ours(CertificateCache())),
                ("b", "ours, repeat card (certificate cache)", lambda: bench.ours(warm)),
                ("a'", "ours, `mykey card auth` process", lambda: bench.ours_cli(trust_dir)),
                ("c", "OpenSC pkcs11-tool login+sign (probing)", lambda: bench.opensc(work, None)),
                ("d", "OpenSC pkcs11-tool, OPENSC_DRIVER=jpki", lambda: bench.opensc(work, "jpki")),
            ]  # fmt: skip
            samples: dict[str, list[Sample]] = {key: [] for key, _, _ in scenarios}
            for _ in range(args.repeat):  # interleaved, so drifts hit every scenario alike
                for key, _name, run in scenarios:
                    samples[key].append(bench.measure(run))
        finally:
            bench.close()
    rows = [median_row(key, name, samples[key]) for key, name, _ in scenarios]
    sys.stdout.write(
        f"JPKI authentication through pcscd + vpcd, emulator latency '{args.latency}', "
        f"median of {args.repeat}\n\n{table(rows)}\n\n{ratios({r.key: r for r in rows})}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
