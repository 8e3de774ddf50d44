"""Times with an offset mean the instant they name, on SQLite and PostgreSQL; a time without an
offset is refused (issue 21, point 1)."""

from __future__ import annotations

import time
import typing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pydantic
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from api.app import create_app
from models.db import dispose_engines
from models.settings import get_settings
from tests.api.conftest import Media, World, _build_world, _use_data_dir, sign_in_all

EAST, WEST = timezone(timedelta(hours=5)), timezone(timedelta(hours=-5))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def any_world(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    media: Media,
) -> Iterator[World]:
    """The standard world on SQLite, or on a fresh PostgreSQL database."""
    if request.param == "postgres":
        monkeypatch.setenv("CLIPCOACH_DATABASE_URL", request.getfixturevalue("postgres_url"))
    settings = _use_data_dir(monkeypatch, tmp_path / "data")
    users, ids = _build_world(settings, media)
    app = create_app()
    tokens = sign_in_all(settings, users)
    with TestClient(app) as client:
        yield World(settings, app, client, users, tokens, ids)
    dispose_engines()
    get_settings.cache_clear()


def in_feed(world: World, clip_id: str) -> bool:
    r = world.client.get("/api/v1/feed", headers=world.auth("ect_a"))
    assert r.status_code == 200
    return clip_id in {item["clip"]["id"] for item in r.json()}


def share(world: World, clip_id: str, until: str) -> dict[str, typing.Any]:
    r = world.client.post(
        f"/api/v1/clips/{clip_id}/shares", headers=world.auth("mentor"), json={"until": until}
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_share_until_with_an_offset_is_the_instant_it_names(any_world: World) -> None:
    world, clip = any_world, any_world.ids["clip_draft"]
    # West of UTC: two hours from now, written as wall-clock time five hours behind. Stored as
    # bare digits it would be three hours ago: inactive at once while the POST says active.
    instant = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    made = share(world, clip, instant.astimezone(WEST).isoformat())
    assert made["active"] is True
    assert datetime.fromisoformat(made["until"]) == instant
    assert made["until"].endswith(("Z", "+00:00"))
    assert in_feed(world, clip)
    listed = world.client.get(f"/api/v1/clips/{clip}/shares", headers=world.auth("mentor")).json()
    assert [datetime.fromisoformat(s["until"]) for s in listed if s["active"]] == [instant]

    # East of UTC: two seconds from now, written five hours ahead. Stored as bare digits it
    # would last five hours too long.
    soon = datetime.now(UTC) + timedelta(seconds=2)
    made = share(world, clip, soon.astimezone(EAST).isoformat())
    assert abs(datetime.fromisoformat(made["until"]) - soon) < timedelta(milliseconds=1)
    assert in_feed(world, clip)
    time.sleep(2.5)
    assert not in_feed(world, clip)
    r = world.client.get(f"/api/v1/clips/{clip}/media", headers=world.auth("ect_a"))
    assert r.status_code == 404


def test_a_time_without_an_offset_is_422(any_world: World) -> None:
    world = any_world
    r = world.client.post(
        f"/api/v1/clips/{world.ids['clip_draft']}/shares",
        headers=world.auth("mentor"),
        json={"until": (datetime.now(UTC) + timedelta(days=1)).replace(tzinfo=None).isoformat()},
    )
    assert r.status_code == 422
    assert "timezone" in r.text.lower()
    assert not in_feed(world, world.ids["clip_draft"])


def holds_a_datetime(annotation: object) -> bool:
    """Whether a field's type is or contains `datetime` (a calendar `date` has no time zone)."""
    if annotation in (datetime, pydantic.AwareDatetime, pydantic.NaiveDatetime):
        return True
    return any(holds_a_datetime(arg) for arg in typing.get_args(annotation))


def datetime_fields(model: type[pydantic.BaseModel]) -> Iterator[tuple[str, typing.Any]]:
    for name, info in model.model_fields.items():
        if holds_a_datetime(info.annotation):
            yield name, info


def test_every_time_the_api_accepts_requires_an_offset_and_is_converted_to_utc() -> None:
    """The rule for any route, present or future: each datetime a request body or query takes
    refuses a naive value and converts an offset one to UTC."""
    app = create_app()
    checked = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        fields = []
        for param in route.dependant.body_params:
            model = param.field_info.annotation
            if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
                fields += [(model, name) for name, _ in datetime_fields(model)]
        for param in route.dependant.query_params:
            if holds_a_datetime(param.field_info.annotation):
                raise AssertionError(f"{route.path}: query {param.name} is a datetime; check it")
        for model, name in fields:
            adapter = pydantic.TypeAdapter(model)
            with pytest.raises(pydantic.ValidationError):
                adapter.validate_python({name: "2026-12-01T18:00:00"})
            value = getattr(adapter.validate_python({name: "2026-12-01T18:00:00+05:00"}), name)
            assert value == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
            assert value.utcoffset() == timedelta(0)
            checked.append((context.path, name))
    assert ("/api/v1/clips/{clip_id}/shares", "until") in checked
