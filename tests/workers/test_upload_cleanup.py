"""Abandoned resumable uploads: the sweep removes uploads nobody has added to for
`upload_abandon_hours`, with their .part files or their parts in shared (S3) storage, and stray
.part files of that age and stored parts of no upload; it leaves uploads in progress and fresh
files alone."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from models.account import Role, new_id
from models.accounts import create_user
from models.db import session_scope, utcnow
from models.settings import Settings, get_settings
from models.storage import open_storage
from models.upload import (
    Upload,
    part_path,
    parts_prefix,
    remove_abandoned,
    stored_part_key,
    uploads_dir,
)
from tests.services import s3_server, s3_url  # noqa: F401 - fixtures pytest finds by name
from workers import sweep


def _upload(settings: Settings, owner: str, hours_ago: float) -> str:
    with session_scope(settings.database_url) as session:
        upload = Upload(owner_id=owner, filename="lesson.mp4", size=1000, offset=300)
        session.add(upload)
        session.flush()
        upload_id = upload.id
    part_path(settings.data_dir, upload_id).write_bytes(b"x" * 300)
    past = utcnow() - timedelta(hours=hours_ago)
    with session_scope(settings.database_url) as session:
        session.execute(update(Upload).where(Upload.id == upload_id).values(updated_at=past))
    return upload_id


def _age_file(path: os.PathLike[str], hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


@pytest.fixture
def owner(settings: Settings) -> str:
    with session_scope(settings.database_url) as session:
        user, _ = create_user(session, "ect@school.test", "E", Role.ect, "pw-long-enough")
        return user.id


def _remaining(settings: Settings) -> set[str]:
    with session_scope(settings.database_url) as session:
        return set(session.scalars(select(Upload.id)))


def test_old_uploads_and_stray_files_go_fresh_ones_stay(settings: Settings, owner: str) -> None:
    old = _upload(settings, owner, hours_ago=30)
    fresh = _upload(settings, owner, hours_ago=1)
    # An old upload whose .part file went missing still loses its row.
    no_file = _upload(settings, owner, hours_ago=48)
    part_path(settings.data_dir, no_file).unlink()
    folder = uploads_dir(settings.data_dir)
    stray_old = folder / ".multipart-1f-abc.part"  # a multipart request that died mid-way
    stray_old.write_bytes(b"y")
    _age_file(stray_old, 30)
    stray_new = folder / "0123abcd.part"  # written just now, its row maybe not yet committed
    stray_new.write_bytes(b"z")
    # A fresh upload's file may be old (no chunk since, but the row was touched): it stays.
    _age_file(part_path(settings.data_dir, fresh), 30)

    report = remove_abandoned(settings.database_url, settings.data_dir, timedelta(hours=24))

    assert sorted(report.uploads) == sorted([old, no_file])
    assert report.orphans == [stray_old.name]
    assert _remaining(settings) == {fresh}
    assert not part_path(settings.data_dir, old).exists()
    assert part_path(settings.data_dir, fresh).read_bytes() == b"x" * 300
    assert not stray_old.exists() and stray_new.exists()
    # Nothing left to do the second time.
    again = remove_abandoned(settings.database_url, settings.data_dir, timedelta(hours=24))
    assert again.uploads == [] and again.orphans == []


def test_a_chunk_arriving_keeps_its_upload(settings: Settings, owner: str) -> None:
    upload_id = _upload(settings, owner, hours_ago=30)
    with session_scope(settings.database_url) as session:  # a chunk lands: offset and time move
        row = session.get(Upload, upload_id)
        assert row is not None
        row.offset = 600
    report = remove_abandoned(settings.database_url, settings.data_dir, timedelta(hours=24))
    assert report.uploads == []
    assert _remaining(settings) == {upload_id}


def test_the_periodic_sweep_task_removes_abandoned_uploads(
    settings: Settings, owner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers import tasks

    monkeypatch.setenv("CLIPCOACH_UPLOAD_ABANDON_HOURS", "2")
    get_settings.cache_clear()
    monkeypatch.setattr(sweep, "sweep", lambda *a, **k: sweep.SweepReport())
    old = _upload(settings, owner, hours_ago=3)
    kept = _upload(settings, owner, hours_ago=1)
    tasks.sweep_stale()  # the task body, as beat's worker runs it
    assert _remaining(settings) == {kept}
    assert not part_path(settings.data_dir, old).exists()


@pytest.mark.services
def test_stored_parts_of_abandoned_and_unknown_uploads_go(
    settings: Settings,
    owner: str,
    s3_url: str,  # noqa: F811 - the fixture imported above, requested by name
) -> None:
    storage = open_storage(s3_url)
    old = _upload(settings, owner, hours_ago=30)
    fresh = _upload(settings, owner, hours_ago=1)
    gone = new_id()  # its row was removed, a crash before its parts were
    for upload_id in (old, fresh, gone):
        storage.put_bytes(stored_part_key(upload_id, 0, "a1.b2"), b"x" * 200)
        storage.put_bytes(stored_part_key(upload_id, 200, "a1.b3"), b"x" * 100)

    report = remove_abandoned(
        settings.database_url, settings.data_dir, timedelta(hours=24), storage=storage
    )

    assert report.uploads == [old]
    assert report.stored_orphans == [gone]
    assert storage.list_keys(parts_prefix(old)) == []
    assert storage.list_keys(parts_prefix(gone)) == []
    assert len(storage.list_keys(parts_prefix(fresh))) == 2
