"""Failed sign-ins, limited three ways on the `limits` library, so that guessing is slow from one
address or from many, and no stranger can lock a school out.

- **Per account, from any address** (`sign_in_per_account`, 10 in `sign_in_window_seconds`, 5
  minutes): guesses at one account spread over many addresses get 429 once the account has had
  that many failures, whatever the address. Even the right password waits then: letting it through
  would tell a guesser which guess was right (200 instead of 429).
- **Per account and address** (`sign_in_per_account_client`, 5): a teacher's own typos lock only
  that account from that address, well before the account's own limit.
- **Per address** (`sign_in_per_client`, 30): failures on any email from one address. Past it the
  address gets 429 for every account *except* those that signed in correctly from that address in
  the last `sign_in_known_client_days` (30): a school's NAT address failing on made-up emails
  stops the guesser, not the staff who sign in there every day (their own limits above still
  hold). Someone new at that address waits until the window passes.

The lock-out a stranger can cause is bounded: an attempt refused with 429 is not counted, and a
failure stops counting exactly one window after it was made (moving windows), so a lock ends at
most `sign_in_window_seconds` after the last failure; keeping an account locked takes 10 fresh
failures every window from two or more addresses, each one in the audit log (`auth.failed` with
its client). docs/reliability.md says what an admin does about it. A right password clears that
account's failures from that address (not the account's or the address's).

The counts live where every API process sees them: the broker's Redis when the deployment has
one (or `CLIPCOACH_RATE_LIMIT_URL`), so running more processes does not multiply the guesses
allowed; memory on the embedded defaults, which run one API process.

If the store cannot be reached, sign-in goes on without a limit and a warning is logged: locking
every teacher out because Redis restarted would be worse than a few minutes without the limit.
"""

from __future__ import annotations

import enum
import logging
import math
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from models.queue import is_redis_url, split_key_prefix

log = logging.getLogger(__name__)

MEMORY = "memory://"
NAMESPACE = "clipcoach-sign-in"
STORE_TIMEOUT_SECONDS = 1.0
"""A sign-in waits at most this long for the store before going on without it."""


class Limited(enum.StrEnum):
    """Which limit a refused sign-in hit: the stable `code` of its 429."""

    account = "sign_in_limited_account"
    client = "sign_in_limited_client"


@dataclass(frozen=True)
class Wait:
    seconds: int
    limit: Limited


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
    """Failed sign-ins per account, per account and client, and per client (module docstring)."""

    def __init__(
        self,
        storage_url: str = MEMORY,
        *,
        per_account: int = 10,
        per_account_client: int = 5,
        per_client: int = 30,
        window_seconds: int = 300,
        known_client_days: int = 30,
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
        self._account_client = RateLimitItemPerSecond(per_account_client, window_seconds)
        self._client = RateLimitItemPerSecond(per_client, window_seconds)
        self._known = RateLimitItemPerDay(1, known_client_days)
        """One hit marks a right password from this client for this account: "known here"."""

    def retry_after(self, email: str, client: str) -> Wait | None:
        """How long this email must wait at this client, and why; None if it may try now."""
        waits = [
            Wait(w, Limited.account)
            for w in (
                self._wait(self._account, "account", email),
                self._wait(self._account_client, "account-client", email, client),
            )
            if w is not None
        ]
        if not waits:
            wait = self._wait(self._client, "client", client)
            if wait is not None and not self._known_at(email, client):
                waits.append(Wait(wait, Limited.client))
        return max(waits, key=lambda w: w.seconds) if waits else None

    def failed(self, email: str, client: str) -> None:
        try:
            self._limiter.hit(self._account, "account", email)
            self._limiter.hit(self._account_client, "account-client", email, client)
            self._limiter.hit(self._client, "client", client)
        except StorageError as error:
            log.warning("sign-in limit store unreachable; attempt not counted: %s", error)

    def succeeded(self, email: str, client: str) -> None:
        """A right password clears that account's failures from this client, and marks the
        account as known here (past the client's limit it may still sign in from here)."""
        try:
            self._limiter.clear(self._account_client, "account-client", email, client)
            self._limiter.clear(self._known, "known", email, client)
            self._limiter.hit(self._known, "known", email, client)
        except StorageError as error:
            log.warning("sign-in limit store unreachable; success not recorded: %s", error)

    def _known_at(self, email: str, client: str) -> bool:
        try:
            stats = self._limiter.get_window_stats(self._known, "known", email, client)
            return stats.remaining == 0
        except StorageError as error:
            log.warning("sign-in limit store unreachable; attempt allowed: %s", error)
            return True

    def _wait(self, item: RateLimitItem, *identifiers: str) -> int | None:
        try:
            stats = self._limiter.get_window_stats(item, *identifiers)
        except StorageError as error:
            log.warning("sign-in limit store unreachable; attempt allowed: %s", error)
            return None
        if stats.remaining > 0:
            return None
        return max(1, math.ceil(stats.reset_time - time.time()))
