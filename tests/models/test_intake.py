"""models.intake: the one way a file becomes a lesson row plus its source object."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.db import session_scope
from models.intake import add_lesson_from_file, default_title
from models.lesson import Lesson
from models.settings import Settings
from models.storage import LocalStorage, open_storage


def test_titles_come_from_the_file_name_whatever_its_path_style() -> None:
    assert default_title("Y8 fractions.mp4") == "Y8 fractions"
    assert default_title("C:\\Users\\ect\\Videos\\Lesson 3.MOV") == "Lesson 3"
    assert default_title("phone/2026-11-24 09.15.mp4") == "2026-11-24 09.15"


def test_a_file_becomes_a_lesson_with_its_source_stored(settings: Settings, tmp_path: Path) -> None:
    recording = tmp_path / "Année 8 – fractions.MP4"
    recording.write_bytes(b"recording bytes")
    storage = open_storage(settings.storage_url)
    with session_scope(settings.database_url) as session:
        lesson = add_lesson_from_file(
            session,
            storage,
            recording,
            filename="C:\\cam\\Année 8 – fractions.MP4\x00",
            extension=".MP4",
            sha256="ab" * 32,
        )
        lesson_id = lesson.id
    with session_scope(settings.database_url) as session:
        stored = session.get(Lesson, lesson_id)
        assert stored is not None
        assert stored.title == "Année 8 – fractions"
        assert stored.source_filename == "C:\\cam\\Année 8 – fractions.MP4"
        assert stored.source_key == f"lessons/{lesson_id}/source.mp4"
        assert stored.source_size == len(b"recording bytes")
        assert stored.transcribe is True and stored.options == {}
        assert stored.owner_id is None
    assert storage.get_bytes(f"lessons/{lesson_id}/source.mp4") == b"recording bytes"
    assert recording.exists(), "the caller's file is left where it was"


def test_a_given_title_and_id_are_kept(settings: Settings, tmp_path: Path) -> None:
    recording = tmp_path / "a.webm"
    recording.write_bytes(b"x")
    storage = open_storage(settings.storage_url)
    with session_scope(settings.database_url) as session:
        lesson = add_lesson_from_file(
            session,
            storage,
            recording,
            filename="a.webm",
            extension=".webm",
            sha256="cd" * 32,
            title="  Year 10 forces  ",
            lesson_id="0123456789abcdef0123456789abcdef",
            options={"language": "cy"},
            transcribe=False,
        )
        assert (lesson.id, lesson.title) == ("0123456789abcdef0123456789abcdef", "Year 10 forces")
        assert lesson.options == {"language": "cy"} and lesson.transcribe is False


class FailingStorage(LocalStorage):
    """Writes half the object, then the store goes away."""

    def put_file(self, key: str, src: Path, content_type: str | None = None) -> None:
        self.put_bytes(key, src.read_bytes()[:1])
        raise OSError(28, "No space left on device")


def test_a_failed_store_adds_nothing_and_leaves_nothing(settings: Settings, tmp_path: Path) -> None:
    recording = tmp_path / "lesson.mp4"
    recording.write_bytes(b"recording")
    storage = FailingStorage(tmp_path / "store")
    with session_scope(settings.database_url) as session:
        with pytest.raises(OSError, match="No space"):
            add_lesson_from_file(
                session,
                storage,
                recording,
                filename="lesson.mp4",
                extension=".mp4",
                sha256="ef" * 32,
            )
        assert not session.new
    with session_scope(settings.database_url) as session:
        assert session.query(Lesson).count() == 0
    assert not any(p.is_file() for p in (tmp_path / "store").rglob("*"))
