"""ASGI middleware: a cap on request bodies, enforced while they stream, JSON bodies held to
finite numbers, and security headers on every answer (an unexpected error's 500 included)."""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import CodedHTTPException

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
log = logging.getLogger(__name__)

CSP = b"default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"


BODY_TOO_LARGE = "body_too_large"
"""The stable code of a 413 for a request body over its route's limit."""


def takes_recording(method: str, path: str, content_type: bytes) -> bool:
    """Whether a request may carry a recording: a chunk of a resumable upload, or a multipart
    lesson. Every other body is JSON or a small form and gets the small limit."""
    if method == "PATCH" and path.startswith("/api/v1/uploads/"):
        return True
    return (
        method == "POST"
        and path.rstrip("/") == "/api/v1/lessons"
        and content_type.startswith(b"multipart/form-data")
    )


class BodyLimitMiddleware:
    """Refuse a body over its limit: at once from Content-Length, else when it gets there.

    Runs before anything else (routing, authentication, parsing): a recording's routes may take
    up to `upload_limit` bytes, which they stream to disk; every other body `json_limit`. The 413
    is raised from inside `receive`, so the route stops reading and nothing past the limit is
    ever read, let alone written or parsed.
    """

    def __init__(self, app: ASGIApp, upload_limit: int, json_limit: int) -> None:
        self.app = app
        self.upload_limit = upload_limit
        self.json_limit = json_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        large = takes_recording(
            scope.get("method", ""), scope.get("path", ""), headers.get(b"content-type", b"")
        )
        limit = self.upload_limit if large else self.json_limit
        try:
            declared = int(headers.get(b"content-length", b"0"))
        except ValueError:
            declared = 0
        if declared > limit:
            await _send_413(send, limit)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise CodedHTTPException(413, _too_large(limit), BODY_TOO_LARGE)
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except CodedHTTPException as exc:
            # Raised through a middleware that reads the body before the app's error handlers
            # (the JSON number check): answer it here, as the handlers would have.
            if exc.code != BODY_TOO_LARGE or started:
                raise
            await _send_413(send, limit)


def _too_large(limit: int) -> str:
    size = f"{limit / (1024 * 1024):.0f} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
    return f"The request body is larger than this server accepts here ({size})."


async def _send_413(send: Send, limit: int) -> None:
    body = json.dumps({"detail": _too_large(limit), "code": BODY_TOO_LARGE}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeadersMiddleware:
    """The security headers on every answer. It also answers an unexpected exception itself
    (500, logged with its traceback): Starlette's own last-resort handler sits outside every
    middleware, so its 500 would go out without them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS:
                    if name not in present:
                        headers.append((name, value))
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", CSP))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if started:  # the status line is gone; all that is left is to cut the answer short
                raise
            await _send_json(send_with_headers, 500, "Something went wrong on our side.")


NON_FINITE = "JSON numbers must be finite: NaN, Infinity and -Infinity are not accepted."


def _refuse_constant(name: str) -> object:
    raise _NonFiniteError(name)


class _NonFiniteError(ValueError):
    pass


def _is_json(scope: Scope) -> bool:
    """A JSON body by its Content-Type: the only bodies FastAPI parses as JSON (its strict
    content type leaves a body without one unparsed)."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            kind: bytes = value.split(b";", 1)[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return False


class FiniteJSONMiddleware:
    """Refuse (422) any JSON body holding NaN, Infinity or -Infinity, whatever the route.

    Python's parser accepts them, JSON does not: a non-finite number either crashed the
    validation answer that echoed it or got stored and could not be sent back. Checking the body
    here holds every route, present and future, to the rule. JSON bodies are small (the body
    limit outside this middleware bounds them); uploads are not JSON and pass untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            json.loads(body, parse_constant=_refuse_constant)
        except _NonFiniteError:
            await _send_json(send, 422, NON_FINITE)
            return
        except ValueError:
            pass  # not JSON at all: the route's own parser says so, with its reason
        await self.app(scope, _replay([{"type": "http.request", "body": body}], receive), send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    """A `receive` that hands out `messages` first, then what `then` receives."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive


async def _send_json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
