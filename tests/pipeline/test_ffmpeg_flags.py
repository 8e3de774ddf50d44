"""ffmpeg's global flags: defined once in pipeline.tools, taken by every command of every stage."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline import audio, blur, clip, frames, redact, thumbnails
from pipeline.tools import ffmpeg_binary, ffmpeg_command, global_flags

ROOT = Path(__file__).resolve().parents[2]
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
    "blur decode": (lambda: blur.decode_command(SRC), "error"),
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


def _flag_literals(path: Path) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Constant) and node.value in ("-nostdin", "-hide_banner")
    ]


@pytest.mark.parametrize("package", ["pipeline", "benchmarks"])
def test_no_module_spells_the_flags_out_again(package: str) -> None:
    copies = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != ROOT / "pipeline" / "tools.py"
        for line in _flag_literals(path)
    ]
    assert copies == []
