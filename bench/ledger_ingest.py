"""Ledger ingest benchmark (not a test): how fast the real server takes terminal transactions.

In one run, on this machine:

1. batched ingest (point uses, each signed by a JPKI-shaped test card whose signature and
   certificate chain the server verifies) through the real HTTP API — a real uvicorn process,
   every request RFC 9421-signed by an enrolled terminal — with batches of 1, 100 and 500, on
   SQLite and on PostgreSQL 15; the same at the service layer (``processing.process_all`` in one
   transaction per batch, no HTTP) to show what HTTP costs;
2. ``pgbench -b simple-update`` on the same PostgreSQL server as the baseline;
3. online authorisation latency (p50/p99) with 50 concurrent signed clients (50 enrolled
   terminals, 50 cards) against a real uvicorn on SQLite.

Aims (2 cores): >= 3,000 tx/s batched on SQLite; PostgreSQL batched ingest >= 1.0x pgbench
simple-update TPS; online authorisation p99 <= 20 ms on SQLite. ``--profile`` adds a cProfile of
the service-layer SQLite run. Run: ``.venv/bin/python bench/ledger_ingest.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import logging
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from cardio.auth import TrustStore  # noqa: E402
from cardio.virtual.ca import TestCA, new_rsa_key  # noqa: E402
from server_stub import operator  # noqa: E402
from server_stub.api.terminal import POSTGRES_CHUNK_SIZE  # noqa: E402
from server_stub.catalog import get_business  # noqa: E402
from server_stub.clock import utc_now  # noqa: E402
from server_stub.db.engine import is_sqlite, make_engine  # noqa: E402
from server_stub.db.migrate import migrate  # noqa: E402
from server_stub.processing import TerminalContext, process_all  # noqa: E402
from sync.protocol import Transaction, b64encode, uuid7  # noqa: E402
from tests.support.postgres import PostgresServer, free_port  # noqa: E402
from tests.support.signing import RequestSigner, card_signed, public_key_b64  # noqa: E402

log = logging.getLogger("bench.ledger_ingest")

KAWASAKI = "141305"
SHOP = "A0001"
BALANCE = 5_000_000  # points granted to every card before the run


@dataclass(frozen=True)
class Card:
    """A test card: RSA key, certificate, and the certificate as on the wire (DER, base64)."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    certificate_b64: str


@dataclass
class Row:
    """One line of the result table."""

    backend: str
    path: str
    batch: int
    transactions: int
    seconds: float

    @property
    def rate(self) -> float:
        """Transactions per second."""
        return self.transactions / self.seconds if self.seconds else 0.0


@dataclass
class Ledger:
    """A migrated, seeded ledger database and what the bench needs to use it."""

    url: str
    program_id: int
    trust_dir: Path
    cards: list[Card]
    enrollment_codes: list[str] = field(default_factory=list)


# --- set-up -----------------------------------------------------------------------------------


def make_cards(ca: TestCA, count: int) -> list[Card]:
    """``count`` cards issued by the test CA (RSA-2048 key generation dominates)."""
    result = []
    for _ in range(count):
        key = new_rsa_key()
        cert = ca.issue_auth_certificate(key.public_key())
        result.append(Card(key, cert, b64encode(cert.public_bytes(serialization.Encoding.DER))))
    return result


