"""Load benchmark (not a test): many simulated terminals against the real ledger server.

200 terminals in 20 shops of one street, 100 residents' cards (each terminal enrolled through
``POST /v1/enroll``, each request RFC 9421-signed with its own Ed25519 key) run for 60 s against
``mykey ledger serve`` (a real uvicorn process), on SQLite and on PostgreSQL 15. Each terminal
is a busy counter: after a think time it does one of online authorisation of a card-signed point
use (40 %), a push of 3 offline point uses (20 %), a card look-up (25 %) or an incremental pull
(15 %). Reported per back-end: requests and transactions per second, p50/p99 latency (overall
and per kind) and errors, which must be 0 (any answer that is not 2xx, any transport failure,
any transaction not applied).

Run: ``.venv/bin/python bench/load.py [--terminals 200] [--seconds 60] [--db sqlite postgres]
[--json FILE]``. Client and server share this machine's cores, so the figures are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.ledger_ingest import (  # noqa: E402
    BALANCE,
    KAWASAKI,
    Card,
    Ledger,
    enroll,
    make_cards,
    percentile,
    uvicorn_server,
)
from cardio.virtual.ca import TestCA  # noqa: E402
from server_stub import operator  # noqa: E402
from server_stub.db.engine import make_engine  # noqa: E402
from server_stub.db.migrate import migrate  # noqa: E402
from sync.protocol import Transaction, uuid7  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402
from tests.support.signing import RequestSigner, card_signed  # noqa: E402

log = logging.getLogger("bench.load")

MIX = (("authorize", 40), ("push", 20), ("lookup", 25), ("pull", 15))
PUSH_BATCH = 3
JSON = {"Content-Type": "application/json"}


@dataclass
class Tally:
    """What the terminals saw during the measured window."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    transactions: int = 0

    def summary(self, seconds: float) -> dict[str, Any]:
        """Figures for the report."""
        every = [v for values in self.latencies.values() for v in values]
        kinds = {
            kind: {
                "requests": len(values),
                "p50_ms": round(percentile(values, 0.50) * 1000, 1),
                "p99_ms": round(percentile(values, 0.99) * 1000, 1),
            }
            for kind, values in sorted(self.latencies.items())
            if values
        }
        return {
            "requests": len(every),
            "requests_per_s": round(len(every) / seconds, 1),
            "transactions": self.transactions,
            "transactions_per_s": round(self.transactions / seconds, 1),
            "p50_ms": round(percentile(every, 0.50) * 1000, 1) if every else None,
            "p99_ms": round(percentile(every, 0.99) * 1000, 1) if every else None,
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "by_kind": kinds,
        }


def shop_id(index: int) -> str:
    """The business ID of shop number ``index``."""
    return f"A{index + 1:04d}"


