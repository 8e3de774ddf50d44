"""Clips shared as rendered (`ClipOptions(edit_list=True)`): copied from the IDR before the start,
the lead-in and the pictures past the end hidden by the MP4 edit list, nothing re-encoded."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.clip import ClipOptions, render_clip
from pipeline.normalise import normalise
from pipeline.probe import probe
from tests import mediafactory as mf
from tests.pipeline.conftest import stray_files

AS_RENDERED = ClipOptions(edit_list=True)


def counters(path: Path) -> list[int]:
    return [mf.read_counter(frame) for frame in mf.decode_gray_frames(path)]


def decode_errors(path: Path) -> str:
    cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"]
    return subprocess.run(cmd, capture_output=True, check=True).stderr.decode()


def video_packets(path: Path) -> list[int]:
    """The size of every video packet stored in `path`, in decode order. The edit list is
    ignored: applying it, the demuxer drops what lies before the keyframe it starts from."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-ignore_editlist", "1", "-select_streams", "v:0",
         "-show_entries", "packet=size", "-of", "json", str(path)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return [int(p["size"]) for p in json.loads(out)["packets"]]


def lesson_packets_from(lesson: Path, idr: float) -> list[int]:
    """The sizes of the lesson's video packets from the one shown at `idr` on, in decode order."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "packet=pts_time,size", "-of", "json", str(lesson)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    packets = [(float(p["pts_time"]), int(p["size"])) for p in json.loads(out)["packets"]]
    at = next(i for i, (t, _) in enumerate(packets) if abs(t - idr) < 1e-3)
    return [size for _, size in packets[at:]]


def stream_durations(path: Path) -> dict[str, float]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,duration", "-of", "json",
         str(path)],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return {s["codec_type"]: float(s["duration"]) for s in json.loads(out)["streams"]}


def samples_48k(path: Path) -> np.ndarray:
    """The sound decoded at its own rate, mono: no resampler whose start could differ."""
    cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-f", "f32le"]
    raw = subprocess.run([*cmd, "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.float32)


@pytest.fixture(scope="module")
def gop10_lesson(gop10_counter: mf.VideoSpec, tmp_path_factory: pytest.TempPathFactory) -> Path:
    lesson = tmp_path_factory.mktemp("editlist") / "lesson.mp4"
    assert normalise(gop10_counter.path, lesson, probe(gop10_counter.path)).plan.is_remux
    return lesson


@pytest.mark.parametrize(
    ("start", "end", "first", "last", "idr"),
    [
        (10.04, 25.0, 251, 624, 10.0),  # the worst start: one frame after an IDR
        (14.0, 22.0, 350, 549, 10.0),  # mid-group, over the IDR at 20 s
        (21.52, 29.0, 538, 724, 20.0),  # inside one group
    ],
)
def test_clip_shows_exactly_its_frames_and_copies_every_packet_from_the_idr_before_it(
    gop10_lesson: Path,
    tmp_path: Path,
    start: float,
    end: float,
    first: int,
    last: int,
    idr: float,
) -> None:
    dst = tmp_path / "clip.mp4"
    result = render_clip(gop10_lesson, dst, start, end, AS_RENDERED)
    assert counters(dst) == list(range(first, last + 1))
    assert (result.frames, result.copied_frames) == (last - first + 1, last - first + 1)
    assert decode_errors(dst) == ""
    durations = stream_durations(dst)
    assert durations["video"] == pytest.approx((last - first + 1) / 25, abs=1e-3)
    assert durations["audio"] == pytest.approx(durations["video"], abs=0.022)  # an AAC frame
    assert probe(dst).duration == pytest.approx(durations["video"], abs=0.022)
    # nothing re-encoded: the stored packets are the lesson's own, from the IDR on, the
    # hidden lead-in included
    stored = video_packets(dst)
    assert stored == lesson_packets_from(gop10_lesson, idr)[: len(stored)]
    assert len(stored) >= round((end - idr) * 25)
    assert stray_files(tmp_path) == []


def test_sound_is_the_lessons_own_from_the_first_sample(gop10_lesson: Path, tmp_path: Path) -> None:
    """The AAC packets are copied with a lead-in the edit list hides, so the decoder has the
    frame before the start it needs and every sample equals the lesson's at the same time."""
    start, end = 14.0, 22.0
    dst = tmp_path / "clip.mp4"
    render_clip(gop10_lesson, dst, start, end, AS_RENDERED)
    clip, lesson = samples_48k(dst), samples_48k(gop10_lesson)
    at = round(start * 48000)
    assert len(clip) == pytest.approx((end - start) * 48000, abs=1024)
    assert np.abs(lesson[at : at + len(clip)] - clip).max() < 1e-6


def test_a_clip_on_an_idr_keeps_the_plain_copy(gop10_lesson: Path, tmp_path: Path) -> None:
    """Nothing to hide: the file holds exactly the clip's frames, no lead-in."""
    dst = tmp_path / "clip.mp4"
    result = render_clip(gop10_lesson, dst, 20.0, 26.0, AS_RENDERED)
    assert counters(dst) == list(range(500, 650))
    assert result.frames == len(video_packets(dst)) == 150


def test_open_gop_lesson_copies_from_an_idr_or_falls_back_to_the_smart_cut(
    open_gop_lesson: Path, tmp_path: Path
) -> None:
    """Its keyframes after the first are non-IDR I-frames: a copy may start only at the IDR at
    0 s. Near it, the lead-in starts there; far from it, the smart cut re-encodes the head."""
    near = render_clip(open_gop_lesson, tmp_path / "near.mp4", 1.52, 3.48, AS_RENDERED)
    assert counters(tmp_path / "near.mp4") == list(range(38, 87))
    assert near.copied_frames == near.frames == 49
    stored = video_packets(tmp_path / "near.mp4")
    assert stored == lesson_packets_from(open_gop_lesson, 0.0)[: len(stored)]
    assert len(stored) >= 87  # from the IDR at 0 s, not the I-frame at 0.96 s
    far = render_clip(open_gop_lesson, tmp_path / "far.mp4", 3.1, 4.0, AS_RENDERED)
    assert counters(tmp_path / "far.mp4") == list(range(78, 100))
    assert far.copied_frames < far.frames
    for name in ("near.mp4", "far.mp4"):
        assert decode_errors(tmp_path / name) == ""