def seed(url: str, ca: TestCA, cards: list[Card], terminals: int) -> Ledger:
    """Migrate, create Kawasaki / its point / a street with shop A0001, bind every card to a
    MyKey ID with a large balance, and make ``terminals`` enrollment codes for the shop."""
    migrate(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            operator.create_municipality(conn, KAWASAKI, "川崎市")
            program = operator.create_point_program(conn, KAWASAKI, "川崎市ポイント")
            operator.create_business(conn, "B0001", KAWASAKI, "元住吉商店街", "street")
            operator.create_business(conn, SHOP, KAWASAKI, "ブレーメン青果", "shop",
                                     street_id="B0001")  # fmt: skip
            grant = operator.create_grant_program(conn, program, "ベンチ", "総務局", BALANCE)
            for index, card in enumerate(cards):
                name = f"BENCH{index:04d}"
                operator.create_mykey_id(conn, name, card.certificate)
                operator.grant_points(conn, grant, name)
            codes = [
                operator.create_enrollment_code(conn, SHOP, ["shop"]).code for _ in range(terminals)
            ]
    finally:
        engine.dispose()
    return Ledger(url, program, ca.trust_directory, cards, codes)


def point_uses(ledger: Ledger, terminal_id: str, count: int, first_card: int = 0) -> list[bytes]:
    """``count`` card-signed 1-point uses at the shop, as JSON-ready dicts serialised once."""
    items = []
    for i in range(count):
        card = ledger.cards[(first_card + i) % len(ledger.cards)]
        tx = Transaction.model_validate(
            {
                "id": str(uuid7()),
                "terminal_id": terminal_id,
                "business_id": SHOP,
                "terminal_time": datetime.now(UTC).isoformat(),
                "payload": {"kind": "point_use", "program_id": ledger.program_id, "points": 1},
                "card": {"certificate": card.certificate_b64},
            }
        )
        items.append(card_signed(tx, card.key).model_dump_json().encode("utf-8"))
    return items


def batch_body(items: Sequence[bytes]) -> bytes:
    """A push request body from already-serialised transactions."""
    return b'{"transactions":[' + b",".join(items) + b"]}"


# --- the real server --------------------------------------------------------------------------


@contextlib.contextmanager
def uvicorn_server(ledger: Ledger, folder: Path) -> Iterator[str]:
    """``mykey ledger serve`` in its own process on a free port; yields the base URL."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        MYKEY_LEDGER_TRUST_DIR=str(ledger.trust_dir),
        MYKEY_LEDGER_SIGNING_KEY_PATH=str(folder / "server-signing-key.pem"),
    )
    command = [sys.executable, "-m", "mykey.cli", "ledger", "serve", "--db", ledger.url,
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    process_ = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/v1/health", timeout=1).status_code == 200:
                    break
            if process_.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the ledger server did not start")
            time.sleep(0.1)
        yield base
    finally:
        process_.terminate()
        try:
            process_.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process_.kill()
            process_.wait()


def enroll(base: str, code: str) -> RequestSigner:
    """Enroll a new terminal with ``code``; its request signer."""
    key = Ed25519PrivateKey.generate()
    response = httpx.post(
        base + "/v1/enroll", json={"code": code, "public_key": public_key_b64(key)}, timeout=10
    )
    response.raise_for_status()
    return RequestSigner(response.json()["terminal_id"], key)


def _check(results: list[dict[str, Any]], expected: int) -> None:
    bad = [r for r in results if r["status"] != "applied"]
    if len(results) != expected or bad:
        raise RuntimeError(f"{len(bad)} of {len(results)} not applied, first: {bad[:1]}")


def http_ingest(base: str, signer: RequestSigner, items: list[bytes], batch: int) -> float:
    """Push ``items`` in batches through the signed HTTP API; seconds taken."""
    bodies = [batch_body(items[i : i + batch]) for i in range(0, len(items), batch)]
    with httpx.Client(base_url=base, timeout=120) as client:
        start = time.perf_counter()
        for body in bodies:
            request = client.build_request(
                "POST", "/v1/transactions/push", content=body,
                headers={"Content-Type": "application/json"},
            )  # fmt: skip
            response = client.send(signer.sign(request))
            response.raise_for_status()
            _check(response.json()["results"], body.count(b'"point_use"'))
        return time.perf_counter() - start


def service_ingest(ledger: Ledger, terminal_id: str, items: list[bytes], batch: int) -> float:
    """The same work without HTTP, committed as the API commits it (one transaction per batch
    on SQLite, per ``POSTGRES_CHUNK_SIZE`` items on PostgreSQL)."""
    engine = make_engine(ledger.url)
    trust = TrustStore.from_directory(ledger.trust_dir)
    chunk = batch if is_sqlite(engine) else min(batch, POSTGRES_CHUNK_SIZE)
    try:
        start = time.perf_counter()
        for i in range(0, len(items), chunk):
            txs = [Transaction.model_validate_json(raw) for raw in items[i : i + chunk]]
            with engine.begin() as conn:
                ctx = TerminalContext(terminal_id, get_business(conn, SHOP), trust, utc_now())
                results = process_all(conn, ctx, txs)
            _check([r.model_dump(mode="json") for r in results], len(txs))
        return time.perf_counter() - start
    finally:
        engine.dispose()


# --- online authorisation ---------------------------------------------------------------------


async def _auth_client(
    client: httpx.AsyncClient,
    signer: RequestSigner,
    bodies: list[bytes],
    latencies: list[float],
    first_due: float,
    interval: float,
) -> None:
    """One terminal: authorise ``bodies`` one by one, every ``interval`` seconds from
    ``first_due`` (a ``perf_counter`` time); with ``interval`` 0, back to back."""
    due = first_due
    for body in bodies:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        due += interval
        request = client.build_request(
            "POST", "/v1/transactions/authorize", content=body,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        signer.sign(request)
        start = time.perf_counter()
        response = await client.send(request)
        latencies.append(time.perf_counter() - start)
        if response.status_code != 200 or response.json()["status"] != "applied":
            raise RuntimeError(f"authorisation failed: {response.text[:300]}")


def online_latency(
    base: str, signers: list[RequestSigner], work: list[list[bytes]], interval: float
) -> tuple[list[float], float]:
    """All clients at once, each authorising its transactions one after another: every
    ``interval`` seconds with the clients' phases spread evenly over one interval, or back to
    back when ``interval`` is 0. The HTTP clients are made (and connected) before the clock
    starts, so their set-up cost does not bunch the schedule. Returns latencies and wall time."""
    latencies: list[float] = []
    step = interval / max(1, len(signers))

    async def run() -> float:
        clients = [httpx.AsyncClient(base_url=base, timeout=60) for _ in signers]
        try:
            await asyncio.gather(*(c.get("/v1/health") for c in clients))
            t0 = time.perf_counter() + 0.2
            await asyncio.gather(
                *(
                    _auth_client(c, s, w, latencies, t0 + i * step, interval)
                    for i, (c, s, w) in enumerate(zip(clients, signers, work, strict=True))
                )
            )
            return time.perf_counter() - t0
        finally:
            await asyncio.gather(*(c.aclose() for c in clients))

    wall = asyncio.run(run())
    return latencies, wall


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


# --- pgbench ----------------------------------------------------------------------------------


def pgbench_tps(server: PostgresServer, clients: int, seconds: int) -> float:
    """``pgbench -b simple-update`` TPS on a scale-1 database of the same server."""
    server.create_database("pgbench")
    server.pgbench("-i", "-s", "1", "-q", "pgbench")
    output = server.pgbench("-b", "simple-update", "-c", str(clients), "-j", str(clients),
                            "-T", str(seconds), "-n", "pgbench")  # fmt: skip
    match = re.search(r"tps = ([0-9.]+)", output)
    if not match:
        raise RuntimeError(f"no tps in pgbench output: {output}")
    return float(match.group(1))


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Sizes:
    """How much work each measurement does."""

    http: dict[int, int]
    service: dict[int, int]
    clients: int
    auth_per_client: int
    auth_paced_per_client: int
    pgbench_seconds: int


def ingest_runs(backend: str, ledger: Ledger, folder: Path, sizes: Sizes, rows: list[Row]) -> str:
    """HTTP and service-layer ingest on one backend; returns the enrolled terminal's ID."""
    with uvicorn_server(ledger, folder) as base:
        signer = enroll(base, ledger.enrollment_codes[0])
        for batch, count in sizes.http.items():
            items = point_uses(ledger, signer.terminal_id, count)
            rows.append(Row(backend, "HTTP", batch, count, http_ingest(base, signer, items, batch)))
            log.info("%s HTTP batch %d: %.0f tx/s", backend, batch, rows[-1].rate)
    for batch, count in sizes.service.items():
        items = point_uses(ledger, signer.terminal_id, count)
        seconds = service_ingest(ledger, signer.terminal_id, items, batch)
        rows.append(Row(backend, "service", batch, count, seconds))
        log.info("%s service batch %d: %.0f tx/s", backend, batch, rows[-1].rate)
    return signer.terminal_id


def profile_service(ledger: Ledger, terminal_id: str, count: int) -> str:
    """cProfile of a service-layer batch-500 ingest: where the time goes."""
    items = point_uses(ledger, terminal_id, count)
    profiler = cProfile.Profile()
    profiler.enable()
    service_ingest(ledger, terminal_id, items, 500)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    """Run everything and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="less work (a smoke run)")
    parser.add_argument("--profile", action="store_true", help="cProfile the SQLite service run")
    parser.add_argument("--clients", type=int, default=50, help="concurrent online clients")
    parser.add_argument("--auth-only", action="store_true", help="only the latency measurement")
    parser.add_argument(
        "--interval",
        type=float,
        default=2.0,
        help="paced mode: seconds between one client's authorisations (default 2)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("server_stub").setLevel(logging.WARNING)
    if args.quick:
        sizes = Sizes({1: 50, 100: 300, 500: 1000}, {100: 300, 500: 1000}, args.clients, 4, 3, 3)
    else:
        sizes = Sizes(
            {1: 300, 100: 2000, 500: 3000}, {100: 2000, 500: 3000}, args.clients, 20, 10, 10
        )

    rows: list[Row] = []
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="mykey-bench-") as tmp:
        folder = Path(tmp)
        ca = TestCA.init(folder / "ca")
        log.info("making %d test cards", args.clients)
        cards = make_cards(ca, args.clients)

        if not args.auth_only:
            sqlite = seed(f"sqlite:///{folder / 'ingest.db'}", ca, cards, 1)
            terminal_id = ingest_runs("SQLite", sqlite, folder, sizes, rows)
            if args.profile:
                figures["profile"] = profile_service(sqlite, terminal_id, 2000)

            with PostgresServer() as server:
                pg = seed(server.create_database("ingest"), ca, cards, 1)
                ingest_runs("PostgreSQL", pg, folder, sizes, rows)
                log.info("pgbench simple-update, %d s", sizes.pgbench_seconds)
                figures["pgbench_c1"] = pgbench_tps(server, 1, sizes.pgbench_seconds)

        auth = seed(f"sqlite:///{folder / 'auth.db'}", ca, cards, args.clients)
        with uvicorn_server(auth, folder) as base:
            signers = [enroll(base, code) for code in auth.enrollment_codes]
            for mode, interval, count in (
                ("paced", args.interval, sizes.auth_paced_per_client),
                ("saturating", 0.0, sizes.auth_per_client),
            ):
                work = [
                    point_uses(auth, s.terminal_id, count, first_card=i)
                    for i, s in enumerate(signers)
                ]
                log.info("online authorisation, %s, %d clients", mode, len(signers))
                latencies, wall = online_latency(base, signers, work, interval)
                figures[f"auth_{mode}"] = {
                    "clients": len(signers),
                    "interval_s": interval,
                    "requests": len(latencies),
                    "p50_ms": percentile(latencies, 0.50) * 1000,
                    "p99_ms": percentile(latencies, 0.99) * 1000,
                    "mean_ms": statistics.fmean(latencies) * 1000,
                    "throughput": len(latencies) / wall,
                }
    report(rows, figures)
    if args.json:
        args.json.write_text(
            json.dumps({"rows": [r.__dict__ | {"rate": r.rate} for r in rows], **figures}, indent=2)
        )
    return 0


def report(rows: list[Row], figures: dict[str, Any]) -> None:
    """Print the table, the baselines and the ratios against the aims."""
    lines = ["", f"{'backend':<11} {'path':<8} {'batch':>5} {'tx':>6} {'s':>7} {'tx/s':>8}"]
    for row in rows:
        lines.append(f"{row.backend:<11} {row.path:<8} {row.batch:>5} {row.transactions:>6} "
                     f"{row.seconds:>7.2f} {row.rate:>8.0f}")  # fmt: skip
    for mode in ("paced", "saturating"):
        auth = figures[f"auth_{mode}"]
        pace = (
            f"each client every {auth['interval_s']:g} s"
            if auth["interval_s"]
            else "back to back (closed loop)"
        )
        lines.append(
            f"online authorisation, SQLite, {auth['clients']} concurrent signed clients, {pace}, "
            f"{auth['requests']} requests: p50 {auth['p50_ms']:.1f} ms, "
            f"p99 {auth['p99_ms']:.1f} ms, mean {auth['mean_ms']:.1f} ms, "
            f"{auth['throughput']:.0f} req/s"
        )

    lines.append("\naims:")
    if rows:
        pgbench = figures["pgbench_c1"]
        lines.insert(-1, f"pgbench -b simple-update (1 client, same server): {pgbench:,.0f} tps")
        lines.extend(_ingest_aims(rows, pgbench))
    for mode in ("paced", "saturating"):
        p99 = figures[f"auth_{mode}"]["p99_ms"]
        lines.append(f"  online authorisation p99 ({mode}) {p99:.1f} ms = {p99 / 20:.2f}x the"
                     " 20 ms aim (aim <= 1.0x)")  # fmt: skip
    if "profile" in figures:
        lines.append("\nwhere the time goes (SQLite, service layer, batch 500, by own time):")
        lines.append(figures["profile"])
    sys.stdout.write("\n".join(lines) + "\n")


def _ingest_aims(rows: list[Row], pgbench: float) -> list[str]:
    def best(backend: str, path: str = "HTTP") -> float:
        return max(r.rate for r in rows if r.backend == backend and r.path == path)

    sqlite, pg = best("SQLite"), best("PostgreSQL")
    return [
        f"  SQLite batched (HTTP, best batch) {sqlite:,.0f} tx/s = {sqlite / 3000:.2f}x the"
        " 3,000 tx/s aim",
        f"  PostgreSQL batched (HTTP, best batch) {pg:,.0f} tx/s = {pg / pgbench:.2f}x pgbench"
        " simple-update (aim >= 1.0x)",
    ]


if __name__ == "__main__":
    sys.exit(main())
