"""Taking the picture out of a clip for lessons whose consent allows sound only."""

from __future__ import annotations

from pathlib import Path

from pipeline.tools import atomic_output, ffmpeg_command, run_tool


def drop_picture_command(src: Path, dst: Path) -> list[str]:
    return [
        *ffmpeg_command(), "-y", "-i", str(src),
        "-map", "0:a:0", "-c:a", "copy", "-movflags", "+faststart", "-f", "mp4", str(dst),
    ]  # fmt: skip


def drop_picture(src: Path, dst: Path, *, timeout: float = 120.0) -> Path:
    """Write `src`'s sound alone to `dst` (MP4 holding one AAC stream; no picture at all)."""
    with atomic_output(Path(dst)) as tmp:
        run_tool(
            drop_picture_command(Path(src), tmp),
            timeout=timeout,
            message="The clip's sound could not be kept on its own",
        )
    return Path(dst)
