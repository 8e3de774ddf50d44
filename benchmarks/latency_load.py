"""API read latency under load (issue 20 point 1): `python -m benchmarks.latency_load`.

50 concurrent clients read GET /api/v1/lessons and /lessons/{id} from `clipcoach serve` (uvicorn,
SQLite, local storage, no worker) while 5 clips wait for a render nobody makes (their viewers ask
for the clip's media again one second after each answer, as the review page does) and a large
resumable upload streams in chunks. The same client runs against each server source folder given
(`--source LABEL=DIR`, e.g. a worktree of the commit before the non-blocking fix), idle and under
that load, so the difference is what blocking the event loop costs readers.

Loopback only; every loop is bounded in count and time, and the servers are stopped at the end.
Prints a Markdown section for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.parts import api as api_part
from benchmarks.parts.api import free_port

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
MIB = 1024**2
PENDING_CLIPS = 5
READ_TIMEOUT = 60.0
"""A read not answered in this long counts as failed (its wait is still a latency)."""
SEED = """
import json, sys
from models.db import session_scope
from models.migrate import upgrade
from models.settings import get_settings
from models.account import Role
from models.accounts import create_user, pair
from models.coaching import Clip
from models.lesson import Lesson, LessonStatus
settings = get_settings()
upgrade(settings.database_url)
lessons, clips = int(sys.argv[1]), int(sys.argv[2])
with session_scope(settings.database_url) as session:
    user, password = create_user(session, "bench@example.org", "Bench", Role.ect, "bench-pw-1")
    mentor, _ = create_user(session, "mentor@example.org", "Mentor", Role.mentor, password)
    pair(session, mentor, user)
    ids = []
    for i in range(lessons):
        lesson = Lesson(owner_id=user.id, title=f"Lesson {i}", source_filename=f"lesson{i}.mp4",
                        source_key=f"lessons/x{i}/source.mp4", status=LessonStatus.ready,
                        progress=100, duration=3600.0, has_video=True, has_audio=True)
        session.add(lesson)
        session.flush()
        ids.append(lesson.id)
    clip_ids = []
    for i in range(clips):
        clip = Clip(lesson_id=ids[0], author_id=mentor.id, title=f"Clip {i}", start=10.0 * i,
                    end=10.0 * i + 8.0)
        session.add(clip)
        session.flush()
        clip_ids.append(clip.id)
print(json.dumps({"email": "bench@example.org", "mentor": "mentor@example.org",
                  "password": password, "ids": ids, "clips": clip_ids}))
"""
"""Run with the server's own source on the path, so its models make its own schema. The ECT's
mentor made the clips on the ECT's lesson and watches them: every version lets a clip's
author see it (an ECT's own clips are private to the ECT since issue 22)."""


@dataclass
class Run:
    label: str
    source: Path
    commit: str
    idle: tuple[list[float], int, float]
    loaded: tuple[list[float], int, float]
    uploaded_bytes: int
    upload_failures: int
    clip_answers: dict[int, int]
    failed_reads: collections.Counter[str]
    load_before: str
    load_after: str


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def git_commit(source: Path) -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=source, capture_output=True, text=True
    )
    return out.stdout.strip() or "?"


