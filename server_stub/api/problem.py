"""RFC 9457 problem documents (``application/problem+json``) for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from server_stub.errors import LedgerError
from sync.protocol import Problem

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"

#: Generic HTTP errors (no LedgerError behind them): status -> (code, Japanese, English).
HTTP_TITLES: dict[int, tuple[str, str, str]] = {
    400: ("bad-request", "要求の形式が正しくありません。", "The request is malformed."),
    401: ("unauthenticated", "認証が必要です。", "Authentication is required."),
    403: ("forbidden", "この操作は許可されていません。", "This operation is not allowed."),
    404: ("not-found", "指定されたURLは存在しません。", "There is nothing at this URL."),
    405: (
        "method-not-allowed",
        "このURLではその操作はできません。",
        "This method is not allowed at this URL.",
    ),
    406: ("not-acceptable", "応答形式が合いません。", "No acceptable response format."),
    413: (
        "payload-too-large",
        "送信データが大きすぎます。件数を分けて送信してください。",
        "The request body is too large. Send it in smaller parts.",
    ),
    415: ("unsupported-media-type", "JSONで送信してください。", "Send the body as JSON."),
    422: ("invalid-input", "入力内容が正しくありません。", "The input is not valid."),
    429: (
        "rate-limited",
        "短時間に要求が多すぎます。しばらく待ってから再送してください。",
        "Too many requests. Wait a moment and send again.",
    ),
    500: (
        "internal-error",
        "台帳サーバーで予期しないエラーが発生しました。",
        "The ledger server failed unexpectedly.",
    ),
}

#: What every route documents for its errors in the OpenAPI description.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": titles[2]}
    for status, titles in HTTP_TITLES.items()
    if status in (401, 403, 404, 409, 413, 422, 429)
}
PROBLEM_RESPONSES[409] = {
    "model": Problem,
    "content": {MEDIA_TYPE: {}},
    "description": "Conflicts with what is recorded.",
}


def problem_response(
    status: int,
    code: str,
    title_ja: str,
    title_en: str,
    detail: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": f"urn:mykey:problem:{code}",
        "title": title_en,
        "status": status,
        "code": code,
        "title_ja": title_ja,
        "title_en": title_en,
    }
    if detail:
        body["detail"] = detail
    if extra:
        body.update(extra)
    return JSONResponse(
        jsonable_encoder(body), status_code=status, media_type=MEDIA_TYPE, headers=headers
    )


def error_response(error: LedgerError) -> JSONResponse:
    """The problem document of one of our errors."""
    extra: dict[str, Any] = {}
    candidates = getattr(error, "candidates", None)
    if candidates:
        extra["candidates"] = candidates
    headers = None
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int):
        headers = {"Retry-After": str(retry_after)}
        extra["retry_after"] = retry_after
    return problem_response(
        error.status,
        error.code,
        error.title_ja,
        error.title_en,
        error.detail or None,
        extra,
        headers,
    )


def http_problem(status: int, detail: str | None = None) -> JSONResponse:
    """The problem document of a plain HTTP status."""
    code, ja, en = HTTP_TITLES.get(status, (f"http-{status}", "エラーが発生しました。", "Error."))
    return problem_response(status, code, ja, en, detail)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error the app can return a problem document."""

    @app.exception_handler(LedgerError)
    async def _ledger(request: Request, error: LedgerError) -> JSONResponse:
        if error.status in (401, 403):
            log.warning("refused %s %s: %s", request.method, request.url.path, error)
        elif error.status >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, error)
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in error.errors()
        ]
        code, ja, en = HTTP_TITLES[422]
        return problem_response(422, code, ja, en, "request validation failed", {"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = error.detail if isinstance(error.detail, str) else None
        response = http_problem(error.status_code, detail)
        if error.headers:
            response.headers.update(error.headers)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return http_problem(500)
