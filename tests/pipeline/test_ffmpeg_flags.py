"""ffmpeg's global flags: defined once in pipeline.tools, taken by every command of every stage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline import audio, blur, clip, frames, redact, thumbnails
from pipeline.tools import ffmpeg_binary, ffmpeg_command, global_flags
from tests.sourcescan import strings_outside

SRC, DST = Path("in.mp4"), Path("out.mp4")

COMMANDS: dict[str, tuple[Callable[[], list[str]], str]] = {
    "audio": (lambda: audio.build_command(SRC, Path("out.wav"), audio.AudioOptions()), "error"),
    "frames": (lambda: frames.build_command(SRC, frames.FrameRequest(64, 36, 4.0)), "info"),
    "poster": (lambda: thumbnails.build_poster_command(SRC, Path("p.jpg"), 3.0, 360, 4), "error"),
    "clip part": (lambda: clip.part_command(SRC, Path("p.ts"), 1.5, 12, None), "error"),
    "clip join": (lambda: clip.join_command(Path("list.txt"), None, DST), "error"),
    "clip audio": (
        lambda: clip.audio_clip_command(SRC, DST, 1.0, 4.0, clip.ClipOptions()),
        "error",
    ),
    "blur decode": (lambda: blur.decode_command(SRC, 64, 36), "error"),
    "blur encode": (
        lambda: blur.encode_command(SRC, DST, 64, 36, "25", True, blur.BlurOptions()),
        "error",
    ),
    "drop picture": (lambda: redact.drop_picture_command(SRC, DST), "error"),
}


def _contains_run(cmd: list[str], run: list[str]) -> bool:
    return any(cmd[i : i + len(run)] == run for i in range(len(cmd)))


def test_the_flags_never_read_stdin_and_hide_the_banner() -> None:
    assert global_flags() == ["-hide_banner", "-nostdin", "-v", "error"]
    assert global_flags("info")[-1] == "info"
    assert ffmpeg_command("-i", "a.mp4") == [ffmpeg_binary(), *global_flags(), "-i", "a.mp4"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_stage_command_takes_the_global_flags(name: str) -> None:
    build, level = COMMANDS[name]
    cmd = build()
    assert cmd[0] == ffmpeg_binary()
    assert _contains_run(cmd, global_flags(level)), cmd
    assert cmd.count("-nostdin") == 1


@pytest.mark.parametrize("package", ["pipeline", "benchmarks", "tests"])
def test_no_module_spells_the_flags_out_again(package: str) -> None:
    flags = {"-nostdin", "-hide_banner"}
    here = "tests/pipeline/test_ffmpeg_flags.py"
    assert strings_outside(package, flags.__contains__, "pipeline/tools.py", here) == []
