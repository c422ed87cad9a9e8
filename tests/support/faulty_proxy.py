"""A fault-injecting HTTP/1.1 proxy for tests: put it between a terminal and the real ledger.

:class:`FaultyProxy` listens on a free loopback port and forwards each request to ``upstream``
(a real server), one request at a time per client connection, keep-alive supported. What it
does with each request is its :class:`Fault`: the one queued with :meth:`FaultyProxy.plan` (in
order, one per request), else the current :attr:`FaultyProxy.mode`:

- ``PASS``: forward and relay the answer.
- ``CLOSE``: read the request, forward nothing, close the client connection (the server is
  never reached; the client sees "connection closed without answer").
- ``REFUSE``: stop listening, so new connections are refused (ECONNREFUSED); requests on
  connections already open are closed like ``CLOSE``. Any other mode listens again.
- ``DELAY``: wait :attr:`FaultyProxy.delay_s` seconds, then forward and relay (a slow server;
  with a short client timeout the client gives up, and the server may still apply it).
- ``LOSE_ACK``: forward, read the server's FULL answer, then reset the client connection
  (TCP RST) instead of relaying it: the server committed, the acknowledgement is lost.
- ``ERROR_500`` / ``ERROR_502``: answer 500 / 502 (a plain-text / HTML body, as a failing
  server or gateway does) without forwarding.
- ``GARBAGE``: answer 200 with a body that is not JSON, without forwarding.

Every request is counted in :attr:`FaultyProxy.requests` as ``(method, path, fault)``, so a
test counts attempts without measuring time. Start/stop with the context manager.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Iterable
from enum import StrEnum
from typing import BinaryIO
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}
)


class Fault(StrEnum):
    """What the proxy does with one request (see the module docstring)."""

    PASS = "pass"
    CLOSE = "close"
    REFUSE = "refuse"
    DELAY = "delay"
    LOSE_ACK = "lose-ack"
    ERROR_500 = "error-500"
    ERROR_502 = "error-502"
    GARBAGE = "garbage"


class _Request:
    def __init__(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes):
        self.method, self.target, self.headers, self.body = method, target, headers, body

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    def wants_close(self) -> bool:
        return any(k.lower() == "connection" and v.lower() == "close" for k, v in self.headers)


def _read_request(stream: BinaryIO) -> _Request | None:
    """The next request on a client connection, or None when the client closed it."""
    line = stream.readline(65537)
    while line in (b"\r\n", b"\n"):
        line = stream.readline(65537)
    if not line:
        return None
    method, target, _version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers: list[tuple[str, str]] = []
    while True:
        raw = stream.readline(65537)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
    body = stream.read(length) if length else b""
    return _Request(method, target, headers, body)


def _response_bytes(
    status: int, reason: str, headers: Iterable[tuple[str, str]], body: bytes
) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers if k.lower() not in _HOP_BY_HOP]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


_CANNED: dict[Fault, tuple[int, str, str, bytes]] = {
    Fault.ERROR_500: (500, "Internal Server Error", "text/plain", b"Internal Server Error"),
    Fault.ERROR_502: (
        502,
        "Bad Gateway",
        "text/html",
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    ),
    Fault.GARBAGE: (200, "OK", "application/json", b"<<this is not json>> \x00\xff"),
}


class FaultyProxy:
    """An HTTP proxy in front of ``upstream`` (``http://host:port``) that injects faults.

    ``url`` is the proxy's base URL (give it to the client instead of the server's).
    """

    def __init__(self, upstream: str, *, mode: Fault = Fault.PASS, delay_s: float = 2.0) -> None:
        parts = urlsplit(upstream)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"upstream needs a host and a port: {upstream!r}")
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.delay_s = delay_s
        self.requests: list[tuple[str, str, Fault]] = []
        self._mode = mode
        self._plan: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._clients: set[socket.socket] = set()
        self._closed = threading.Event()
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = int(probe.getsockname()[1])
        probe.close()
        self.url = f"http://127.0.0.1:{self.port}"

    # --- control --------------------------------------------------------------------------

    @property
    def mode(self) -> Fault:
        """The fault applied to requests when no planned fault is queued."""
        return self._mode

    @mode.setter
    def mode(self, mode: Fault) -> None:
        with self._lock:
            self._mode = mode
        self._sync_listener()

    def plan(self, faults: Iterable[Fault]) -> None:
        """Queue faults for the next requests, one each, in order (then :attr:`mode` again)."""
        with self._lock:
            self._plan.extend(faults)

    def count(self, path: str | None = None) -> int:
        """How many requests arrived (to ``path`` only, if given)."""
        with self._lock:
            return sum(1 for _, p, _ in self.requests if path is None or p == path)

    def start(self) -> FaultyProxy:
        """Start listening (unless the mode is ``REFUSE``)."""
        self._closed.clear()
        self._sync_listener()
        return self

    def stop(self) -> None:
        """Stop listening and close every client connection."""
        self._closed.set()
        self._close_listener()
        with self._lock:
            clients, self._clients = set(self._clients), set()
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)  # wakes the thread reading from it
            _close(client)

    def __enter__(self) -> FaultyProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- listening ------------------------------------------------------------------------

    def _sync_listener(self) -> None:
        if self._closed.is_set():
            return
        if self._mode is Fault.REFUSE:
            self._close_listener()
            return
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            self._listener = listener
        threading.Thread(
            target=self._accept, args=(listener,), name="faulty-proxy", daemon=True
        ).start()

    def _close_listener(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self._clients.add(client)
            threading.Thread(
                target=self._serve, args=(client,), name="faulty-proxy-conn", daemon=True
            ).start()

    # --- one client connection ------------------------------------------------------------

    def _next_fault(self, request: _Request) -> Fault:
        with self._lock:
            fault = self._plan.popleft() if self._plan else self._mode
            self.requests.append((request.method, request.path, fault))
        return fault

    def _serve(self, client: socket.socket) -> None:
        stream = client.makefile("rb")
        try:
            while True:
                request = _read_request(stream)
                if request is None:
                    return
                fault = self._next_fault(request)
                log.debug("proxy %s %s -> %s", request.method, request.target, fault)
                if fault in (Fault.CLOSE, Fault.REFUSE):
                    return
                if fault in _CANNED:
                    status, reason, ctype, body = _CANNED[fault]
                    client.sendall(_response_bytes(status, reason, [("Content-Type", ctype)], body))
                    continue
                if fault is Fault.DELAY:
                    time.sleep(self.delay_s)
                answer = self._forward(request)
                if fault is Fault.LOSE_ACK:
                    _reset(client)
                    return
                client.sendall(answer)
                if request.wants_close():
                    return
        except OSError:
            return  # the client went away (e.g. it timed out during a DELAY)
        finally:
            stream.close()
            with self._lock:
                self._clients.discard(client)
            _close(client)

    def _forward(self, request: _Request) -> bytes:
        """Send ``request`` upstream on a fresh connection; the full answer, as bytes."""
        upstream = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            upstream.putrequest(
                request.method, request.target, skip_host=True, skip_accept_encoding=True
            )
            for name, value in request.headers:
                upstream.putheader(name, value)
            upstream.endheaders(request.body or None)
            response = upstream.getresponse()
            body = response.read()  # the whole answer: the server is done with it
            return _response_bytes(response.status, response.reason, response.getheaders(), body)
        finally:
            upstream.close()


def _reset(sock: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0) rather than an orderly FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
