"""Failed sign-ins, limited per email and client and per client alone, on the `limits` library.

The counts live where every API process sees them: the broker's Redis when the deployment has
one (or `CLIPCOACH_RATE_LIMIT_URL`), so running more processes does not multiply the guesses
allowed; memory on the embedded defaults, which run one API process. Moving windows: an attempt
stops counting exactly `window_seconds` after it was made.

If the store cannot be reached, sign-in goes on without a limit and a warning is logged: locking
every teacher out because Redis restarted would be worse than a few minutes without the limit.
"""

from __future__ import annotations

import logging
import math
import time
from urllib.parse import urlsplit, urlunsplit

from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from models.queue import is_redis_url, split_key_prefix

log = logging.getLogger(__name__)

MEMORY = "memory://"
NAMESPACE = "clipcoach-sign-in"
STORE_TIMEOUT_SECONDS = 1.0
"""A sign-in waits at most this long for the store before going on without it."""


def login_limit_storage(rate_limit_url: str, broker_url: str) -> tuple[str, str]:
    """Where the counts live, and the key prefix that keeps this deployment's apart.

    The setting wins; otherwise the broker's Redis (its own `key_prefix` kept, so deployments
    sharing one Redis share no counts); otherwise memory.
    """
    if rate_limit_url:
        return rate_limit_url, NAMESPACE
    if is_redis_url(broker_url):
        url, prefix = split_key_prefix(broker_url)
        return urlunsplit(urlsplit(url)._replace(query="")), prefix + NAMESPACE
    return MEMORY, NAMESPACE


class LoginLimiter:
    """Failed sign-ins: `per_account` per email and client, `per_client` per client, in any
    `window_seconds`."""

    def __init__(
        self,
        storage_url: str = MEMORY,
        *,
        per_account: int = 5,
        per_client: int = 30,
        window_seconds: int = 300,
        namespace: str = NAMESPACE,
    ) -> None:
        options: dict[str, float | str | bool] = {"key_prefix": namespace}
        if is_redis_url(storage_url):
            options |= {
                "socket_timeout": STORE_TIMEOUT_SECONDS,
                "socket_connect_timeout": STORE_TIMEOUT_SECONDS,
            }
        storage = storage_from_string(storage_url, wrap_exceptions=True, **options)
        self._limiter = MovingWindowRateLimiter(storage)
        self._account = RateLimitItemPerSecond(per_account, window_seconds)
        self._client = RateLimitItemPerSecond(per_client, window_seconds)

    def retry_after(self, email: str, client: str) -> int | None:
        """Seconds until this email and client may try again, or None if they may try now."""
        waits = [
            self._wait(self._account, "account", email, client),
            self._wait(self._client, "client", client),
        ]
        known = [w for w in waits if w is not None]
        return max(known) if known else None

    def failed(self, email: str, client: str) -> None:
        try:
            self._limiter.hit(self._account, "account", email, client)
            self._limiter.hit(self._client, "client", client)
        except StorageError as error:
            log.warning("sign-in limit store unreachable; attempt not counted: %s", error)

    def succeeded(self, email: str, client: str) -> None:
        """A right password clears that account's failures from this client (not the client's)."""
        try:
            self._limiter.clear(self._account, "account", email, client)
        except StorageError as error:
            log.warning("sign-in limit store unreachable; failures not cleared: %s", error)

    def _wait(self, item: RateLimitItemPerSecond, *identifiers: str) -> int | None:
        try:
            stats = self._limiter.get_window_stats(item, *identifiers)
        except StorageError as error:
            log.warning("sign-in limit store unreachable; attempt allowed: %s", error)
            return None
        if stats.remaining > 0:
            return None
        return max(1, math.ceil(stats.reset_time - time.time()))
