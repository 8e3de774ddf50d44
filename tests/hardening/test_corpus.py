"""Every case of the bad-input corpus through the real path, with the outcome it promises.

Recordings go through the workers' own stage code (`workers.runner.execute_stage`, storage, status
rows, scratch space, the real tiny.en model); names and sizes go through the API upload routes
and the `clipcoach process` CLI. After each case: the lesson is `ready` or `failed` (never left
queued or running), a failure keeps nothing but the uploaded source, and neither storage nor
scratch holds a temporary or half-written file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.db import session_scope
from models.lesson import Lesson, LessonStatus
from models.settings import Settings
from models.upload import Upload
from tests import mediafactory as mf
from tests.api.conftest import MAX_UPLOAD, World, asgi_request
from tests.hardening.conftest import leftovers, process
from tests.hardening.corpus import CASES, NAME_CASES, Case, generate

TRANSCRIPTS = {"transcript.json", "transcript.vtt", "transcript.srt", "transcript.txt"}
SOURCE_ONLY = {"source"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    generate(out)
    return out


def _ffprobe(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(mf.ffprobe_json(path, "-show_streams", "-show_format"))


def check_case(case: Case, settings: Settings, source: Path) -> float:
    started = time.monotonic()
    done = process(settings, source)
    elapsed = time.monotonic() - started
    expect = case.expect

    assert not done.crashed, f"{case.name}: stage crashed (a bug): {done.crashed}"
    # nothing left queued or running: a failure leaves later stages pending, never started
    assert not {"queued", "running"} & set(done.stages.values()), done.stages
    assert leftovers(settings.data_dir) == []
    assert not any(settings.scratch.iterdir()), "scratch space not cleaned"
    if not expect.ok:
        assert done.status == LessonStatus.failed, (case.name, done)
        assert (done.failed_stage, done.error_code) == (expect.stage, expect.code), done
        assert done.error_message and "Traceback" not in done.error_message
        assert "ffmpeg" not in done.error_message.lower() or expect.code == "not_media"
        # a refusal keeps the upload (so it can be fetched again) and makes nothing else
        assert {k.split(".")[0] for k in done.keys} == SOURCE_ONLY, done.keys
        return elapsed

    assert done.status == LessonStatus.ready, (case.name, done)
    assert expect.media in done.keys, done.keys
    assert ("lesson.m4a" if expect.media == "lesson.mp4" else "lesson.mp4") not in done.keys
    assert (TRANSCRIPTS <= done.keys) == expect.transcript, done.keys
    if expect.warning:
        assert any(expect.warning in w for w in done.warnings), done.warnings
    from models.storage import open_storage

    storage = open_storage(settings.storage_url)
    media = storage.local_path(f"lessons/{done.lesson_id}/{expect.media}")
    assert media is not None
    info = _ffprobe(media)
    assert float(info["format"]["duration"]) > 0
    if expect.transcript:
        transcript = json.loads(storage.get_bytes(f"lessons/{done.lesson_id}/transcript.json"))
        words = [w for s in transcript["segments"] for w in s["words"]]
        assert bool(words) == expect.words, (case.name, transcript)
    if case.name == "rotated_90":
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        assert (video["width"], video["height"]) == (240, 320)
    return elapsed


@pytest.mark.model
@pytest.mark.parametrize("case", [c for c in CASES if not c.long], ids=lambda c: c.name)
def test_corpus_case(case: Case, corpus: Path, settings: Settings) -> None:
    check_case(case, settings, corpus / case.name / case.filename)


@pytest.mark.slow
@pytest.mark.model
def test_three_hours_of_silence_is_quick(tmp_path: Path, settings: Settings) -> None:
    """Three hours of nothing: a lesson with an empty transcript, and no three-hour wait."""
    (case,) = [c for c in CASES if c.long]
    source = tmp_path / case.filename
    case.make(source)
    elapsed = check_case(case, settings, source)
    assert elapsed < 600, f"three hours of silence took {elapsed:.0f} s"


def test_corpus_has_every_kind_the_issue_lists() -> None:
    names = {c.name for c in CASES}
    assert len(CASES) + len(NAME_CASES) + 1 >= 25
    for needed in ("zero_bytes", "random_bytes", "text_renamed", "pdf_renamed", "jpeg_renamed",
                   "missing_index", "audio_only", "video_only", "one_frame", "zero_seconds",
                   "absurd_dimensions_y4m", "corrupt_mid_mdat", "variable_frame_rate",
                   "rotated_90", "eight_khz_mono", "six_channels",
                   "three_hour_silence"):  # fmt: skip
        assert needed in names
    for pct in (10, 50, 90):
        assert {f"truncated_{pct}_moov_end", f"truncated_{pct}_faststart"} <= names


def test_docs_table_matches_the_corpus() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "reliability.md").read_text()
    for case in CASES:
        row = next((line for line in doc.splitlines() if f"`{case.name}`" in line), None)
        assert row is not None, f"{case.name} missing from docs/reliability.md"
        assert case.expect.describe() in row, (case.name, case.expect.describe(), row)
    for name_case in NAME_CASES:
        assert f"`{name_case.name}`" in doc


# -- names and sizes through the API -----------------------------------------------------------


def _count(world: World, model: type) -> int:  # type: ignore[type-arg]
    with session_scope(world.settings.database_url) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _files_outside_storage(world: World) -> set[Path]:
    data = world.settings.data_dir
    return {
        p
        for p in data.rglob("*")
        if p.is_file() and not p.is_relative_to(data / "storage") and p.suffix != ".db"
        and not p.name.startswith("clipcoach.db")
    }  # fmt: skip


@pytest.mark.parametrize("name_case", NAME_CASES, ids=lambda c: c.name)
def test_upload_names(
    name_case,
    world: World,
    media,
    inline_queue,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    before = _files_outside_storage(world)
    data = media.clip.read_bytes()
    for how in ("multipart", "chunked"):
        if how == "multipart":
            r = world.client.post(
                "/api/v1/lessons",
                headers=world.auth("ect_a"),
                files={"file": (name_case.filename, data, "video/mp4")},
            )
        else:
            r = world.client.post(
                "/api/v1/uploads",
                headers=world.auth("ect_a"),
                json={"filename": name_case.filename, "size": len(data)},
            )
            if r.status_code == 422:
                # a resumable upload declares its name up front; the schema caps it at 1024
                assert len(name_case.filename) > 1024 and "1024" in r.text, r.text
                continue
            assert r.status_code == 201, r.text
            upload = r.json()["id"]
            r = world.client.patch(
                f"/api/v1/uploads/{upload}",
                headers={**world.auth("ect_a"), "Upload-Offset": "0",
                         "Content-Type": "application/offset+octet-stream"},
                content=data,
            )  # fmt: skip
            assert r.status_code == 200, r.text
            r = world.client.post(
                "/api/v1/lessons", headers=world.auth("ect_a"), json={"upload_id": upload}
            )
        assert r.status_code == 201, (how, r.text)
        lesson = r.json()
        with session_scope(world.settings.database_url) as session:
            row = session.get(Lesson, lesson["id"])
            assert row is not None
            assert row.source_key == f"lessons/{row.id}/source.mp4"
            sent = name_case.filename
            if (
                how == "multipart"
            ):  # the client escapes quotes in a multipart header (as browsers do)
                sent = sent.replace('"', "%22")
            assert row.source_filename == sent[:1024]
            assert 0 < len(row.title) <= 300
        assert world.storage.exists(row.source_key)
    inline_queue.join()
    assert _files_outside_storage(world) == before, "a file appeared outside storage"
    assert not list(tmp_path.parent.rglob("passwd.mp4"))
    assert leftovers(world.settings.data_dir / "storage") == []


def test_upload_over_the_limit_is_refused_while_streaming(world: World) -> None:
    """A multipart body with no Content-Length: 413 once the limit is passed, long before the end
    of the body, and nothing kept; a chunked upload declaring too much is refused before a byte."""
    lessons, uploads = _count(world, Lesson), _count(world, Upload)
    block = b"\0" * (1024 * 1024)
    total_blocks = 3 * MAX_UPLOAD // len(block)
    head = (
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        b"Content-Type: video/mp4\r\n\r\n"
    )
    chunks = [head, *([block] * total_blocks)]
    status, body, pulled = asgi_request(
        world, "POST", "/api/v1/lessons",
        {**world.auth("ect_a"), "content-type": "multipart/form-data; boundary=XyZ"}, chunks,
    )  # fmt: skip
    assert status == 413, body
    assert pulled <= MAX_UPLOAD // len(block) + 3, f"read {pulled} of {len(chunks)} chunks"
    assert "detail" in json.loads(body)

    r = world.client.post(
        "/api/v1/uploads",
        headers=world.auth("ect_a"),
        json={"filename": "big.mp4", "size": MAX_UPLOAD + 1},
    )
    assert r.status_code == 413 and "MB" in r.json()["detail"]
    assert (_count(world, Lesson), _count(world, Upload)) == (lessons, uploads)
    uploads_dir = world.settings.data_dir / "uploads"
    assert sorted(p.name for p in uploads_dir.iterdir()) == [f"{world.ids['upload_a']}.part"]
    assert leftovers(world.settings.data_dir / "storage") == []


# -- names through the CLI ---------------------------------------------------------------------

CLI_NAMES = ["Year 7 maths lesson.m4a", "Mr O'Brien's \"best\" lesson.m4a",
             "Leçon d'été – Zoë 数学.m4a", "l" * 240 + ".m4a"]  # fmt: skip


@pytest.mark.model
def test_cli_process_takes_awkward_names(tmp_path: Path) -> None:
    clipcoach = Path(sys.executable).with_name("clipcoach")
    tone = tmp_path / "tone.m4a"
    mf.make_tone(tone, duration=2.0)
    for i, name in enumerate(CLI_NAMES):
        folder = tmp_path / f"in{i}"
        folder.mkdir()
        source = folder / name
        source.write_bytes(tone.read_bytes())
        out = tmp_path / f"out {i} é"
        proc = subprocess.run(
            [str(clipcoach), "process", str(source), "--out", str(out)],
            capture_output=True, timeout=180, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, (name, proc.stderr.decode()[-2000:])
        assert {"lesson.m4a", "transcript.vtt", "segments.json"} <= {p.name for p in out.iterdir()}
        assert leftovers(out) == []
    # and a name that is not a recording gets a one-line reason, no traceback
    fake = tmp_path / "../" / "notes 'final'.mp4"
    mf.write_text(fake)
    proc = subprocess.run(
        [str(clipcoach), "process", str(fake), "--out", str(tmp_path / "bad")],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    fake.unlink()
    assert proc.returncode != 0
    assert b"Traceback" not in proc.stderr + proc.stdout
    assert b"text file" in proc.stderr + proc.stdout
