"""Every error reaches a client as `{"detail": ...}` with the status that names it.

    404  NotVisibleError: missing, or not the caller's to know about (never 403 for those)
    403  NotAllowedError: visible, but the caller's role may not do this
    4xx, 503  api.services.errors.ServiceError: a service's refusal, with the status it names
    401  no token, or an expired or revoked one (with WWW-Authenticate: Bearer)
    409  a state conflict: wrong upload offset, lesson not ready, recording without sound
    413  too large (a body, a recording, a quota); 415 not a recording (by content)
    422  invalid input; 429 too many attempts or uploads; 507 no room on the server's disk
    503  storage, queue or database unavailable for a moment (with Retry-After)

Processing failures are data on the lesson (status, error_code, error_message), never a 5xx.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.services.errors import ServiceError
from models.access import NotAllowedError, NotVisibleError
from models.storage import ObjectMissingError, StorageUnavailableError
from models.upload import Upload

log = logging.getLogger(__name__)

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


ERROR_CODES = (
    "body_too_large (413)",
    "upload_quota_storage (413)",
    "upload_quota_open (429)",
    "upload_quota_in_flight (429)",
    "sign_in_limited_account (429)",
    "sign_in_limited_client (429)",
    "database_busy (503)",
)
"""The codes of the limits every client can meet (body, upload quotas, sign-in), for the schema;
each is raised where it is named, and tests/api/test_openapi.py checks this list against them."""


class ErrorOut(BaseModel):
    """The body of every error response."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": "clip not found"}]})

    detail: str | list[dict[str, Any]] | dict[str, Any]
    code: str | None = Field(
        None,
        description="A stable, machine-readable name for some errors, among them "
        + ", ".join(ERROR_CODES)
        + "; the routes' error descriptions name the rest.",
    )


class CodedHTTPException(StarletteHTTPException):
    """An HTTP error whose body also carries a stable `code` a client can act on."""

    def __init__(
        self, status_code: int, detail: str, code: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status_code, detail, headers)
        self.code = code


def offset_headers(upload: Upload) -> dict[str, str]:
    """Where a resumable upload stands, sent with every answer about it (errors too)."""
    return {
        "Upload-Offset": str(upload.offset),
        "Upload-Length": str(upload.size),
        "Cache-Control": "no-store",
    }


def no_space(upload: Upload | None = None) -> HTTPException:
    """507: the upload folder is full; the client keeps its bytes and tries again later."""
    if upload is None:
        return HTTPException(
            507, "The server has no room for this recording just now; nothing was kept."
        )
    return HTTPException(
        507,
        "The server has no room for this chunk just now; nothing of it was kept. "
        f"The offset is still {upload.offset}: try again later.",
        headers=offset_headers(upload),
    )


DESCRIPTIONS = {
    400: "The request cannot be understood.",
    401: "Not signed in, or the token has expired or was revoked, or its session ended when "
    "the account was changed (deactivated, reactivated, password changed or reset, role "
    "changed): sign in again.",
    403: "Visible to you, but your role may not do this.",
    404: "Not found, or not yours to see: the same answer either way (`code` names what, "
    "e.g. clip_not_found, lesson_not_found, collection_not_found).",
    409: "Conflicts with the current state (the detail says which).",
    413: "Too large: a body over its limit (`code` body_too_large: 1 MB for JSON, the upload "
    "limit for recordings), a recording or chunk over the size limit, or over a storage quota "
    "(`code` upload_quota_storage).",
    415: "Not a recording (judged by the file's content, not its name).",
    422: "Invalid input (the detail says which field and why), including a JSON number that "
    "is NaN, Infinity or -Infinity (never accepted) and a date-time without its UTC offset "
    "(RFC 3339 with its offset, e.g. 2026-12-01T18:00:00+05:00).",
    429: "Too many attempts: failed sign-ins for this account from any address (`code` "
    "sign_in_limited_account, even with the right password) or from this address (`code` "
    "sign_in_limited_client), or too many uploads open or in flight (`code` "
    "upload_quota_open, upload_quota_in_flight); retry after the seconds in Retry-After.",
    503: "Temporarily unavailable; retry after the number of seconds in Retry-After.",
    507: "The server's disk has no room for this just now; nothing of it was kept (a resumable "
    "upload's offset is unchanged): retry later.",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    }
}
"""The header a 429 and a 503 carry."""


