"""Signing in and out: tokens expire and revoke, failed attempts are rate limited, and the
signing key is generated once with private permissions when none is configured."""

from __future__ import annotations

import stat
from datetime import timedelta

import jwt
import pytest

from models.account import User
from models.accounts import issue_token, secret_key
from models.db import session_scope, utcnow
from models.settings import Settings, get_settings
from tests.api.conftest import PASSWORD, World


def sign_in(world: World, email: str, password: str):  # type: ignore[no-untyped-def]
    return world.client.post("/api/v1/auth/token", data={"username": email, "password": password})


def test_sign_in_me_and_logout(world: World) -> None:
    r = sign_in(world, "ECT_A@school.test ", PASSWORD)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = world.client.get("/api/v1/auth/me", headers=headers).json()
    assert (me["email"], me["role"]) == ("ect_a@school.test", "ect")
    assert [p["name"] for p in me["paired_with"]] == ["Mentor"]
    assert world.client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    r = world.client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401
    assert "revoked" in r.json()["detail"]
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


def test_wrong_password_and_unknown_account_look_the_same(world: World) -> None:
    a = sign_in(world, "ect_a@school.test", "wrong password")
    b = sign_in(world, "nobody@school.test", "wrong password")
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json() == {"detail": "Wrong email or password."}
    assert a.headers["www-authenticate"] == "Bearer"


def test_expired_forged_and_missing_tokens_are_401(world: World) -> None:
    with session_scope(world.settings.database_url) as session:
        user = session.get(User, world.users["ect_a"])
        assert user is not None
        old = issue_token(world.settings, user, now=utcnow() - timedelta(days=2)).token
    forged = jwt.encode(
        {"sub": world.users["admin"], "jti": "x", "exp": 9999999999},
        "a-guessed-key-" * 4,
        algorithm="HS256",
    )
    for headers, words in (
        ({"Authorization": f"Bearer {old}"}, "expired"),
        ({"Authorization": f"Bearer {forged}"}, "not valid"),
        ({"Authorization": "Bearer not-a-jwt"}, "not valid"),
        ({}, "Not signed in"),
    ):
        r = world.client.get("/api/v1/lessons", headers=headers)
        assert r.status_code == 401
        assert words in r.json()["detail"]
        assert r.headers["www-authenticate"].startswith("Bearer")


def test_a_deactivated_account_loses_access_at_once(world: World) -> None:
    r = world.client.patch(
        f"/api/v1/admin/users/{world.users['ect_a']}",
        headers=world.auth("admin"),
        json={"active": False},
    )
    assert r.status_code == 200
    assert world.client.get("/api/v1/auth/me", headers=world.auth("ect_a")).status_code == 401
    assert sign_in(world, "ect_a@school.test", PASSWORD).status_code == 401


def test_failed_sign_ins_are_rate_limited_per_email_and_client(world: World) -> None:
    for _ in range(5):
        assert sign_in(world, "ect_a@school.test", "guess").status_code == 401
    r = sign_in(world, "ect_a@school.test", PASSWORD)
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in r.json()["detail"]
    # another account from the same client is not locked out by these
    assert sign_in(world, "ect_b@school.test", PASSWORD).status_code == 200
    failures = world.client.get(
        "/api/v1/admin/audit", params={"action": "auth.failed"}, headers=world.auth("admin")
    ).json()
    assert len(failures) == 5


def test_secret_key_is_generated_once_with_private_permissions(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLIPCOACH_SECRET_KEY", "")
    get_settings.cache_clear()
    fresh = get_settings()
    key = secret_key(fresh)
    path = fresh.data_dir / "secret_key"
    assert path.read_text() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) >= 32
    from models import accounts

    accounts._stored_key.cache_clear()  # a restarted process reads the same key back
    assert secret_key(fresh) == key
