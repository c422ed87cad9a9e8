"""The network between terminals and the ledger, with injected faults.

Each terminal has a :class:`SimLink`, a ``LedgerPort`` (and the sync engine's port) that signs
its requests as the enrolled terminal (RFC 9421) and hands them to the server of the run. On each
request the shared :class:`Network` may drop it, lose the answer, hold it and deliver it later
(delayed, so it overtakes or is overtaken by later requests), deliver it twice (a retried copy,
signed again), replay the very same signed bytes (must be refused), or crash the server right after
it committed. A link in an offline period, or a crashed server, gives no answer at all.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel

from sim.clock import SkewedClock
from sim.server import SimServer
from sync.protocol import (
    AvailabilityResponse,
    ChallengeResponse,
    LedgerRefusedError,
    LedgerUnreachableError,
    LookupRequest,
    LookupResponse,
    PullResponse,
    PushRequest,
    PushResponse,
    ResultStatus,
    Transaction,
    TransactionResult,
    b64encode,
)
from sync.signing import sign_request


class Fault(StrEnum):
    """What the network does to one request."""

    NONE = "none"
    DROP = "drop"  # never reaches the server
    LOSE_ANSWER = "lose-answer"  # applied, the answer never comes back
    DELAY = "delay"  # held, delivered at a later step; the sender gets no answer
    DUPLICATE = "duplicate"  # delivered twice (the second copy signed again)
    REPLAY = "replay"  # the same signed bytes delivered twice: the copy must be refused
    SERVER_CRASH = "server-crash"  # applied, then the server dies before answering


#: Fault weights per request while faults are on (NONE makes up the rest).
FAULT_WEIGHTS: dict[Fault, float] = {
    Fault.DROP: 0.06,
    Fault.LOSE_ANSWER: 0.07,
    Fault.DELAY: 0.05,
    Fault.DUPLICATE: 0.06,
    Fault.REPLAY: 0.03,
    Fault.SERVER_CRASH: 0.01,
}
_WRITES = ("/v1/transactions/push", "/v1/transactions/authorize")


@dataclass
class Delayed:
    """A request on its way: delivered when the simulator says so."""

    sender: str
    path: str
    request: httpx.Request


@dataclass
class Network:
    """The faults, the requests in flight, and what was noticed on the way."""

    server: SimServer
    rng: random.Random
    log: Callable[[str], None]
    faults_on: bool = True
    in_flight: list[Delayed] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    requests: int = 0

    def draw(self, path: str) -> Fault:
        """The fault for the next request to ``path``."""
        if not self.faults_on:
            return Fault.NONE
        roll = self.rng.random()
        for fault, weight in FAULT_WEIGHTS.items():
            if roll < weight:
                if fault in (Fault.DUPLICATE, Fault.REPLAY) and path not in _WRITES:
                    return Fault.NONE
                return fault
            roll -= weight
        return Fault.NONE

    def deliver_in_flight(self, count: int | None = None, *, keep: float = 0.0) -> int:
        """Deliver up to ``count`` held requests (all when None), in a random order; each one
        stays in flight instead with probability ``keep``."""
        delivered = 0
        stuck: list[Delayed] = []
        while self.in_flight and (count is None or delivered < count):
            item = self.in_flight.pop(self.rng.randrange(len(self.in_flight)))
            if keep and self.rng.random() < keep:
                stuck.append(item)
                continue
            if not self.server.up:
                self.log(f"  net: delayed {item.sender} {item.path} lost (server down)")
                continue
            response = self.server.send(item.request)
            self.requests += 1
            if response.status_code >= 500:
                self.violations.append(f"server-error: delayed {item.path}")
            self.log(f"  net: delayed {item.sender} {item.path} arrives -> {response.status_code}")
            delivered += 1
        self.in_flight += stuck
        return delivered


class SimLink:
    """One terminal's connection to the ledger (see the module docstring)."""

    def __init__(
        self,
        network: Network,
        name: str,
        terminal_id: str,
        key: Ed25519PrivateKey,
        clock: SkewedClock,
    ) -> None:
        self.network = network
        self.name = name
        self.terminal_id = terminal_id
        self._key = key
        self._clock = clock
        #: True during an offline period: nothing gets through
        self.offline = False

    def _signed(self, method: str, path: str, content: bytes) -> httpx.Request:
        request = self.network.server.build(method, path, content)
        # RFC 9421 ``created`` is checked against the wall clock by the signature library, so the
        # signature carries the wall clock plus this terminal's simulated skew
        created = datetime.now(UTC) + self._clock.skew
        sign_request(
            request, terminal_id=self.terminal_id, key=self._key, body=content, created=created
        )
        return request

    def _call(self, method: str, path: str, body: BaseModel | None = None) -> Any:
        network = self.network
        server = network.server
        if self.offline:
            raise LedgerUnreachableError("offline period (simulated)")
        if not server.up:
            raise LedgerUnreachableError("server down (simulated)")
        content = b"" if body is None else body.model_dump_json().encode("utf-8")
        fault = network.draw(path.split("?")[0])
        request = self._signed(method, path, content)
        if fault is not Fault.NONE:
            network.log(f"  net: {self.name} {path.split('?')[0]}: {fault.value}")
        if fault is Fault.DROP:
            raise LedgerUnreachableError("request dropped (simulated)")
        if fault is Fault.DELAY:
            network.in_flight.append(Delayed(self.name, path.split("?")[0], request))
            raise LedgerUnreachableError("request delayed (simulated)")
        response = server.send(request)
        network.requests += 1
        if fault is Fault.DUPLICATE:
            self._check_duplicate(response, server.send(self._signed(method, path, content)))
        elif fault is Fault.REPLAY:
            replayed = server.send(request)
            if response.status_code < 400 and replayed.status_code != 401:
                network.violations.append(
                    f"replay-accepted: {self.name} {path} replay answered {replayed.status_code}"
                )
        if response.status_code >= 500:
            network.violations.append(f"server-error: {self.name} {path} {response.status_code}")
        if fault is Fault.LOSE_ANSWER:
            raise LedgerUnreachableError("answer lost (simulated)")
        if fault is Fault.SERVER_CRASH:
            server.crash()
            raise LedgerUnreachableError("server crashed before answering (simulated)")
        return _answer(response)

    def _check_duplicate(self, first: httpx.Response, second: httpx.Response) -> None:
        """A resent write must come back as the first answer again, never applied twice."""
        if first.status_code != 200 or second.status_code != 200:
            return
        a, b = first.json(), second.json()
        firsts = a.get("results", [a])
        seconds = b.get("results", [b])
        duplicate = ResultStatus.DUPLICATE.value
        for one, two in zip(firsts, seconds, strict=True):
            first = one.get("original_status") if one["status"] == duplicate else one["status"]
            original = two.get("original_status")
            if two["status"] != duplicate or original != first:
                self.network.violations.append(
                    f"duplicate-not-recognised: {self.name} {one['status']} then "
                    f"{two['status']}/{original}"
                )

    # --- the LedgerPort -------------------------------------------------------------------

    def authorize(self, transaction: Transaction) -> TransactionResult:
        """Online authorisation of one transaction."""
        result = TransactionResult.model_validate(
            self._call("POST", "/v1/transactions/authorize", transaction)
        )
        if result.id != transaction.id:
            raise LedgerUnreachableError("the answer is for another transaction")
        return result

    def push(self, transactions: list[Transaction]) -> PushResponse:
        """Push a batch."""
        answer = PushResponse.model_validate(
            self._call("POST", "/v1/transactions/push", PushRequest(transactions=transactions))
        )
        if [r.id for r in answer.results] != [t.id for t in transactions]:
            raise LedgerUnreachableError("the push answer does not match the batch")
        return answer

    def pull(self, cursor: str | None) -> PullResponse:
        """Deltas since ``cursor``."""
        path = "/v1/pull" if cursor is None else f"/v1/pull?cursor={cursor}"
        return PullResponse.model_validate(self._call("GET", path))

    def lookup(self, certificate_der: bytes) -> LookupResponse:
        """A card look-up."""
        body = LookupRequest(certificate=b64encode(certificate_der))
        return LookupResponse.model_validate(self._call("POST", "/v1/lookup", body))

    def mykey_challenge(self) -> ChallengeResponse:
        """A MyKey set-up challenge."""
        return ChallengeResponse.model_validate(self._call("POST", "/v1/mykey/challenge"))

    def mykey_availability(self, mykey_id: str) -> AvailabilityResponse:
        """Whether a MyKey ID is free."""
        return AvailabilityResponse.model_validate(
            self._call("GET", f"/v1/mykey/availability?mykey_id={mykey_id}")
        )


def _answer(response: httpx.Response) -> Any:
    """The JSON body, or the failure the answer means (as :mod:`sync.client` classifies it)."""
    status = response.status_code
    if status >= 500 or status in (408, 429):
        raise LedgerUnreachableError(f"HTTP {status}")
    if status >= 400:
        try:
            problem = response.json()
            raise LedgerRefusedError(
                status, problem["code"], problem["title_ja"], problem["title_en"]
            )
        except (ValueError, KeyError) as exc:
            raise LedgerRefusedError(status, "http-error", "拒否", "refused") from exc
    return json.loads(response.content)