def seed(url: str, ca: TestCA, cards: list[Card], terminals: int, shops: int) -> Ledger:
    """Migrate; Kawasaki, its point program, a street with ``shops`` shops; every card a MyKey
    ID with a large balance; ``terminals`` enrollment codes spread over the shops in turn."""
    migrate(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            operator.create_municipality(conn, KAWASAKI, "川崎市")
            program = operator.create_point_program(conn, KAWASAKI, "川崎市ポイント")
            operator.create_business(conn, "B0001", KAWASAKI, "元住吉商店街", "street")
            for index in range(shops):
                operator.create_business(
                    conn, shop_id(index), KAWASAKI, f"店舗{index + 1}", "shop", street_id="B0001"
                )
            grant = operator.create_grant_program(conn, program, "負荷試験", "総務局", BALANCE)
            for index, card in enumerate(cards):
                name = f"LOAD{index:04d}"
                operator.create_mykey_id(conn, name, card.certificate)
                operator.grant_points(conn, grant, name)
            codes = [
                operator.create_enrollment_code(conn, shop_id(i % shops), ["shop"]).code
                for i in range(terminals)
            ]
    finally:
        engine.dispose()
    return Ledger(url, program, ca.trust_directory, cards, codes)


def _use(
    ledger: Ledger, terminal_id: str, business_id: str, card: Card, offline: bool
) -> Transaction:
    tx = Transaction.model_validate(
        {
            "id": str(uuid7()),
            "terminal_id": terminal_id,
            "business_id": business_id,
            "terminal_time": datetime.now(UTC).isoformat(),
            "offline": offline,
            "payload": {"kind": "point_use", "program_id": ledger.program_id, "points": 1},
            "card": {"certificate": card.certificate_b64},
        }
    )
    return card_signed(tx, card.key)


class SimulatedTerminal:
    """One counter: its signer, HTTP connection, pull cursor and random choices."""

    def __init__(
        self,
        ledger: Ledger,
        signer: RequestSigner,
        business_id: str,
        client: httpx.AsyncClient,
        seed: int,
    ) -> None:
        self.ledger, self.signer, self.client = ledger, signer, client
        self.business_id = business_id
        self.rng = random.Random(seed)
        self.cursor: str | None = None

    def _request(self, method: str, path: str, body: bytes = b"") -> httpx.Request:
        request = self.client.build_request(
            method, path, content=body, headers=JSON if body else {}
        )
        return self.signer.sign(request)

    def _next(self, kind: str) -> tuple[httpx.Request, int]:
        card = self.rng.choice(self.ledger.cards)
        tid = self.signer.terminal_id
        if kind == "authorize":
            body = (
                _use(self.ledger, tid, self.business_id, card, offline=False)
                .model_dump_json()
                .encode()
            )
            return self._request("POST", "/v1/transactions/authorize", body), 1
        if kind == "push":
            cards = [self.rng.choice(self.ledger.cards) for _ in range(PUSH_BATCH)]
            items = [_use(self.ledger, tid, self.business_id, c, True) for c in cards]
            batch = {"transactions": [t.model_dump(mode="json") for t in items]}
            pushed = json.dumps(batch).encode()
            return self._request("POST", "/v1/transactions/push", pushed), PUSH_BATCH
        if kind == "lookup":
            body = json.dumps({"certificate": card.certificate_b64}).encode()
            return self._request("POST", "/v1/lookup", body), 0
        query = f"?cursor={self.cursor}" if self.cursor else ""
        return self._request("GET", "/v1/pull" + query), 0

    async def pull_once(self) -> None:
        """The start-up pull every terminal does (its offline state begins here)."""
        response = await self.client.send(self._request("GET", "/v1/pull"))
        response.raise_for_status()
        self.cursor = response.json()["cursor"]

    async def run(self, tally: Tally, until: float, think: float) -> None:
        """Work until ``until`` (perf_counter); only requests started before then count."""
        kinds = [k for k, _ in MIX]
        weights = [w for _, w in MIX]
        while True:
            await asyncio.sleep(self.rng.uniform(0, 2 * think))
            if time.perf_counter() >= until:
                return
            kind = self.rng.choices(kinds, weights)[0]
            request, transactions = self._next(kind)
            start = time.perf_counter()
            try:
                response = await self.client.send(request)
            except httpx.HTTPError as error:
                tally.errors[f"{kind}: {type(error).__name__}"] += 1
                continue
            tally.latencies[kind].append(time.perf_counter() - start)
            if response.status_code != 200:
                code = response.json().get("code") if response.content else ""
                tally.errors[f"{kind}: HTTP {response.status_code} {code}"] += 1
                continue
            body = response.json()
            if kind == "pull":
                self.cursor = body["cursor"]
            results = [body] if kind == "authorize" else body.get("results", [])
            for result in results:
                if result["status"] in ("applied", "accepted_offline"):
                    tally.transactions += 1
                else:
                    tally.errors[f"{kind}: {result['status']} {result.get('reason')}"] += 1
            assert transactions == len(results) or kind in ("lookup", "pull")


async def _drive(
    ledger: Ledger,
    base: str,
    signers: list[RequestSigner],
    shops: int,
    seconds: float,
    think: float,
) -> tuple[Tally, float]:
    # idle connections are closed by the client before uvicorn's 5 s keep-alive timeout, so a
    # request never races the server's close (a real terminal's retry would hide that race)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=4.0)
    clients = [httpx.AsyncClient(base_url=base, timeout=120, limits=limits) for _ in signers]
    try:
        terminals = [
            SimulatedTerminal(ledger, s, shop_id(i % shops), c, i)
            for i, (s, c) in enumerate(zip(signers, clients, strict=True))
        ]
        for start in range(0, len(terminals), 20):  # connect and pull, not all at once
            await asyncio.gather(*(t.pull_once() for t in terminals[start : start + 20]))
        tally = Tally()
        t0 = time.perf_counter()
        await asyncio.gather(*(t.run(tally, t0 + seconds, think) for t in terminals))
        return tally, time.perf_counter() - t0
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def run_backend(
    name: str, ledger: Ledger, folder: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """Start the server on ``ledger``, enroll the terminals, drive them, stop the server."""
    with uvicorn_server(ledger, folder) as base:
        signers = [enroll(base, code) for code in ledger.enrollment_codes]
        log.info("%s: %d terminals for %d s", name, len(signers), args.seconds)
        tally, wall = asyncio.run(
            _drive(ledger, base, signers, args.shops, args.seconds, args.think)
        )
    figures = tally.summary(wall)
    figures.update(
        backend=name,
        terminals=len(signers),
        shops=args.shops,
        cards=args.cards,
        seconds=round(wall, 1),
        think_s=args.think,
    )
    return figures


def report(args: argparse.Namespace, machine: str, results: list[dict[str, Any]]) -> str:
    """The result table as text."""
    lines = [
        f"Load: {args.terminals} terminals in {args.shops} shops, {args.cards} cards,"
        f" {args.seconds:g} s, think {args.think:g} s",
        f"({machine})",
        f"{'back-end':<11} {'req/s':>8} {'tx/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}",
    ]
    for r in results:
        lines.append(
            f"{r['backend']:<11} {r['requests_per_s']:>8} {r['transactions_per_s']:>8} "
            f"{r['p50_ms']:>8} {r['p99_ms']:>8} {r['errors']:>7}"
        )
        for kind, k in r["by_kind"].items():
            lines.append(
                f"  {kind:<9} {k['requests']:>8} req  p50 {k['p50_ms']} ms  p99 {k['p99_ms']} ms"
            )
        if r["errors"]:
            lines.append(f"  errors: {r['error_kinds']}")
    return "\n" + "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the load on each back-end and print (and optionally write) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--think",
        type=float,
        default=0.5,
        help="mean pause between one terminal's requests, s (default 0.5)",
    )
    parser.add_argument("--cards", type=int, default=100, help="residents' cards (default 100)")
    parser.add_argument("--shops", type=int, default=20, help="shops the terminals belong to")
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgres"],
                        default=["sqlite", "postgres"])  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="mykey-load-") as tmp:
        folder = Path(tmp)
        ca = TestCA.init(folder / "ca")
        cards = make_cards(ca, args.cards)
        if "sqlite" in args.db:
            ledger = seed(f"sqlite:///{folder / 'load.db'}", ca, cards, args.terminals, args.shops)
            results.append(run_backend("SQLite", ledger, folder, args))
        if "postgres" in args.db:
            with PostgresServer(max_connections=300) as server:
                ledger = seed(server.create_database("load"), ca, cards, args.terminals, args.shops)
                results.append(run_backend("PostgreSQL", ledger, folder, args))
    machine = (
        f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}"
    )
    sys.stdout.write(report(args, machine, results))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
