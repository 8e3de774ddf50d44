"""The `clipcoach` command: process a recording locally, serve the app, run workers, administer.

The CLI is the local face of the workers: `process` runs the very stage functions a worker runs,
in one folder and two at a time; `serve` starts the web app with a worker beside it; `worker`
starts a pool for chosen queues. Only here may code print.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
import uvicorn
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from models.queue import TaskQueue
from models.settings import Settings, get_settings
from pipeline.errors import PipelineError
from pipeline.lesson import SOURCE_STEM, run_all
from workers import cli_admin, cli_batch
from workers.children import Children
from workers.worker_command import embedded_worker_commands, worker_command

if TYPE_CHECKING:
    pass

app = typer.Typer(
    help="clipcoach: lesson-video coaching for early career teachers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True)

KEPT_OUTPUTS = (
    "lesson.mp4",
    "lesson.m4a",
    "probe.json",
    "transcript.json",
    "transcript.vtt",
    "transcript.srt",
    "transcript.txt",
    "segments.json",
    "speech.json",
    "speakers.json",
    "analytics.json",
    "scenes.json",
    "poster.jpg",
    "sprite.jpg",
    "thumbnails.vtt",
)


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def process(
    file: Annotated[Path, typer.Argument(help="A lesson recording (video or audio).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the outputs.")],
    language: Annotated[str | None, typer.Option(help="Spoken language, e.g. en.")] = None,
    model: Annotated[str | None, typer.Option(help="faster-whisper model name or folder.")] = None,
    vocabulary: Annotated[
        Path | None, typer.Option(help="A text file of school terms, one per line.")
    ] = None,
    no_transcript: Annotated[bool, typer.Option(help="Skip transcription.")] = False,
) -> None:
    """Run every stage on FILE and write lesson.mp4, transcripts, segments and thumbnails to OUT."""
    from workers.options import lesson_options, model_spec, vocabulary_file

    if not file.is_file():
        raise _fail(f"{file}: no such file")
    settings = get_settings()
    overrides: dict[str, object] = {}
    if language:
        overrides["language"] = language
    if model:
        overrides["model"] = model
    if vocabulary:
        overrides["vocabulary"] = vocabulary_file(vocabulary)
    options = lesson_options(settings, overrides, transcribe=not no_transcript)

    from pipeline.transcribe import whisper_transcriber

    made = _missing_folders(out)
    out.mkdir(parents=True, exist_ok=True)
    # Work beside OUT so results move in by rename; OUT only ever receives finished files.
    workdir = Path(tempfile.mkdtemp(prefix=".clipcoach-", dir=out))
    try:
        (workdir / f"{SOURCE_STEM}{file.suffix.lower()[:12]}").symlink_to(file.resolve())
        with _stage_progress() as on_progress:
            outcomes = run_all(
                workdir,
                options,
                transcriber=whisper_transcriber(model_spec(settings, overrides)),
                on_progress=on_progress,
            )
        for name in KEPT_OUTPUTS:
            if (workdir / name).exists():
                os.replace(workdir / name, out / name)
    except PipelineError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        for folder in made:  # bad input writes nothing, not even the folder it was asked for
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise _fail(f"{file.name}: {exc.message} [{exc.code}]") from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    for outcome in outcomes.values():
        for note in [*outcome.warnings, *([outcome.skipped] if outcome.skipped else [])]:
            console.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False, soft_wrap=True)
    console.print(f"[green]done:[/green] outputs in {out}", highlight=False)


def _missing_folders(path: Path) -> list[Path]:
    """The folders `mkdir -p path` would create, deepest first (so they can be removed again)."""
    missing = []
    for folder in [path, *path.parents]:
        if folder.exists():
            break
        missing.append(folder)
    return missing


class _stage_progress:  # noqa: N801 - used as a context manager, reads like a function
    """A Rich progress display with one bar per stage, quiet when not on a terminal."""

    def __enter__(self) -> Callable[[str, float], None]:
        self.progress = Progress(
            TextColumn("{task.description:<11}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
        )
        self.tasks: dict[str, TaskID] = {}
        self.progress.__enter__()
        return self.update

    def update(self, stage: str, fraction: float) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=1.0)
        self.progress.update(self.tasks[stage], completed=fraction)

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)


@app.command()
def worker(
    queues: Annotated[str, typer.Option(help="Comma-separated: media, transcribe, clips.")] = (
        "media,transcribe,clips"
    ),
    concurrency: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    loglevel: Annotated[str, typer.Option()] = "info",
    beat: Annotated[
        bool,
        typer.Option(
            help="Also run the scheduler that sweeps stuck lessons every minute "
            "(exactly one worker per deployment should)."
        ),
    ] = False,
) -> None:
    """Start a Celery worker pool for the given queues (the transcription model loads once each)."""
    settings = get_settings()
    from models.migrate import upgrade

    upgrade(settings.database_url)
    command = worker_command(
        queues, concurrency or settings.worker_concurrency, loglevel, beat=beat
    )
    os.execv(command[0], command)  # noqa: S606 - replaces this process with the pool; no shell


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from models.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    _reindex(settings, everything=False)
    console.print("database is up to date")


KEEP_ALIVE_SECONDS = 75
"""How long an idle client connection stays open. uvicorn's 5 s closes connections that
clients (and proxies, whose idle timeouts are often 60 s) are about to reuse, and a request
sent into that close fails with no answer (seen as RemoteProtocolError in
benchmarks.latency_load); the server's keep-alive must outlast the proxy's."""


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    with_worker: Annotated[bool, typer.Option(help="Start a local worker too.")] = True,
) -> None:
    """Serve the app at http://HOST:PORT with a worker beside it (embedded defaults)."""
    from models.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    _after_migrate_hooks(settings)
    bound = settings.shutdown_timeout_seconds
    children = Children()
    config = uvicorn.Config(
        "api.app:app",
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        timeout_graceful_shutdown=bound,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        **proxy_options(settings),
    )
    server = _BoundedServer(config, on_exit=children.terminate)
    # Ours until uvicorn takes over, and again after: uvicorn raises the signal that stopped it
    # once more when it has finished, and SIGTERM's default action would end this process there,
    # before its workers are stopped.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, server.handle_exit)
    if with_worker:
        for command in embedded_worker_commands(settings):
            children.start(command)
    console.print(
        f"[bold]clipcoach[/bold] is starting at http://{config.host}:{config.port}/ "
        "(Ctrl+C stops it)",
        highlight=False,
    )
    try:
        server.run()
    finally:
        children.stop(bound)
    if not server.started:
        raise typer.Exit(3)


