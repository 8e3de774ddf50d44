"""A sliding-window limit on failed sign-ins, per email and client and per client alone.

In-process: with several API processes each keeps its own window, which still caps guessing at
(processes x limit) per window. Good enough for a school's deployment; a shared store would be
the next step.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def retry_after(self, key: str) -> int | None:
        """Seconds until `key` may try again, or None if it may try now."""
        with self._lock:
            now = self.clock()
            hits = self._recent(key, now)
            if len(hits) < self.limit:
                if not hits:
                    self._hits.pop(key, None)
                return None
            return max(1, math.ceil(hits[0] + self.window - now))

    def hit(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            self._recent(key, now).append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)


class LoginLimiter:
    """Failed sign-ins: 5 per email and client, 30 per client, in any 5 minutes."""

    def __init__(self, per_account: int = 5, per_client: int = 30, window: float = 300.0) -> None:
        self.account = SlidingWindow(per_account, window)
        self.client = SlidingWindow(per_client, window)

    def retry_after(self, email: str, client: str) -> int | None:
        waits = [
            w
            for w in (
                self.account.retry_after(f"{email}|{client}"),
                self.client.retry_after(client),
            )
            if w is not None
        ]
        return max(waits) if waits else None

    def failed(self, email: str, client: str) -> None:
        self.account.hit(f"{email}|{client}")
        self.client.hit(client)

    def succeeded(self, email: str, client: str) -> None:
        self.account.reset(f"{email}|{client}")
