"""The sign-in limiter: where its counts live, its windows, and that API processes on one Redis
share them (a guesser gains nothing by spreading attempts over processes)."""

from __future__ import annotations

import logging
import time

import pytest
from fastapi.testclient import TestClient

from api.ratelimit import MEMORY, NAMESPACE, Limited, LoginLimiter, login_limit_storage
from models.settings import get_settings
from tests.api.conftest import PASSWORD, World
from tests.services import REDIS_HOST, REDIS_PORT, redis_broker_url  # noqa: F401 - a fixture


@pytest.mark.parametrize(
    ("setting", "broker", "expected"),
    [
        ("", "filesystem://", (MEMORY, NAMESPACE)),
        ("", "sqla+sqlite:///q.db", (MEMORY, NAMESPACE)),
        ("", "redis://:pw@10.0.0.5:6379/0", ("redis://:pw@10.0.0.5:6379/0", NAMESPACE)),
        (
            "",
            "redis://10.0.0.5:6379/2?key_prefix=school-a:&socket_keepalive=true",
            ("redis://10.0.0.5:6379/2", f"school-a:{NAMESPACE}"),
        ),
        ("redis://limits:6379/1", "redis://10.0.0.5:6379/0", ("redis://limits:6379/1", NAMESPACE)),
    ],
)
def test_counts_live_in_the_setting_else_the_broker_redis_else_memory(
    setting: str, broker: str, expected: tuple[str, str]
) -> None:
    assert login_limit_storage(setting, broker) == expected


def test_account_and_client_limit_blocks_only_that_email_from_that_client() -> None:
    limiter = LoginLimiter(per_account=100, per_account_client=3, per_client=100)
    for _ in range(3):
        assert limiter.retry_after("a@school.test", "10.0.0.1") is None
        limiter.failed("a@school.test", "10.0.0.1")
    wait = limiter.retry_after("a@school.test", "10.0.0.1")
    assert wait is not None and 295 <= wait.seconds <= 300
    assert wait.limit is Limited.account
    assert limiter.retry_after("b@school.test", "10.0.0.1") is None
    assert limiter.retry_after("a@school.test", "10.0.0.2") is None


def test_account_limit_spans_clients() -> None:
    limiter = LoginLimiter(per_account=4, per_account_client=100, per_client=100)
    for n in range(4):
        limiter.failed("a@school.test", f"10.0.0.{n}")
    wait = limiter.retry_after("a@school.test", "10.0.9.9")
    assert wait is not None and wait.limit is Limited.account
    assert limiter.retry_after("b@school.test", "10.0.9.9") is None


def test_client_limit_spans_emails_but_spares_accounts_known_at_that_client() -> None:
    limiter = LoginLimiter(per_account=100, per_account_client=100, per_client=4)
    limiter.succeeded("known@school.test", "10.0.0.1")
    for n in range(4):
        limiter.failed(f"user{n}@school.test", "10.0.0.1")
    wait = limiter.retry_after("new@school.test", "10.0.0.1")
    assert wait is not None and wait.limit is Limited.client
    assert limiter.retry_after("known@school.test", "10.0.0.1") is None
    assert limiter.retry_after("new@school.test", "10.0.0.2") is None
    limiter.succeeded("user0@school.test", "10.0.0.1")  # a right password clears no client count
    assert limiter.retry_after("new@school.test", "10.0.0.1") is not None


def test_a_right_password_clears_that_account_failures_from_that_client() -> None:
    limiter = LoginLimiter(per_account=100, per_account_client=2)
    limiter.failed("a@school.test", "c")
    limiter.succeeded("a@school.test", "c")
    limiter.failed("a@school.test", "c")
    assert limiter.retry_after("a@school.test", "c") is None


def test_attempts_stop_counting_when_the_window_has_passed() -> None:
    limiter = LoginLimiter(per_account_client=2, window_seconds=1)
    limiter.failed("a@school.test", "c")
    limiter.failed("a@school.test", "c")
    wait = limiter.retry_after("a@school.test", "c")
    assert wait is not None and wait.seconds == 1
    time.sleep(1.1)
    assert limiter.retry_after("a@school.test", "c") is None


def test_an_unreachable_store_allows_sign_in_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    limiter = LoginLimiter("redis://127.0.0.1:1/0", per_account=1, per_account_client=1)
    with caplog.at_level(logging.WARNING, logger="api.ratelimit"):
        limiter.failed("a@school.test", "c")
        assert limiter.retry_after("a@school.test", "c") is None
        limiter.succeeded("a@school.test", "c")
    assert "sign-in limit store unreachable" in caplog.text


def test_two_api_processes_on_one_redis_share_the_limit(
    world: World,
    redis_broker_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two apps stand for two API processes: the guesses made through each add up."""
    from api.app import create_app

    monkeypatch.setenv("CLIPCOACH_BROKER_URL", redis_broker_url)
    get_settings.cache_clear()
    first, second = TestClient(create_app()), TestClient(create_app())

    def sign_in(client: TestClient, password: str) -> int:
        form = {"username": "ect_a@school.test", "password": password}
        return client.post("/api/v1/auth/token", data=form).status_code

    assert [sign_in(c, "guess") for c in (first, second, first, second, first)] == [401] * 5
    assert sign_in(second, PASSWORD) == 429
    assert sign_in(first, PASSWORD) == 429

    import redis

    prefix = redis_broker_url.split("key_prefix=", 1)[1]
    keys = redis.Redis(REDIS_HOST, REDIS_PORT).keys(f"{prefix}{NAMESPACE}*")
    assert keys, "the counts are not in the broker's Redis under its prefix"
