"""e2e: `clipcoach process` against the plain tools, with the decoding floor and the plot."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import media
from benchmarks.measured import PYTHON, run_measured
from benchmarks.parts.peers import decode_floor, peer_for
from benchmarks.suite import (
    REPO,
    WORK,
    Goal,
    Suite,
    clean_env,
    lesson_file,
    megabytes,
    minutes,
    say,
    table,
    verdict,
)

PLOT = REPO / "benchmarks" / "processing_time.png"
GOAL_H264_60 = 3 * 60.0
GOAL_HEVC_60 = 15 * 60.0
GOAL_SPEEDUP = 2.0


def ours_process(source: Path, scratch: Path) -> dict[str, Any]:
    out = scratch / "out"
    done = run_measured(
        [PYTHON, "-m", "workers.cli", "process", source, "--out", out],
        env=clean_env(scratch / "data"),
    ).check("clipcoach process")
    transcript = json.loads((out / "transcript.json").read_text())
    words = sum(len(s.get("words", [])) for s in transcript.get("segments", []))
    return {
        "seconds": done.seconds,
        "cpu": done.cpu_seconds,
        "peak": done.peak_bytes,
        "words": words,
    }


def run(suite: Suite) -> None:
    cfg = suite.config
    rows = []
    for codec in cfg.codecs:
        for length in cfg.lengths:
            if (codec, length) in cfg.skip:
                continue
            source = lesson_file(cfg, codec, length)
            say(f"e2e: clipcoach process on {source.name}")
            with tempfile.TemporaryDirectory(dir=WORK) as scratch:
                ours = ours_process(source, Path(scratch))
            peer = peer_for(suite, codec, length, source)
            floor = decode_floor(suite, codec, length, source)
            speedup = peer["seconds"] / ours["seconds"]
            row = {"codec": codec, "minutes": length, "ours": ours, "peer": peer, "floor": floor}
            suite.e2e.append(row)
            rows.append(
                [
                    media.FORMATS[codec].label,
                    f"{length:g} min",
                    minutes(ours["seconds"]),
                    f"{minutes(peer['seconds'])} ({minutes(peer['ffmpeg_seconds'])} ffmpeg + "
                    f"{minutes(peer['whisper_seconds'])} whisper)",
                    f"**{speedup:.2f}x**",
                    minutes(floor.seconds),
                    f"{ours['cpu']:.0f} / {peer['cpu']:.0f} / {floor.cpu_seconds:.0f}",
                    megabytes(ours["peak"]),
                    f"{megabytes(peer['ffmpeg_peak'])} / {megabytes(peer['whisper_peak'])}",
                    f"{ours['words']} / {peer['words']}",
                ]
            )
    body = table(
        ["input", "length", "ours (all stages)", "plain tools", "speedup",
         "decoding the picture alone", "CPU seconds: ours / plain / decoding",
         "ours peak process", "plain peak (ffmpeg / whisper)",
         "words ours / plain"],
        rows,
    )  # fmt: skip
    body += (
        "\n\nOurs makes everything a lesson needs (browser MP4, 16 kHz audio, transcript in four "
        "formats with word times, poster, sprite, scenes, segments); the plain tools make a "
        "720p MP4 and a transcript without word times. The peak is the largest single process "
        "(wait4's ru_maxrss over the process tree). Decoding the picture alone is "
        "`ffmpeg -i FILE -map 0:V:0 -f null -` with every thread: both systems must decode every "
        "frame, so neither can finish sooner. CPU seconds are user plus system time (wait4) of "
        "every process the command ran."
    )
    plot_file = cfg.results.parent / PLOT.name
    plot(suite.e2e, plot_file)
    body += f"\n\n![processing time against lesson length]({plot_file.name})"
    suite.add("End-to-end lesson processing", body)
    e2e_goals(suite)


def e2e_goals(suite: Suite) -> None:
    for codec, limit in (("h264", GOAL_H264_60), ("hevc", GOAL_HEVC_60)):
        label = media.FORMATS[codec].label
        rows = [r for r in suite.e2e if r["codec"] == codec]
        at_60 = [r for r in rows if r["minutes"] == 60]
        goal = f"60-min {label} lesson ready in at most {minutes(limit)}"
        if at_60:
            r = at_60[0]
            suite.goals.append(
                Goal(
                    goal,
                    minutes(r["ours"]["seconds"]),
                    minutes(r["peer"]["seconds"]),
                    verdict(r["ours"]["seconds"] <= limit),
                )
            )
        elif rows:
            r = max(rows, key=lambda r: r["minutes"])
            linear = r["ours"]["seconds"] * 60 / r["minutes"]
            suite.goals.append(
                Goal(
                    goal,
                    f"{minutes(r['ours']['seconds'])} for {r['minutes']:g} min "
                    f"(straight-line guess for 60 min: {minutes(linear)}, not a measurement)",
                    f"{minutes(r['peer']['seconds'])} for {r['minutes']:g} min",
                    "not measured: no 60-minute lesson in this run",
                )
            )
    if suite.e2e:
        worst = min(suite.e2e, key=lambda r: r["peer"]["seconds"] / r["ours"]["seconds"])
        speedup = worst["peer"]["seconds"] / worst["ours"]["seconds"]
        ours = f"{speedup:.2f}x ({media.FORMATS[worst['codec']].label}, {worst['minutes']:g} min)"
        target = worst["peer"]["seconds"] / GOAL_SPEEDUP
        if speedup < GOAL_SPEEDUP:
            floor, cores = worst["floor"], len(os.sched_getaffinity(0))
            ours += (
                f"; {GOAL_SPEEDUP:g}x needs it done in {minutes(target)}, {target * cores:.0f} "
                f"CPU seconds on {cores} cores, and decoding the picture alone takes "
                f"{minutes(floor.seconds)} and {floor.cpu_seconds:.0f} CPU seconds of them"
            )
        suite.goals.append(
            Goal(
                f"at least {GOAL_SPEEDUP:g}x faster end to end than the plain tools (worst case)",
                ours,
                "1x",
                verdict(speedup >= GOAL_SPEEDUP),
            )
        )


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for codec, colour in (("h264", "tab:blue"), ("hevc", "tab:red")):
        points = sorted((r["minutes"], r) for r in rows if r["codec"] == codec)
        if not points:
            continue
        xs = [m for m, _ in points]
        label = media.FORMATS[codec].label
        ax.plot(xs, [r["ours"]["seconds"] / 60 for _, r in points], "o-", color=colour,
                label=f"clipcoach, {label}")  # fmt: skip
        ax.plot(xs, [r["peer"]["seconds"] / 60 for _, r in points], "s--", color=colour,
                alpha=0.6, label=f"plain ffmpeg + faster-whisper, {label}")  # fmt: skip
    ax.scatter([60], [GOAL_H264_60 / 60], marker="*", s=120, color="tab:blue", zorder=5,
               label="goal, 60 min H.264 (3 min)")  # fmt: skip
    ax.scatter([60], [GOAL_HEVC_60 / 60], marker="*", s=120, color="tab:red", zorder=5,
               label="goal, 60 min HEVC (15 min)")  # fmt: skip
    ax.set_xlabel("lesson length (minutes)")
    ax.set_ylabel("processing time (minutes)")
    ax.set_title("Lesson processing time on this machine")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
