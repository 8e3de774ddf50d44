from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pipeline.editlist import set_file_play_length, set_play_length
from tests import mediafactory as mf


def durations(path: Path) -> dict[str, float]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,duration:format=duration",
         "-of", "json", str(path)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    data = json.loads(out)
    found = {s["codec_type"]: float(s["duration"]) for s in data["streams"]}
    found["movie"] = float(data["format"]["duration"])
    return found


def frame_count(path: Path) -> int:
    cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v:0", "-f", "framemd5", "-"]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout.decode()
    return sum(1 for line in out.splitlines() if line and not line.startswith("#"))


@pytest.fixture
def copied_with_lead_in(counter_video: mf.VideoSpec, tmp_path: Path) -> Path:
    """ffmpeg's own copy from 1.5 s (keyframe at 1 s): an edit list hides the lead-in, and the
    copy stops by decode time, so it holds pictures shown after 2.5 s too."""
    dst = tmp_path / "copy.mp4"
    mf.ffmpeg("-ss", "1.5", "-i", counter_video.path, "-t", "1", "-c", "copy",
              "-movflags", "+faststart", dst)  # fmt: skip
    return dst


def test_play_length_ends_every_track_and_the_movie_where_asked(
    copied_with_lead_in: Path,
) -> None:
    before = durations(copied_with_lead_in)
    assert before["video"] > 1.0  # B-frames' references past the end
    assert set_file_play_length(copied_with_lead_in, 1.0) == 2
    after = durations(copied_with_lead_in)
    assert (after["video"], after["audio"], after["movie"]) == (1.0, 1.0, 1.0)
    assert frame_count(copied_with_lead_in) == 25


def test_play_length_never_lengthens(copied_with_lead_in: Path) -> None:
    before = copied_with_lead_in.read_bytes()
    assert set_play_length(bytearray(before), 30.0) == 0
    assert set_file_play_length(copied_with_lead_in, 30.0) == 0
    assert copied_with_lead_in.read_bytes() == before


def test_index_at_the_end_is_found_and_patched_in_place(
    counter_video: mf.VideoSpec, tmp_path: Path
) -> None:
    dst = tmp_path / "copy.mp4"
    mf.ffmpeg("-ss", "1.5", "-i", counter_video.path, "-t", "1", "-c", "copy", dst)
    size = dst.stat().st_size
    assert set_file_play_length(dst, 0.6) == 2
    assert dst.stat().st_size == size
    assert durations(dst)["video"] == pytest.approx(0.6)
    assert frame_count(dst) == 15


def test_what_is_not_mp4_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="moov"):
        set_play_length(bytearray(b"\x00\x00\x00\x10ftypisom\x00\x00\x00\x00"), 1.0)
    text = tmp_path / "notes.mp4"
    text.write_bytes(b"not a video at all, just some words")
    with pytest.raises(ValueError, match="no moov box"):
        set_file_play_length(text, 1.0)
