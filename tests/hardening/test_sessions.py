"""Deactivation, reactivation, a password reset and a role change end every earlier session and
media link of that user, over HTTP (issue 21, point 2)."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import PASSWORD, World

NEW_PASSWORD = "a brand new password"


def sign_in(world: World, password: str = PASSWORD) -> dict[str, str]:
    r = world.client.post(
        "/api/v1/auth/token", data={"username": "ect_a@school.test", "password": password}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def media_link(world: World, headers: dict[str, str]) -> str:
    r = world.client.get(f"/api/v1/lessons/{world.ids['lesson_a']}/media-links", headers=headers)
    assert r.status_code == 200
    link = r.json()["media"]
    assert world.client.get(link).status_code in (200, 206)
    return str(link)


def admin_update(world: World, **change: Any) -> None:
    r = world.client.patch(
        f"/api/v1/admin/users/{world.users['ect_a']}", headers=world.auth("admin"), json=change
    )
    assert r.status_code == 200, r.text


def ended(world: World, headers: dict[str, str], link: str) -> bool:
    me = world.client.get("/api/v1/auth/me", headers=headers).status_code
    media = world.client.get(link).status_code
    return me == 401 and media == 401


def test_account_changes_end_earlier_sessions_and_media_links(world: World) -> None:
    # deactivated, then reactivated: the session from before stays ended
    before = sign_in(world)
    link = media_link(world, before)
    admin_update(world, active=False)
    assert ended(world, before, link)
    admin_update(world, active=True)
    assert ended(world, before, link)

    # a password reset by the admin
    session = sign_in(world)
    link = media_link(world, session)
    admin_update(world, password=NEW_PASSWORD)
    assert ended(world, session, link)

    # a role change
    session = sign_in(world, NEW_PASSWORD)
    link = media_link(world, session)
    admin_update(world, name="Still An ECT")  # a name change ends nothing
    assert world.client.get("/api/v1/auth/me", headers=session).status_code == 200
    admin_update(world, role="coach")
    assert ended(world, session, link)

    # and the account works again with a fresh sign-in
    fresh = sign_in(world, NEW_PASSWORD)
    assert world.client.get("/api/v1/auth/me", headers=fresh).json()["role"] == "coach"


def test_a_session_from_before_a_reactivation_through_the_cli(world: World) -> None:
    from typer.testing import CliRunner

    from workers.cli import app as cli

    session = sign_in(world)
    link = media_link(world, session)
    runner = CliRunner()
    for command in ("deactivate", "reactivate"):
        result = runner.invoke(cli, ["users", command, "ect_a@school.test"])
        assert result.exit_code == 0, result.output
    assert ended(world, session, link)
    result = runner.invoke(cli, ["users", "reset-password", "ect_a@school.test"])
    assert result.exit_code == 0, result.output
    password = result.output.split("password:")[-1].strip()
    session = sign_in(world, password)
    assert world.client.get("/api/v1/auth/me", headers=session).status_code == 200
