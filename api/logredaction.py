"""Keeping credentials out of logs: media links carry a token in their query string, and
uvicorn's access log prints every request's path with its query.

`install()` puts a filter on the loggers that print URLs; it rewrites `token=...` (and
`access_token=...`) values in a record's message and arguments to `token=[redacted]` before any
handler formats it, so the access log keeps the path and status but never the credential.
A parameter's name is judged after percent-decoding, as the server reads it: `?%74oken=` and
`?tok%65n=` are the media token too, and are redacted like it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

REDACTED = "[redacted]"
SECRET_PARAMETERS = frozenset({"token", "access_token"})
QUERY_PARAMETER = re.compile(r"([?&;])([^=&;\s\"'#?]*)=([^&;\s\"'#]*)")
URL_LOGGERS = ("uvicorn.access", "uvicorn.error", "httpx")
"""Loggers that print request URLs: the server's access and error logs, and HTTP clients."""


def _redact_parameter(match: re.Match[str]) -> str:
    lead, name, _ = match.groups()
    if unquote_plus(name).strip().lower() in SECRET_PARAMETERS:
        return f"{lead}{name}={REDACTED}"
    return match.group(0)


def redact(text: str) -> str:
    return QUERY_PARAMETER.sub(_redact_parameter, text)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes | bytearray):
        return redact(bytes(value).decode("latin-1")).encode("latin-1")
    if value is not None and not isinstance(value, int | float):
        # URL objects (httpx logs `request.url`, an httpx.URL) print their query too
        text = str(value)
        cleaned = redact(text)
        if cleaned != text:
            return cleaned
    return value


class TokenRedactor(logging.Filter):
    """Rewrites query-string tokens in a record; never drops the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: _clean(arg) for key, arg in record.args.items()}
        return True


def install(names: tuple[str, ...] = URL_LOGGERS) -> None:
    """Add the filter to each logger once (create_app may run many times in one process).

    Logger filters survive uvicorn's own logging set-up, which replaces handlers only.
    """
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenRedactor) for f in logger.filters):
            logger.addFilter(TokenRedactor())
