"""`clipcoach batch`: transcribe folders of recordings through the queue, with live progress.

The logic lives in workers.batch; this module only turns options into a `BatchRun`, draws
progress with Rich and prints the summary. Progress and per-file lines go to stderr, the summary
table to stdout, so `clipcoach batch ... > summary.txt` keeps a clean record.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from models.settings import get_settings
from pipeline.captions import FORMATS
from workers.batch import (
    BatchError,
    BatchOptions,
    BatchRun,
    ItemState,
    LocalWorkers,
    RunItem,
    find_recordings,
    out_folder_lock,
)

EXIT_SOME_FAILED = 1
EXIT_ABORTED = 2
EXIT_INTERRUPTED = 130

STATE_STYLE = {
    ItemState.done: "green",
    ItemState.skipped: "cyan",
    ItemState.failed: "red",
}


def _console(stderr: bool) -> Console:
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console.width = 200  # logs and pipes: keep each file's line whole
    return console


def _parse_formats(value: str) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(f.strip().lower() for f in value.split(",") if f.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise typer.BadParameter(
            f"unknown format {', '.join(unknown) or '(none)'}; choose from {','.join(FORMATS)}"
        )
    return formats


class _BatchProgress:
    """An overall bar and one bar per file in flight; a line for each file that finishes."""

    def __init__(self, console: Console, items: list[RunItem]) -> None:
        self.console = console
        self.items = items
        self.progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[stage]}", markup=False),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
            transient=True,
        )
        self.overall = self.progress.add_task(
            f"{len(items)} recordings", total=100.0 * max(1, len(items)), stage=""
        )
        self.rows: dict[int, TaskID] = {}

    def __enter__(self) -> _BatchProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def item_changed(self, item: RunItem) -> None:
        key = id(item)
        if item.finished:
            if key in self.rows:
                self.progress.remove_task(self.rows.pop(key))
            self.console.print(self._final_line(item), highlight=False, soft_wrap=True)
        elif item.state not in (ItemState.waiting, ItemState.checking):
            stage = item.stage or item.state.value
            if key not in self.rows:
                self.rows[key] = self.progress.add_task(
                    str(item.recording.rel), total=100.0, stage=stage
                )
            self.progress.update(self.rows[key], completed=item.progress, stage=stage)
        done = sum(100 if i.finished else i.progress for i in self.items)
        finished = sum(1 for i in self.items if i.finished)
        self.progress.update(
            self.overall,
            completed=done,
            description=f"{finished}/{len(self.items)} recordings",
        )

    @staticmethod
    def _final_line(item: RunItem) -> str:
        name = escape(str(item.recording.rel))
        style = STATE_STYLE.get(item.state, "white")
        label = _status_label(item)
        if item.state == ItemState.failed:
            reason = escape(f"{item.error_code}: {item.error_message}")
            return f"[{style}]{label}[/{style}] {name} — {reason}"
        return f"[{style}]{label}[/{style}] {name}"


def _status_label(item: RunItem) -> str:
    if item.state == ItemState.skipped:
        return "skipped (already done)"
    if item.state == ItemState.failed and item.note:
        return "failed (earlier run)"
    return item.state.value


def _summary(items: list[RunItem], out: Path) -> Table:
    table = Table(title=f"Batch summary ({out})", title_justify="left", expand=False)
    table.add_column("recording", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("details", overflow="fold")
    for item in items:
        style = STATE_STYLE.get(item.state, "white")
        if item.state == ItemState.failed:
            details = f"{item.error_code}: {item.error_message}"
        else:
            formats = ",".join(p.suffix.lstrip(".") for p in item.outputs)
            details = "; ".join(filter(None, [formats and f"wrote {formats}", item.note]))
        table.add_row(
            escape(str(item.recording.rel)),
            f"[{style}]{escape(_status_label(item))}[/{style}]",
            escape(details),
        )
    return table


def batch(
    paths: Annotated[
        list[Path], typer.Argument(help="Recordings, or folders of recordings.", exists=True)
    ],
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Look inside sub-folders too.")
    ] = False,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the transcripts (mirrors the inputs).")
    ] = Path("transcripts"),
    formats: Annotated[
        str, typer.Option(help="Transcript formats to write, comma-separated.")
    ] = ",".join(FORMATS),
    model: Annotated[str | None, typer.Option(help="faster-whisper model name or folder.")] = None,
    language: Annotated[str | None, typer.Option(help="Spoken language, e.g. en.")] = None,
    vocabulary: Annotated[
        Path | None,
        typer.Option(help="A text file of school terms, one per line.", exists=True),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Start this many local worker processes for the batch (default: the "
            "configured concurrency on the embedded queue, none with Redis); 0 relies on "
            "workers already running.",
        ),
    ] = None,
    in_flight: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Recordings submitted at a time (default: twice the local workers, or 8 when "
            "relying on running workers; raise it for a large cluster).",
        ),
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option(help="Also retry files that failed for a reason in the file.")
    ] = False,
) -> None:
    """Transcribe every recording in PATHS through the task queue and write transcripts to OUT.

    Re-running with the same OUT skips recordings already done (by content checksum) and picks
    up an interrupted run where it stopped. Exits 1 if any recording failed.
    """
    from models.migrate import upgrade
    from models.storage import open_storage
    from workers.options import vocabulary_file

    err = _console(stderr=True)
    chosen = _parse_formats(formats)
    terms: tuple[str, ...] = ()
    if vocabulary is not None:
        terms = tuple(vocabulary_file(vocabulary))
    settings = get_settings()
    upgrade(settings.database_url)
    if workers is None:
        workers = settings.worker_concurrency if settings.broker_url == "filesystem://" else 0

    recordings = find_recordings(paths, recursive=recursive, out=out)
    if not recordings:
        err.print("no recordings found" + ("" if recursive else " (try --recursive)"))
        raise typer.Exit(0)
    options = BatchOptions(
        formats=chosen,
        model=model,
        language=language,
        vocabulary=terms,
        retry_failed=retry_failed,
        max_in_flight=in_flight or (max(2, 2 * workers) if workers else 8),
    )
    try:
        with out_folder_lock(out):
            runner = BatchRun(
                settings, open_storage(settings.storage_url), recordings, out, options
            )
            with contextlib.ExitStack() as stack:
                display = _BatchProgress(err, runner.items)
                err.print(f"checking {len(recordings)} recordings (checksums)", highlight=False)
                has_work = runner.prepare(display)
                if has_work and workers:
                    pool = stack.enter_context(
                        LocalWorkers(workers, settings.data_dir / "logs" / "batch-worker.log")
                    )
                    runner.alive = pool.problem
                stack.enter_context(display)
                items = runner.process()
    except BatchError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_ABORTED) from None
    except KeyboardInterrupt:
        err.print("interrupted: run the same command again to carry on where this stopped")
        raise typer.Exit(EXIT_INTERRUPTED) from None

    _console(stderr=False).print(_summary(items, out))
    counts = {state: sum(1 for i in items if i.state == state) for state in ItemState}
    err.print(
        f"{counts[ItemState.done]} done, {counts[ItemState.skipped]} skipped (already done), "
        f"{counts[ItemState.failed]} failed",
        highlight=False,
    )
    if counts[ItemState.failed]:
        raise typer.Exit(EXIT_SOME_FAILED)


def register(app: typer.Typer) -> None:
    """Add `batch` to the `clipcoach` command."""
    app.command("batch")(batch)
