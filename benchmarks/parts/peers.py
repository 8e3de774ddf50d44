"""The plain-tools peer every part compares against, measured once per lesson and kept in the suite.

The peer is what a user would otherwise run: ffmpeg to a 720p H.264/AAC copy, then plain
faster-whisper (benchmarks/plain_whisper.py). The decode floor is ffmpeg only decoding the picture.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import media
from benchmarks.measured import PYTHON, Measured, run_measured
from benchmarks.suite import WORK, Suite, say


def model_path() -> str:
    from pipeline.transcribe import default_model_path

    return str(default_model_path())


def plain_tools(source: Path, scratch: Path) -> dict[str, Any]:
    """What a user would otherwise run: transcode to 720p H.264/AAC, then transcribe."""
    out = scratch / "plain.mp4"
    transcode = run_measured(
        media.ffmpeg_args("-y", "-i", source, "-vf", "scale=-2:720",
         "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", out)
    ).check("plain ffmpeg")  # fmt: skip
    whisper = run_measured([PYTHON, "-m", "benchmarks.plain_whisper", model_path(), source]).check(
        "plain faster-whisper"
    )
    words = json.loads(whisper.output.strip().splitlines()[-1])["words"]
    out.unlink(missing_ok=True)
    return {
        "seconds": transcode.seconds + whisper.seconds,
        "cpu": transcode.cpu_seconds + whisper.cpu_seconds,
        "ffmpeg_seconds": transcode.seconds,
        "whisper_seconds": whisper.seconds,
        "ffmpeg_peak": transcode.peak_bytes,
        "whisper_peak": whisper.peak_bytes,
        "words": words,
    }


def peer_for(suite: Suite, codec: str, length: float, source: Path) -> dict[str, Any]:
    key = (codec, length)
    if key not in suite.peers:
        with tempfile.TemporaryDirectory(dir=WORK) as scratch:
            say(f"plain tools on {source.name}")
            suite.peers[key] = plain_tools(source, Path(scratch))
    return suite.peers[key]


def decode_floor(suite: Suite, codec: str, length: float, source: Path) -> Measured:
    """ffmpeg only decoding the picture, on every thread, the frames thrown away.

    Both systems must decode every frame to make a 720p H.264 copy, so this is the least time
    and CPU either can spend; set beside the 2x target it shows how much is left for the rest."""
    key = (codec, length)
    if key not in suite.floors:
        say(f"decoding {source.name} alone")
        cmd = media.ffmpeg_args("-i", source, "-map", "0:V:0", "-f", "null", "-")
        suite.floors[key] = run_measured(cmd).check("ffmpeg decode")
    return suite.floors[key]
