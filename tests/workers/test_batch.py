"""`clipcoach batch`: finding recordings, reporting bad ones, skipping done work, resuming a kill.

The end-to-end tests run the real command in a subprocess with a real Celery worker on the
embedded filesystem broker and the real tiny.en model, over clips of a few seconds, and count
lesson rows and stage attempts in the database to prove what was (not) processed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pytest
from sqlalchemy import func, select

from models.db import session_scope
from models.lesson import Lesson, LessonStage, LessonStatus
from models.queue import PROCESS_LESSON, InProcessQueue
from models.settings import Settings
from models.storage import open_storage
from pipeline.captions import FORMATS
from tests import mediafactory
from workers.batch import BatchOptions, BatchRun, RunItem, find_recordings
from workers.batch.discovery import sniff_media
from workers.batch.launch import worker_commands
from workers.batch.manifest import MANIFEST_NAME

RUN_TIMEOUT = 150.0

PHRASES = {
    "fractions": "Today we are learning about fractions.",
    "partner": "Talk to your partner about the answer.",
    "homework": "Your homework is on page twelve.",
    "science": "Put your goggles on for the science experiment.",
}
KEYWORDS = {
    "fractions": "fractions",
    "partner": "partner",
    "homework": "page",
    "science": "science",
}
"""A word of each phrase that tiny.en writes as spoken ("homework" may come out "home work")."""


# ---------------------------------------------------------------------------------------------
# Finding recordings (no workers)


@pytest.mark.parametrize(
    ("name", "maker", "is_media"),
    [
        ("a.mp4", lambda p: mediafactory.make_video(p, duration=0.5), True),
        ("a.mkv", lambda p: mediafactory.make_video(p, duration=0.5), True),
        ("a.wav", lambda p: mediafactory.make_tone(p, duration=0.5, acodec="pcm"), True),
        ("a.mp3", lambda p: mediafactory.make_tone(p, duration=0.5, acodec="mp3"), True),
        ("a.ogg", lambda p: mediafactory.make_tone(p, duration=0.5, acodec="vorbis"), True),
        ("a.flac", lambda p: mediafactory.make_tone(p, duration=0.5, acodec="flac"), True),
        ("a.pdf", mediafactory.write_pdf, False),
        ("a.txt", mediafactory.write_text, False),
        ("a.bin", mediafactory.write_random, False),
        ("a.empty", lambda p: p.write_bytes(b""), False),
    ],
)
def test_sniff_media_knows_containers_by_their_first_bytes(
    tmp_path: Path, name: str, maker: object, is_media: bool
) -> None:
    path = tmp_path / name
    maker(path)  # type: ignore[operator]
    assert sniff_media(path.read_bytes()[:200]) is is_media


def test_find_recordings_mirrors_the_tree_and_takes_media_by_suffix_or_content(
    tmp_path: Path,
) -> None:
    root = tmp_path / "in"
    (root / "year7" / "deep").mkdir(parents=True)
    (root / ".cache").mkdir()
    mediafactory.make_tone(root / "lesson.mp4", duration=0.5)
    mediafactory.make_tone(root / "lesson.m4a", duration=0.5)  # same stem: suffixes kept
    mediafactory.write_pdf(root / "renamed.mov")  # media suffix: taken, fails later with a reason
    mediafactory.write_text(root / "plan.txt")  # not media by suffix or content: left out
    mediafactory.make_tone(root / "year7" / "clip.m4a", duration=0.5)
    (root / "year7" / "clip.m4a").rename(root / "year7" / "CAMERA01")  # no suffix: sniffed
    mediafactory.make_tone(root / "year7" / "deep" / "b.wav", duration=0.5, acodec="pcm")
    mediafactory.make_tone(root / ".cache" / "hidden.mp4", duration=0.5)
    out = root / "transcripts"  # output inside the input: never read back as input
    out.mkdir()
    mediafactory.make_tone(out / "old.mp4", duration=0.5)

    flat = {str(r.rel): str(r.out_stem) for r in find_recordings([root], out=out)}
    assert flat == {
        "lesson.m4a": "lesson.m4a",
        "lesson.mp4": "lesson.mp4",
        "renamed.mov": "renamed",
    }

    deep = {str(r.rel): str(r.out_stem) for r in find_recordings([root], recursive=True, out=out)}
    assert deep == {
        **flat,
        "year7/CAMERA01": "year7/CAMERA01",
        "year7/deep/b.wav": "year7/deep/b",
    }

    # Several arguments: each folder keeps its name, a named file is taken whatever it is.
    both = find_recordings([root / "year7", root / "plan.txt"], recursive=True)
    assert {str(r.rel) for r in both} == {"year7/CAMERA01", "year7/deep/b.wav", "plan.txt"}
    assert all(r.output(tmp_path, "vtt").suffix == ".vtt" for r in both)
    assert next(r for r in both if r.rel.name == "b.wav").output(tmp_path, "srt") == (
        tmp_path / "year7" / "deep" / "b.srt"
    )
    assert PurePosixPath("year7/deep/b") in {r.out_stem for r in both}


def test_the_batch_starts_serve_s_pool_and_a_sweep_with_a_beat_schedule_of_its_own(
    tmp_path: Path,
) -> None:
    """Beside a `clipcoach serve` on the same data folder: its own host names and schedule file."""
    schedule = tmp_path / "logs" / ".batch-beat-1"

    pool, sweeper = worker_commands(3, schedule)

    def option(command: list[str], name: str) -> str:
        return command[command.index(name) + 1]

    assert option(pool, "--queues") == "media,transcribe"
    assert option(pool, "--concurrency") == "3" and "--beat" not in pool
    assert option(sweeper, "--queues") == "maintenance"
    assert option(sweeper, "--concurrency") == "1" and "--beat" in sweeper
    assert option(sweeper, "--schedule") == str(schedule)
    assert schedule.parent.is_dir()
    hosts = {option(pool, "--hostname"), option(sweeper, "--hostname")}
    assert len(hosts) == 2 and all(h.startswith("batch-") for h in hosts)


# ---------------------------------------------------------------------------------------------
# The command, end to end


def _spoken_clip(path: Path, phrase: str) -> None:
    wav = path.with_suffix(".speech.wav")
    mediafactory.make_speech(wav, [phrase], pause=0.3, lead=0.3)
    if path.suffix == ".wav":
        wav.rename(path)
    else:
        mediafactory.add_video_to_audio(wav, path)
        wav.unlink()


def _batch(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "workers.cli", "batch", *map(str, args)]


def _run(settings: Settings, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLIPCOACH_DATA_DIR": str(settings.data_dir)}
    return subprocess.run(
        _batch(*args), env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )


def _lesson_counts(settings: Settings) -> tuple[int, int]:
    """(lesson rows, stage attempts over all lessons): any new processing raises one of them."""
    with session_scope(settings.database_url) as session:
        lessons = session.scalar(select(func.count()).select_from(Lesson)) or 0
        attempts = session.scalar(select(func.coalesce(func.sum(LessonStage.attempts), 0))) or 0
    return int(lessons), int(attempts)


def _attempts_by_lesson(settings: Settings) -> dict[str, int]:
    with session_scope(settings.database_url) as session:
        rows = session.execute(
            select(LessonStage.lesson_id, func.sum(LessonStage.attempts)).group_by(
                LessonStage.lesson_id
            )
        ).all()
    return {lesson_id: int(total) for lesson_id, total in rows}


def _summary_line(stdout: str, name: str) -> str:
    lines = [line for line in stdout.splitlines() if f" {name} " in line]
    assert len(lines) == 1, f"expected one summary row for {name}:\n{stdout}"
    return lines[0]


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    root = tmp_path / "recordings"
    (root / "week2").mkdir(parents=True)
    _spoken_clip(root / "fractions.mp4", PHRASES["fractions"])
    _spoken_clip(root / "week2" / "partner.wav", PHRASES["partner"])  # audio-only, nested
    mediafactory.write_pdf(root / "broken.mp4")
    (root / "week2" / "empty.mp4").write_bytes(b"")
    mediafactory.write_text(root / "week2" / "notes.txt")  # not a recording: not taken
    return root


@pytest.mark.model
def test_batch_reports_bad_files_writes_transcripts_and_skips_done_work_on_rerun(
    settings: Settings, mixed_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = (mixed_folder, "--recursive", "--out", out, "--formats", "vtt,srt,json,txt")

    first = _run(settings, *args, "--workers", "2")

    assert first.returncode == 1, first.stderr  # some files failed
    assert "not_media" in _summary_line(first.stdout, "broken.mp4")
    assert "PDF" in _summary_line(first.stdout, "broken.mp4")
    assert "empty_file" in _summary_line(first.stdout, "week2/empty.mp4")
    for name in ("fractions.mp4", "week2/partner.wav"):
        assert "done" in _summary_line(first.stdout, name)
    assert "notes.txt" not in first.stdout
    for stem, word in (("fractions", "fractions"), ("week2/partner", "partner")):
        for fmt in ("vtt", "srt", "json", "txt"):
            assert (out / f"{stem}.{fmt}").is_file(), f"missing {stem}.{fmt}"
        assert word in (out / f"{stem}.txt").read_text().lower()
        assert json.loads((out / f"{stem}.json").read_text())["segments"]
        assert (out / f"{stem}.vtt").read_text().startswith("WEBVTT")
    assert not (out / "broken.vtt").exists() and not (out / "week2" / "empty.vtt").exists()
    before = _lesson_counts(settings)
    assert before[0] == 4
    worker_log = settings.data_dir / "logs" / "batch-worker.log"
    started = worker_log.read_text().count(" ready.")
    assert started == 2, "the lesson pool and the sweep's worker"

    second = _run(settings, *args, "--workers", "2")

    assert second.returncode == 1, second.stderr  # the bad files are still bad
    for name in ("fractions.mp4", "week2/partner.wav"):
        assert "skipped (already done)" in _summary_line(second.stdout, name)
    assert "not_media" in _summary_line(second.stdout, "broken.mp4")
    assert "empty_file" in _summary_line(second.stdout, "week2/empty.mp4")
    assert _lesson_counts(settings) == before, "the re-run processed something again"
    assert worker_log.read_text().count(" ready.") == started, (
        "the re-run started workers it had no use for"
    )


def _children(pid: int) -> set[int]:
    """Every process under `pid`, read from /proc (the batch's worker and its pool)."""
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        # Short-lived tools (ffprobe) come and go while we look: any of these reads may find the
        # process gone (ENOENT, or ESRCH mid-read), so each is guarded, the listing included.
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                kids = {
                    int(k) for k in Path(f"/proc/{parent}/task/{task}/children").read_text().split()
                }
            except OSError:
                continue
            frontier.extend(kids - found)
            found |= kids
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone: ENOENT, or ESRCH when it exits while we read
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _done_in_manifest(out: Path) -> dict[str, str]:
    """Checksum -> lesson id of every file the manifest records as done."""
    try:
        entries = json.loads((out / MANIFEST_NAME).read_text())["entries"]
    except (FileNotFoundError, ValueError):
        return {}
    return {sha: e["lesson_id"] for sha, e in entries.items() if e.get("state") == "done"}


@pytest.fixture
def spoken_folder(tmp_path: Path) -> Path:
    root = tmp_path / "recordings"
    root.mkdir()
    for name, phrase in PHRASES.items():
        _spoken_clip(root / f"{name}.mp4", phrase)
    return root


@pytest.mark.model
def test_killed_batch_resumes_without_redoing_finished_files(
    settings: Settings, spoken_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = (spoken_folder, "--out", out, "--formats", "vtt,txt", "--workers", "1")
    env = {**os.environ, "CLIPCOACH_DATA_DIR": str(settings.data_dir)}
    log = open(tmp_path / "first-run.log", "wb")  # noqa: SIM115 - closed in the finally
    proc = subprocess.Popen(_batch(*args, "--in-flight", "2"), env=env, stdout=log, stderr=log)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while not _done_in_manifest(out):
            assert proc.poll() is None, (tmp_path / "first-run.log").read_text()
            assert time.monotonic() < deadline, "no file finished in time"
            workers |= _children(proc.pid)
            time.sleep(0.05)
        workers |= _children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        finished = _done_in_manifest(out)
        assert 1 <= len(finished) < len(PHRASES), f"kill came too late: {finished}"
        assert workers, "the batch started no worker processes"
        # The workers die with the batch (warm shutdown: a running stage may finish first).
        stop_by = time.monotonic() + 60
        while any(_alive(pid) for pid in workers) and time.monotonic() < stop_by:
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in workers), "workers outlived the killed batch"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        log.close()

    attempts_before = _attempts_by_lesson(settings)
    lessons_before, _ = _lesson_counts(settings)
    assert lessons_before <= len(PHRASES)

    resumed = _run(settings, *args)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    for name in PHRASES:
        assert (out / f"{name}.vtt").is_file() and (out / f"{name}.txt").is_file()
        assert KEYWORDS[name] in (out / f"{name}.txt").read_text().lower()
    skipped = [
        n for n in PHRASES if "skipped (already done)" in _summary_line(resumed.stdout, f"{n}.mp4")
    ]
    assert len(skipped) == len(finished), resumed.stdout
    after = _attempts_by_lesson(settings)
    for lesson_id in finished.values():
        assert after[lesson_id] == attempts_before[lesson_id], "a finished lesson ran again"
    # Lessons begun before the kill were picked up, not started over as new lessons.
    lessons_after, _ = _lesson_counts(settings)
    assert lessons_after == len(PHRASES)
    assert len(_done_in_manifest(out)) == len(PHRASES)


# ---------------------------------------------------------------------------------------------
# Planning and resume decisions, with an in-process stand-in for the queue and workers


class InstantWorker:
    """Does a lesson's work the moment its task runs: the transcripts appear in storage and then
    the row goes ready (or failed), in that order, as the real stages leave them."""

    def __init__(self, settings: Settings, fail: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.storage = open_storage(settings.storage_url)
        self.fail = fail or {}
        self.sent: list[str] = []

    def __call__(self, lesson_id: str) -> None:
        self.sent.append(lesson_id)
        with session_scope(self.settings.database_url) as session:
            lesson = session.get(Lesson, lesson_id)
            assert lesson is not None, "sent before the lesson row existed"
            name = lesson.source_filename
            code = self.fail.get(name)
            if code:
                lesson.status, lesson.error_code, lesson.error_message = (
                    LessonStatus.failed,
                    code,
                    f"{code} message",
                )
                return
        for fmt in FORMATS:
            self.storage.put_bytes(
                f"lessons/{lesson_id}/transcript.{fmt}", f"{fmt} of {name}".encode()
            )
        with session_scope(self.settings.database_url) as session:
            lesson = session.get(Lesson, lesson_id)
            assert lesson is not None
            lesson.status, lesson.progress = LessonStatus.ready, 100

    def queue(self) -> InProcessQueue:
        """The task queue the batch sends to, running PROCESS_LESSON with this worker."""
        return InProcessQueue(handlers={PROCESS_LESSON: self})


def _stuck(queue: InProcessQueue) -> Callable[[], str | None]:
    """The run's `alive`: a task nothing here runs, or a handler that raised, ends the run with
    the reason (a BatchError) instead of leaving it waiting for a lesson that never moves."""

    def problem() -> str | None:
        if queue.errors:
            return f"the stand-in worker failed: {queue.errors[0]!r}"
        unhandled = sorted({name for name, _ in queue.sent if name not in queue.handlers})
        return f"sent tasks no worker here runs: {unhandled}" if unhandled else None

    return problem


def _batch_over(
    settings: Settings, folder: Path, out: Path, worker: InstantWorker, **options: object
) -> list[RunItem]:
    queue = worker.queue()
    runner = BatchRun(
        settings,
        open_storage(settings.storage_url),
        find_recordings([folder], recursive=True),
        out,
        BatchOptions(poll_interval=0.01, **options),  # type: ignore[arg-type]
        queue=queue,
        alive=_stuck(queue),
    )
    return runner.run()


def _states(items: list[RunItem]) -> dict[str, str]:
    return {str(i.recording.rel): i.state.value for i in items}


def test_identical_recordings_share_one_lesson_and_each_gets_its_transcripts(
    settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    (folder / "copy").mkdir(parents=True)
    (folder / "a.mp4").write_bytes(b"same bytes")
    (folder / "copy" / "a.mp4").write_bytes(b"same bytes")
    worker = InstantWorker(settings)

    items = _batch_over(settings, folder, tmp_path / "out", worker, formats=("vtt", "txt"))

    assert _states(items) == {"a.mp4": "done", "copy/a.mp4": "done"}
    assert len(worker.sent) == 1
    assert (tmp_path / "out" / "a.vtt").read_text() == "vtt of a.mp4"
    assert (tmp_path / "out" / "copy" / "a.txt").read_text() == "txt of a.mp4"
    assert not (tmp_path / "out" / "a.srt").exists()


def test_rerun_writes_new_formats_from_the_finished_lesson_without_processing(
    settings: Settings, tmp_path: Path
) -> None:
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(b"lesson a")
    worker = InstantWorker(settings)
    _batch_over(settings, folder, out, worker, formats=("vtt",))
    (out / "a.vtt").unlink()  # a coach tidied up

    items = _batch_over(settings, folder, out, worker, formats=("vtt", "srt"))

    assert len(worker.sent) == 1
    assert _states(items) == {"a.mp4": "done"}
    assert (out / "a.vtt").is_file() and (out / "a.srt").is_file()
    items = _batch_over(settings, folder, out, worker, formats=("vtt", "srt"))
    assert _states(items) == {"a.mp4": "skipped"} and len(worker.sent) == 1


def test_options_are_part_of_done_a_new_language_processes_again(
    settings: Settings, tmp_path: Path
) -> None:
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(b"lesson a")
    worker = InstantWorker(settings)
    _batch_over(settings, folder, out, worker)

    _batch_over(settings, folder, out, worker, language="fr", vocabulary=("SENCO",))

    assert len(worker.sent) == 2
    with session_scope(settings.database_url) as session:
        lesson = session.get(Lesson, worker.sent[1])
        assert lesson is not None
        assert lesson.options == {"language": "fr", "vocabulary": ["SENCO"]}


def test_run_killed_before_the_lesson_row_was_written_reuses_the_chosen_id(
    settings: Settings, tmp_path: Path
) -> None:
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    out.mkdir()
    (folder / "a.mp4").write_bytes(b"lesson a")
    sha = hashlib.sha256(b"lesson a").hexdigest()
    (out / MANIFEST_NAME).write_text(
        json.dumps(
            {
                "version": 1,
                "checksums": {},
                "entries": {sha: {"lesson_id": "f" * 32, "state": "created", "options": "{}"}},
            }
        )
    )
    worker = InstantWorker(settings)

    items = _batch_over(settings, folder, out, worker)

    assert worker.sent == ["f" * 32]
    assert _states(items) == {"a.mp4": "done"}
    assert _lesson_counts(settings)[0] == 1


def test_a_lesson_sent_by_a_killed_run_is_watched_not_sent_again(
    settings: Settings, tmp_path: Path
) -> None:
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(b"lesson a")
    first = InstantWorker(settings)
    _batch_over(settings, folder, out, first)
    # Rewind to the moment after sending: the message is in the queue, no stage has started.
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    entry = next(iter(manifest["entries"].values()))
    entry["state"] = "sent"
    (out / MANIFEST_NAME).write_text(json.dumps(manifest))
    for fmt in FORMATS:
        (out / f"a.{fmt}").unlink()
    with session_scope(settings.database_url) as session:
        lesson = session.get(Lesson, entry["lesson_id"])
        assert lesson is not None
        lesson.status = LessonStatus.queued
    already_running = InstantWorker(settings)  # the earlier run's worker, still going
    queue = InProcessQueue()  # records what this run sends; nothing would run it
    runner = BatchRun(
        settings,
        open_storage(settings.storage_url),
        find_recordings([folder]),
        out,
        BatchOptions(poll_interval=0.01),
        queue=queue,
    )

    def worker_picks_it_up() -> None:
        if not already_running.sent:
            already_running(entry["lesson_id"])

    runner.alive = worker_picks_it_up
    items = runner.run()

    assert queue.sent == [], "the lesson was sent to the queue a second time"
    assert _states(items) == {"a.mp4": "done"}
    assert len(first.sent) == 1 and _lesson_counts(settings)[0] == 1
    assert (out / "a.vtt").read_text() == "vtt of a.mp4"


def test_rerun_retries_a_failure_on_our_side_but_not_a_bad_file(
    settings: Settings, tmp_path: Path
) -> None:
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / "bad.mp4").write_bytes(b"not media")
    (folder / "unlucky.mp4").write_bytes(b"a lesson")
    failing = InstantWorker(
        settings, fail={"bad.mp4": "not_media", "unlucky.mp4": "internal_error"}
    )
    items = _batch_over(settings, folder, out, failing)
    assert _states(items) == {"bad.mp4": "failed", "unlucky.mp4": "failed"}
    unlucky_id = next(i.lesson_id for i in items if i.recording.rel.name == "unlucky.mp4")

    healthy = InstantWorker(settings, fail={"bad.mp4": "not_media"})
    items = _batch_over(settings, folder, out, healthy)

    assert healthy.sent == [unlucky_id]  # the same lesson, started again
    assert _states(items) == {"bad.mp4": "failed", "unlucky.mp4": "done"}
    bad = next(i for i in items if i.recording.rel.name == "bad.mp4")
    assert bad.error_code == "not_media" and bad.note
    assert _lesson_counts(settings)[0] == 2

    items = _batch_over(settings, folder, out, healthy, retry_failed=True)
    assert healthy.sent == [unlucky_id, bad.lesson_id]
