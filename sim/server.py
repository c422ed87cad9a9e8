"""The ledger server of a run: the real app over one SQLite file, reached through FastAPI's test
client. A crash throws the app and its engine away; a restart builds new ones on the same file
(SQLite keeps everything committed, nothing else)."""

from __future__ import annotations

import warnings
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine

from server_stub.api.app import create_app
from server_stub.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette prefers httpx2 for its test client
    from fastapi.testclient import TestClient


class SimServer:
    """One ledger process: up (``client`` answers) or crashed (``client`` is None)."""

    def __init__(self, settings: Settings, database: Path) -> None:
        self.settings = settings
        self.database = database
        self.app: FastAPI | None = None
        self.client: TestClient | None = None
        self.restarts = 0
        self.start()

    @property
    def up(self) -> bool:
        """True while the server answers."""
        return self.client is not None

    @property
    def engine(self) -> Engine:
        """The running app's engine (the operator's and the checker's way in)."""
        assert self.app is not None, "the server is down"
        engine: Engine = self.app.state.ledger.engine
        return engine

    def start(self) -> None:
        """Start a new app on the database file."""
        if self.client is not None:
            return
        self.app = create_app(self.settings)
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.client.__enter__()

    def crash(self) -> None:
        """Kill the app: its connections and whatever it held in memory are gone."""
        if self.client is None:
            return
        self.client.__exit__(None, None, None)
        assert self.app is not None
        self.app.state.ledger.engine.dispose()
        self.client = None
        self.app = None

    def restart(self) -> None:
        """Crash (if up), then start again on the same file."""
        self.crash()
        self.start()
        self.restarts += 1

    def send(self, request: httpx.Request) -> httpx.Response:
        """Deliver one request (the caller checked that the server is up)."""
        assert self.client is not None, "the server is down"
        return self.client.send(request)

    def build(self, method: str, path: str, content: bytes) -> httpx.Request:
        """An unsigned request to this server (the caller checked that it is up)."""
        assert self.client is not None, "the server is down"
        client = self.client
        headers = {"Content-Type": "application/json"} if content else {}
        return client.build_request(method, path, content=content, headers=headers)