def server_env(source: Path, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPCOACH_")}
    env.update(
        PYTHONPATH=str(source),
        CLIPCOACH_DATA_DIR=str(data_dir),
        CLIPCOACH_SEED_DEMO="false",
        CLIPCOACH_SECRET_KEY="benchmark-secret-key-that-is-long-enough-for-hs256",
    )
    return env


def serving(
    source: Path, env: dict[str, str], port: int, log: Path
) -> contextlib.AbstractContextManager[str]:
    """`clipcoach serve` of `source` on loopback without a worker; its base URL."""
    cmd = [PYTHON, "-c", "from workers.cli import main; main()", "serve", "--no-with-worker",
           "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    # called as the `clipcoach` entry point does: older trees fail under `python -m workers.cli`
    return api_part.serving(
        cmd, env, port, log, cwd=source, ready="/api/v1/health", start_timeout=90
    )


async def pending_viewer(
    client: httpx.AsyncClient, clip_id: str, stop: asyncio.Event, answers: dict[int, int]
) -> None:
    """Ask for a clip whose render never comes, again one second after each answer."""
    for _ in range(10_000):
        if stop.is_set():
            return
        try:
            response = await client.get(f"/api/v1/clips/{clip_id}/media", timeout=120)
            answers[response.status_code] = answers.get(response.status_code, 0) + 1
        except httpx.HTTPError:
            answers[-1] = answers.get(-1, 0) + 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def _chunk_body(size: int, first: bool) -> AsyncIterator[bytes]:
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" if first else b""
    block = b"\x00" * (256 * 1024)
    sent = 0
    if head:
        yield head
        sent = len(head)
    while sent < size:
        piece = block[: min(len(block), size - sent)]
        sent += len(piece)
        yield piece


async def streaming_upload(
    client: httpx.AsyncClient, total: int, chunk: int, stop: asyncio.Event
) -> tuple[int, int]:
    """Stream resumable uploads of `total` bytes in `chunk`-byte PATCHes until `stop`;
    each finished one is abandoned (DELETE) and another begins. A refused or failed chunk
    (an overloaded server answers 500) abandons its upload and counts as failed: bytes stored
    and chunks failed."""
    sent = failed = 0
    for _ in range(100):
        if stop.is_set():
            break
        try:
            created = await client.post(
                "/api/v1/uploads", json={"filename": "lesson.mp4", "size": total}
            )
        except httpx.HTTPError:
            failed += 1
            continue
        if created.status_code != 201:
            failed += 1
            continue
        upload = created.json()["id"]
        offset = 0
        while offset < total and not stop.is_set():
            size = min(chunk, total - offset)
            try:
                response = await client.patch(
                    f"/api/v1/uploads/{upload}",
                    content=_chunk_body(size, offset == 0),
                    headers={
                        "Upload-Offset": str(offset),
                        "Content-Type": "application/offset+octet-stream",
                        "Content-Length": str(size),
                    },
                    timeout=300,
                )
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if not ok:
                failed += 1
                break
            offset += size
            sent += size
        with contextlib.suppress(httpx.HTTPError):
            await client.delete(f"/api/v1/uploads/{upload}")
    return sent, failed


async def loaded_read(
    base: str,
    paths: Sequence[str],
    headers: dict[str, str],
    mentor: dict[str, str],
    clips: Sequence[str],
    args: argparse.Namespace,
    reasons: collections.Counter[str],
) -> tuple[tuple[list[float], int, float], int, int, dict[int, int]]:
    """The read load while the pending viewers (the mentor) and the upload (the ECT) run."""
    stop = asyncio.Event()
    answers: dict[int, int] = {}
    async with (
        httpx.AsyncClient(base_url=base, headers=mentor, timeout=300) as watching,
        httpx.AsyncClient(base_url=base, headers=headers, timeout=300) as uploading,
    ):
        viewers = [asyncio.create_task(pending_viewer(watching, c, stop, answers)) for c in clips]
        uploader = asyncio.create_task(
            streaming_upload(uploading, args.upload_mib * MIB, args.chunk_mib * MIB, stop)
        )
        await asyncio.sleep(2.0)  # the render requests are queued and the upload is streaming
        try:
            result = await api_part.load(
                base, paths, headers, args.clients, args.requests, READ_TIMEOUT, reasons
            )
        finally:
            stop.set()
        sent, failed = await uploader
        await asyncio.gather(*viewers)
    return result, sent, failed, answers


def sign_in(base: str, email: str, password: str) -> dict[str, str]:
    token = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": email, "password": password}, timeout=30
    )
    token.raise_for_status()
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def measure(label: str, source: Path, args: argparse.Namespace) -> Run:
    with tempfile.TemporaryDirectory(prefix="latency-") as scratch_name:
        scratch = Path(scratch_name)
        env = server_env(source, scratch / "data")
        seeded = subprocess.run(
            [PYTHON, "-c", SEED, "20", str(PENDING_CLIPS)],
            env=env, cwd=source, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if seeded.returncode != 0:
            raise RuntimeError(f"seeding {source} failed:\n{seeded.stderr[-2000:]}")
        seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        paths = ["/api/v1/lessons", *(f"/api/v1/lessons/{i}" for i in seed["ids"])]
        with serving(source, env, free_port(), scratch / "serve.log") as base:
            headers = sign_in(base, seed["email"], seed["password"])
            mentor = sign_in(base, seed["mentor"], seed["password"])
            asyncio.run(api_part.load(base, paths, headers, args.clients, args.clients * 2))  # warm
            load_before = loadavg()
            reasons: collections.Counter[str] = collections.Counter()
            idle = asyncio.run(
                api_part.load(
                    base, paths, headers, args.clients, args.requests, READ_TIMEOUT, reasons
                )
            )
            try:
                loaded, sent, failed, answers = asyncio.run(
                    loaded_read(base, paths, headers, mentor, seed["clips"], args, reasons)
                )
            except httpx.HTTPError as exc:
                log = (scratch / "serve.log").read_text()[-3000:]
                raise RuntimeError(f"{label}: {exc}\n{log}") from exc
            load_after = loadavg()
    return Run(
        label, source, git_commit(source), idle, loaded, sent, failed, answers, reasons,
        load_before, load_after,
    )  # fmt: skip


def quantiles(latencies: list[float]) -> tuple[float, float, float]:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000


def report(runs: Sequence[Run], args: argparse.Namespace) -> str:
    lines = [
        "| server | commit | load | requests | median | p95 | max | throughput | failures |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        for name, (latencies, failures, wall) in (("idle", run.idle), ("under load", run.loaded)):
            median, p95, top = quantiles(latencies)
            lines.append(
                f"| {run.label} | {run.commit} | {name} | {len(latencies)} | {median:.1f} ms "
                f"| {p95:.1f} ms | {top:.0f} ms | {len(latencies) / wall:.1f}/s | {failures} |"
            )
    lines.append("")
    for run in runs:
        answers = ", ".join(f"{code}: {n}" for code, n in sorted(run.clip_answers.items()))
        failed = ", ".join(f"{why}: {n}" for why, n in sorted(run.failed_reads.items()))
        lines.append(
            f"- {run.label}: the upload streamed {run.uploaded_bytes / MIB:.0f} MiB "
            f"({run.upload_failures} chunks failed) during the "
            f"loaded run; pending clip media answered {answers or 'nothing'}; failed reads "
            f"(status or error, both rows): {failed or 'none'}; load average "
            f"(1/5/15 min) {run.load_before} before, {run.load_after} after."
        )
    lines += [
        "",
        f"{args.clients} concurrent httpx clients, {args.requests} GETs per row cycling through "
        "GET /api/v1/lessons (20 lessons) and GET /api/v1/lessons/{id}; `clipcoach serve "
        "--no-with-worker` (one uvicorn process, SQLite, local storage) on loopback. Under load, "
        f"{PENDING_CLIPS} viewers ask for the media of clips whose render is queued but never "
        "made (no worker), each again one second after its answer, and one client streams "
        f"resumable uploads of {args.upload_mib} MiB in {args.chunk_mib} MiB chunks as fast as "
        "loopback allows. Clients and server share the machine's two cores with other work "
        "(the machine is shared): compare rows of one run, not figures across runs. A failure is "
        f"an answer other than 200 or none within {READ_TIMEOUT:.0f} s.",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="LABEL=DIR",
        help="a server source folder to measure, with its label (repeatable; default: this one)",
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--upload-mib", type=int, default=512)
    parser.add_argument("--chunk-mib", type=int, default=16)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sources = args.source or [f"this tree={REPO}"]
    runs = []
    for spec in sources:
        label, _, folder = spec.rpartition("=")
        runs.append(measure(label or folder, Path(folder).resolve(), args))
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print(report(runs, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
