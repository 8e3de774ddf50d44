"""Sign-in limits per account as well as per address (issue 21, point 7, second half), through
a real uvicorn that trusts 127.0.0.1 as its proxy, so each request names its own address in
X-Forwarded-For as a school's reverse proxy would."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn

from models.settings import get_settings
from tests.api.conftest import PASSWORD, World
from tests.services import uvicorn_thread
from workers.cli import proxy_options

TOKEN = "/api/v1/auth/token"
NAT = "198.51.100.7"
"""A school's one public address, shared by every teacher behind its NAT."""


@contextmanager
def behind_proxy(monkeypatch: pytest.MonkeyPatch, **env: str) -> Iterator[httpx.Client]:
    """A fresh app (settings from `env`) under uvicorn with `serve`'s proxy options, trusting
    127.0.0.1; the client talks to it over loopback."""
    from api.app import create_app

    monkeypatch.setenv("CLIPCOACH_FORWARDED_ALLOW_IPS", "127.0.0.1")
    for name, value in env.items():
        monkeypatch.setenv(f"CLIPCOACH_{name.upper()}", value)
    get_settings.cache_clear()
    settings = get_settings()
    config = uvicorn.Config(
        create_app(), host="127.0.0.1", port=0, log_level="warning", lifespan="off",
        **proxy_options(settings),
    )  # fmt: skip
    with (
        uvicorn_thread(config) as port,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
    ):
        yield client


def sign_in(client: httpx.Client, email: str, password: str, address: str) -> httpx.Response:
    form = {"username": email, "password": password}
    return client.post(TOKEN, data=form, headers={"X-Forwarded-For": address})


def test_a_nat_address_failing_on_made_up_emails_does_not_lock_out_its_staff(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with behind_proxy(monkeypatch) as client:
        for who in ("mentor", "ect_a"):  # they sign in from school every day
            assert sign_in(client, f"{who}@school.test", PASSWORD, NAT).status_code == 200
        guesses = [
            sign_in(client, f"nobody{i}@school.test", "guess", NAT) for i in range(40)
        ]  # fmt: skip
        codes = [r.status_code for r in guesses]
        mentor = sign_in(client, "mentor@school.test", PASSWORD, NAT)
        ect = sign_in(client, "ect_a@school.test", PASSWORD, NAT)
        stranger = sign_in(client, "nobody99@school.test", "guess", NAT)
        newcomer = sign_in(client, "ect_b@school.test", PASSWORD, NAT)
        elsewhere = sign_in(client, "nobody100@school.test", "guess", "192.0.2.50")
    assert mentor.status_code == 200 and ect.status_code == 200, (mentor.text, ect.text)
    assert codes[:30] == [401] * 30 and set(codes[30:]) == {429}, codes
    assert guesses[-1].json()["code"] == "sign_in_limited_client"
    # The guesser stays stopped at that address, and so (until the window passes) is anyone
    # who has never signed in from it; the limit is the address's alone.
    assert stranger.status_code == 429 and newcomer.status_code == 429
    assert elsewhere.status_code == 401


def test_guesses_at_one_account_from_many_addresses_hit_the_account_limit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with behind_proxy(monkeypatch) as client:
        guesses = [
            sign_in(client, "ect_b@school.test", f"guess {i}", f"203.0.113.{i + 1}")
            for i in range(14)
        ]
        right = sign_in(client, "ect_b@school.test", PASSWORD, "203.0.113.200")
        other = sign_in(client, "ect_a@school.test", PASSWORD, "203.0.113.201")
        audit = client.get(
            "/api/v1/admin/audit?action=auth.failed", headers=world.auth("admin")
        ).json()
    codes = [r.status_code for r in guesses]
    assert codes == [401] * 10 + [429] * 4, codes
    assert {r.json()["code"] for r in guesses[10:]} == {"sign_in_limited_account"}
    assert 0 < int(guesses[-1].headers["retry-after"]) <= 300
    # Even the right password waits (letting it through would say which guess was right) ...
    assert right.status_code == 429 and right.json()["code"] == "sign_in_limited_account"
    # ... but only for that account, and the refused attempts were not counted or audited.
    assert other.status_code == 200
    assert len(audit) == 10
    assert {event["client"] for event in audit} == {f"203.0.113.{i + 1}" for i in range(10)}


def test_a_stranger_locks_an_account_out_for_one_short_window_at_most(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the window is long enough for eight sign-ins (three of them hashing a password) to fit
    # inside it on a loaded machine, and short enough to wait out
    window, limit = 10, 3
    env = {"sign_in_window_seconds": str(window), "sign_in_per_account": str(limit)}
    with behind_proxy(monkeypatch, **env) as client:
        for i in range(limit):
            guess = sign_in(client, "coach@school.test", "guess", f"203.0.113.{i}")
            assert guess.status_code == 401
        locked = [sign_in(client, "coach@school.test", "guess", "203.0.113.99") for _ in range(5)]
        assert {r.status_code for r in locked} == {429}
        waits = [int(r.headers["retry-after"]) for r in locked]
        assert all(1 <= w <= window for w in waits), waits
        time.sleep(max(waits) + 0.2)  # the window passing is what is under test
        back = sign_in(client, "coach@school.test", PASSWORD, "192.0.2.10")
    assert back.status_code == 200, back.text
