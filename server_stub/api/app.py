"""``create_app(settings)``: the ledger's FastAPI application."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cardio.auth import TrustStore
from server_stub.admin import api as admin_api
from server_stub.api import enroll, terminal
from server_stub.api.problem import http_problem, install_problem_handlers
from server_stub.api.state import LedgerState
from server_stub.db.engine import make_engine
from server_stub.settings import Settings
from server_stub.snapshot import load_or_create_signing_key

log = logging.getLogger(__name__)


class BodySizeLimit:
    """Refuse (413, problem+json) any request body larger than ``limit`` bytes."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = True
                if too_big:
                    await http_problem(413)(scope, receive, send)
                    return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await http_problem(413)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)


def create_app(settings: Settings | None = None, **engine_kwargs: Any) -> FastAPI:
    """Build the app for ``settings`` (the database must already be migrated)."""
    settings = settings or Settings()
    trust = TrustStore.from_directory(settings.trust_dir) if settings.trust_dir else None
    if trust is None:
        log.warning("no trust folder configured: card transactions will be refused")
    state = LedgerState(
        settings=settings,
        engine=make_engine(settings.database_url, **engine_kwargs),
        trust=trust,
        signing_key=load_or_create_signing_key(settings.signing_key_path),
    )
    app = FastAPI(
        title="MyKey ledger",
        version="1",
        description="自治体ポイント台帳サーバー / the municipal point ledger for MyKey terminals",
    )
    app.state.ledger = state
    install_problem_handlers(app)
    app.include_router(enroll.router)
    app.include_router(terminal.router)
    app.include_router(admin_api.router)

    @app.get("/v1/health", tags=["meta"], summary="Liveness")
    def health() -> dict[str, str]:
        """``{"status": "ok"}`` while the server runs."""
        return {"status": "ok"}

    app.add_middleware(BodySizeLimit, limit=settings.max_request_bytes)
    return app