def _entry(code: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"model": ErrorOut, "description": DESCRIPTIONS[code]}
    if code in (429, 503):
        entry["headers"] = RETRY_AFTER
    return entry


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can return (401 and 422 always can)."""
    wanted = sorted({*codes, 401, 413, 422})
    return {code: _entry(code) for code in wanted}


def public_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Like `responses` for routes that need no token."""
    wanted = sorted({*codes, 413, 422})
    return {code: _entry(code) for code in wanted}


async def _not_visible(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotVisibleError)  # noqa: S101 - registered for NotVisibleError only
    return JSONResponse({"detail": str(exc), "code": exc.code}, status_code=404)


async def _not_allowed(_: Request, exc: Exception) -> JSONResponse:
    code = getattr(exc, "code", None)
    body = {"detail": str(exc)} if code is None else {"detail": str(exc), "code": code}
    return JSONResponse(body, status_code=403)


async def _refused(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)  # noqa: S101 - registered for ServiceError only
    body = {"detail": exc.detail} if exc.code is None else {"detail": exc.detail, "code": exc.code}
    return JSONResponse(body, status_code=exc.status, headers=exc.headers())


async def _missing(_: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "That file does not exist (yet)."}, status_code=404)


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("storage unavailable during %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "Storage is unavailable for a moment; try again shortly."},
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def _database_busy(request: Request, exc: Exception) -> JSONResponse:
    """Every pooled connection busy past the pool's timeout (many readers on a loaded machine),
    or the database briefly unreachable or locked: a moment's unavailability, not a fault of
    the request, so 503 with Retry-After rather than a 500 the client cannot act on."""
    log.warning("database busy during %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "The database is busy for a moment; try again shortly.",
         "code": "database_busy"},
        status_code=503,
        headers={"Retry-After": "5"},
    )  # fmt: skip


async def _http_error(request: Request, exc: Exception) -> Response:
    """A body the framework cannot parse (bad UTF-8 JSON, a malformed multipart form) is 400 in
    FastAPI and Starlette; here every invalid input is 422, with the parser's reason."""
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - narrows a type the code above guarantees
    if isinstance(exc, CodedHTTPException):
        return JSONResponse(
            {"detail": exc.detail, "code": exc.code}, status_code=exc.status_code,
            headers=exc.headers,
        )  # fmt: skip
    if exc.status_code == 400:
        detail = exc.detail
        if detail == "There was an error parsing the body":
            detail = "The request body is not valid JSON (or not UTF-8 text)."
        return JSONResponse({"detail": detail}, status_code=422)
    return await http_exception_handler(request, exc)


def json_safe(value: Any) -> Any:
    """`value` with every non-finite float spelled as JSON would not allow (`"NaN"`,
    `"Infinity"`, `"-Infinity"`), so an answer that echoes input can always be serialised."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


async def _invalid_input(_: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422, except that the input it echoes is made JSON-safe first: its default
    handler fails on an echoed NaN (JSON has no NaN), which turned a bad number into a 500."""
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - narrows a type the code above guarantees
    return JSONResponse({"detail": json_safe(jsonable_encoder(exc.errors()))}, status_code=422)


def install(app: FastAPI) -> None:
    """Handlers for the errors above. An unexpected exception is answered (500, logged) by
    `api.middleware.SecurityHeadersMiddleware`, inside the headers every answer carries."""
    app.add_exception_handler(RequestValidationError, _invalid_input)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(NotVisibleError, _not_visible)
    app.add_exception_handler(NotAllowedError, _not_allowed)
    app.add_exception_handler(ServiceError, _refused)
    app.add_exception_handler(ObjectMissingError, _missing)
    app.add_exception_handler(StorageUnavailableError, _unavailable)
    app.add_exception_handler(PoolTimeoutError, _database_busy)
    app.add_exception_handler(OperationalError, _database_busy)