class _BoundedServer(uvicorn.Server):
    """uvicorn, telling `on_exit` at the first signal (so the workers stop alongside the web
    process, within the same bound), and closing the connections still open once
    `timeout_graceful_shutdown` has passed: uvicorn only cancels their tasks, and a route reading
    a trickled chunk in a thread would go on reading. The route then sees a client disconnect
    and records the bytes that arrived, so the upload resumes from a true offset."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.on_exit()
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        timeout = self.config.timeout_graceful_shutdown or 0
        closer = asyncio.get_running_loop().call_later(timeout, self._close_connections)
        try:
            await super().shutdown(sockets)
        finally:
            closer.cancel()

    def _close_connections(self) -> None:
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.close()


def _after_migrate_hooks(settings: Settings, queue: TaskQueue | None = None) -> None:
    """Seeding for first runs: demo admin, mentor and ECT (credentials printed once), the sample
    lesson sent to `queue` (Celery unless one is given); lessons transcribed before the search
    index existed are indexed."""
    if settings.seed_demo:
        cli_admin.seed_demo_accounts(settings, queue)
    _reindex(settings, everything=False)


def _reindex(settings: Settings, *, everything: bool) -> int:
    from models import search
    from models.db import session_scope
    from models.storage import open_storage

    with session_scope(settings.database_url) as session:
        return search.reindex(session, open_storage(settings.storage_url), everything=everything)


@app.command()
def reindex(
    everything: Annotated[
        bool, typer.Option("--all", help="Index every lesson again, not only those missing.")
    ] = False,
) -> None:
    """Index lessons' current transcripts for search (those not indexed yet, or --all)."""
    from models.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    count = _reindex(settings, everything=everything)
    console.print(f"indexed the transcripts of {count} lesson{'s' if count != 1 else ''}")


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's forwarded-header options: trusted only from the configured proxies. uvicorn's
    own default trusts 127.0.0.1, which let any local client (or anything a local proxy passed
    on) name its own address and dodge the per-address sign-in limit."""
    trusted = settings.forwarded_allow_ips.strip()
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or ""}


cli_batch.register(app)
cli_admin.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
