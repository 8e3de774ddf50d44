from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.clip import ClipResult, plan_clip, read_packets, render_clip
from pipeline.errors import ClipRangeError
from pipeline.normalise import normalise
from pipeline.probe import probe
from tests import mediafactory as mf
from tests.pipeline.conftest import SHARED_VIDEO, stray_files


def decode_errors(path: Path) -> str:
    cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"]
    return subprocess.run(cmd, capture_output=True, check=True).stderr.decode()


def counters(path: Path) -> list[int]:
    return [mf.read_counter(frame) for frame in mf.decode_gray_frames(path)]


@pytest.mark.parametrize(
    ("start", "end", "first", "last", "copied"),
    [
        (1.52, 3.48, 38, 86, 35),  # head re-encoded, a GOP and the last group's whole run copied
        (1.0, 3.0, 25, 74, 50),  # on keyframes: all copied
        (0.5, 0.9, 13, 22, 0),  # inside one GOP: all re-encoded
        (3.1, 4.0, 78, 99, 0),  # up to the end of the lesson
        (0.0, 4.0, 0, 99, 100),  # the whole lesson
    ],
)
def test_clip_holds_exactly_the_frames_in_range(
    counter_lesson: Path,
    tmp_path: Path,
    start: float,
    end: float,
    first: int,
    last: int,
    copied: int,
) -> None:
    dst = tmp_path / "clip.mp4"
    result = render_clip(counter_lesson, dst, start, end)
    assert counters(dst) == list(range(first, last + 1))
    assert result.frames == last - first + 1
    assert result.copied_frames == copied
    assert decode_errors(dst) == ""
    out = probe(dst)
    assert out.has_audio
    assert out.duration == pytest.approx(end - start, abs=0.05)
    assert stray_files(tmp_path) == []
    assert ClipResult.from_dict(result.to_dict()) == result


def test_clip_of_shared_counter_matches_source_frames(tmp_path: Path) -> None:
    lesson = tmp_path / "lesson.mp4"
    normalise(SHARED_VIDEO / "counter.mp4", lesson, probe(SHARED_VIDEO / "counter.mp4"))
    dst = tmp_path / "clip.mp4"
    render_clip(lesson, dst, 0.55, 2.45)
    source = [f.astype(float) for f in mf.decode_gray_frames(lesson)]
    clip = [f.astype(float) for f in mf.decode_gray_frames(dst)]
    assert len(clip) == 19  # frames 0.6 .. 2.4 at 10 fps
    for i, frame in enumerate(clip):
        nearest = int(np.argmin([np.abs(frame - s).mean() for s in source]))
        assert nearest == 6 + i
    assert decode_errors(dst) == ""


@pytest.mark.parametrize(("start", "end"), [(-1.0, 2.0), (1.0, 9.0), (2.0, 2.0), (3.0, 1.0)])
def test_range_outside_or_reversed_is_refused(
    counter_lesson: Path, tmp_path: Path, start: float, end: float
) -> None:
    with pytest.raises(ClipRangeError) as caught:
        render_clip(counter_lesson, tmp_path / "clip.mp4", start, end)
    assert caught.value.code == "clip_out_of_range"
    assert list(tmp_path.iterdir()) == []


def test_audio_only_lesson_gives_m4a(tone_m4a: Path, tmp_path: Path) -> None:
    dst = tmp_path / "clip.m4a"
    render_clip(tone_m4a, dst, 0.5, 2.0)
    out = probe(dst)
    assert not out.has_video
    assert out.duration == pytest.approx(1.5, abs=0.05)


def test_plan_splits_at_keyframes() -> None:
    packets = [(i * 0.04, i % 25 == 0) for i in range(100)]
    plan = plan_clip(packets, 0.5, 3.5, 25.0)
    # no B-frames: every prefix of the last group decodes alone, so nothing after 1.0 s is encoded
    assert (plan.head_frames, plan.copy_frames, plan.tail_frames) == (12, 63, 0)
    assert plan.copy_start == pytest.approx(1.0)
    assert plan.tail_start is None


def b_pyramid(frames: int, gop: int) -> list[tuple[float, bool]]:
    """(time, IDR) in decode order of an x264-like stream at 25 fps: I0 P4 B2 b1 b3 P8 B6 ..."""
    order: list[int] = []
    for g in range(0, frames, gop):
        order.append(g)
        rest = list(range(g + 1, min(g + gop, frames)))
        for i in range(0, len(rest), 4):
            run = rest[i : i + 4]
            order += [run[-1], run[1], run[0], run[2]] if len(run) == 4 else run[::-1]
    return [(i * 0.04, i % gop == 0) for i in order]


@pytest.mark.parametrize(
    ("end", "tail"),
    [
        (20.0, 0),  # to the end of the stream: the last group is whole
        (10.2, 0),  # frames 250-254: the IDR and one whole run P254 B252 b251 b253
        (10.16, 3),  # frames 250-253: 251-253 need P254, after the end: re-encoded
        (10.24, 1),  # frames 250-255: 255 needs P258
        (10.04, 0),  # the IDR alone
    ],
)
def test_plan_copies_the_last_group_up_to_its_last_whole_run(end: float, tail: int) -> None:
    """A copy follows decode order; B-frames may refer to a P-frame after the clip's end, so the
    copy stops after the last run of frames that decodes without anything later."""
    packets = b_pyramid(500, 250)
    assert sorted(t for t, _ in packets) == [i * 0.04 for i in range(500)]
    plan = plan_clip(packets, 2.02, end, 25.0)
    frames = round((end - 2.04) / 0.04)
    assert plan.head_frames == 199  # 2.04 .. 9.96 s, before the IDR at 10 s
    assert plan.copy_start == pytest.approx(10.0)
    assert (plan.copy_frames, plan.tail_frames) == (frames - 199 - tail, tail)


@pytest.mark.parametrize(
    ("start", "end", "first", "last"),
    [
        (0.96, 2.88, 24, 71),  # on the open keyframes
        (1.5, 3.5, 38, 87),  # between them
        (0.0, 1.9, 0, 47),  # from the lesson's one IDR frame
    ],
)
def test_clip_of_open_gop_lesson_holds_exactly_the_frames_in_range(
    open_gop_lesson: Path, tmp_path: Path, start: float, end: float, first: int, last: int
) -> None:
    """Open-GOP keyframes have leading B-frames that refer to the picture before them: copying
    from one would bring in frames from before the clip or fail to decode."""
    dst = tmp_path / "clip.mp4"
    result = render_clip(open_gop_lesson, dst, start, end)
    assert counters(dst) == list(range(first, last + 1))
    assert result.frames == last - first + 1
    assert decode_errors(dst) == ""
    assert stray_files(tmp_path) == []


@pytest.mark.parametrize(
    ("start", "end", "first", "last"), [(1.0, 3.0, 25, 74), (1.5, 3.5, 38, 87)]
)
def test_clip_never_copies_from_a_non_idr_keyframe(
    open_gop_clean_keys_lesson: Path,
    tmp_path: Path,
    start: float,
    end: float,
    first: int,
    last: int,
) -> None:
    """The re-encoded head brings its own parameter sets; switching back to the lesson's may
    only happen at an IDR picture, so a copy from these keyframes would not decode."""
    dst = tmp_path / "clip.mp4"
    result = render_clip(open_gop_clean_keys_lesson, dst, start, end)
    assert counters(dst) == list(range(first, last + 1))
    assert result.copied_frames == 0
    assert decode_errors(dst) == ""


def test_clip_to_a_relative_path(
    counter_lesson: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = render_clip(counter_lesson, Path("clip.mp4"), 1.52, 3.48)
    assert result.path == Path("clip.mp4")
    assert counters(tmp_path / "clip.mp4") == list(range(38, 87))
    assert stray_files(tmp_path) == []


def container_keyframes(path: Path) -> list[float]:
    """What the container marks as keyframes (ffprobe's K flag)."""
    cmd = "ffprobe -v error -select_streams v:0 -show_entries packet=pts_time,flags -of csv=p=0"
    out = subprocess.run([*cmd.split(), str(path)], capture_output=True, check=True)
    rows = (line.split(",") for line in out.stdout.decode().split())
    return [float(pts) for pts, flags in rows if "K" in flags]


def test_only_idr_pictures_are_copy_points(
    counter_lesson: Path, open_gop_lesson: Path, open_gop_clean_keys_lesson: Path
) -> None:
    def copy_points(path: Path) -> list[float]:
        return [round(t, 2) for t, idr in read_packets(path, 0.0, 4.0) if idr]

    assert copy_points(counter_lesson) == [0.0, 1.0, 2.0, 3.0]
    # open-GOP: the container marks I-frames as keyframes, but only the first is an IDR
    assert container_keyframes(open_gop_lesson) == [0.0, 0.96, 1.92, 2.88, 3.84]
    assert copy_points(open_gop_lesson) == [0.0]
    assert container_keyframes(open_gop_clean_keys_lesson) == [0.0, 1.0, 2.0, 3.0]
    assert copy_points(open_gop_clean_keys_lesson) == [0.0]


def test_packets_are_read_around_the_range_only(counter_lesson: Path) -> None:
    shown = sorted(t for t, _ in read_packets(counter_lesson, 2.5, 2.7))
    assert shown[0] == pytest.approx(1.0)  # from the keyframe before start - 1 s
    assert 3.7 - 0.2 <= shown[-1] <= 3.7 + 0.2


@pytest.mark.parametrize(
    ("source", "start", "end", "first", "last", "copied"),
    [
        # keyframes at 0, 10, 20 s: 6.5 s head re-encoded, 10 s and the last group's 3.4 s copied,
        # its last 2 frames re-encoded (B-frames: they need a picture after the end)
        ("gop10_counter", 3.52, 23.48, 88, 586, 335),
        ("gop10_counter", 10.0, 20.0, 250, 499, 250),  # exactly one group: all copied
        ("gop10_counter", 11.0, 19.0, 275, 474, 0),  # inside one 10 s group: all re-encoded
        # keyframes only at the "scene changes", 7.2 and 19.6 s
        ("scene_keyed_counter", 2.0, 22.0, 50, 549, 368),
        ("scene_keyed_counter", 8.0, 19.0, 200, 474, 0),
    ],
)
def test_clips_of_remuxed_sparse_keyframe_sources_are_frame_accurate(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    source: str,
    start: float,
    end: float,
    first: int,
    last: int,
    copied: int,
) -> None:
    spec: mf.VideoSpec = request.getfixturevalue(source)
    lesson = tmp_path / "lesson.mp4"
    assert normalise(spec.path, lesson, probe(spec.path)).plan.is_remux
    dst = tmp_path / "clip.mp4"
    result = render_clip(lesson, dst, start, end)
    assert counters(dst) == list(range(first, last + 1))
    assert (result.frames, result.copied_frames) == (last - first + 1, copied)
    assert decode_errors(dst) == ""


@pytest.fixture(scope="session")
def beeping_gop10_lesson(media: Path) -> Path:
    """90 s of numbered frames under camera-like noise (so picture bytes dominate the file), an
    IDR every 10 s, B-frames, and a 30 ms beep at every whole second."""
    src = media / "gop10-beeps.mp4"
    bars = f"if(mod(floor(N/pow(2,floor(X*{mf.COUNTER_BITS}/W))),2),235,16)"
    beep = r"if(lt(mod(t\,1)\,0.03)\,0.8*sin(2*PI*1000*t)\,0)"
    mf.ffmpeg(
        "-f", "lavfi", "-i", "nullsrc=s=320x240:r=25",
        "-f", "lavfi", "-i", f"aevalsrc={beep}:s=48000:d=90",
        "-filter_complex", f"[0:v]trim=end_frame=2250,geq=lum='{bars}':cb=128:cr=128,"
        "noise=alls=40:allf=t[v]",
        "-map", "[v]", "-map", "1:a", "-t", "90", *mf.VIDEO_CODEC_ARGS["h264"],
        "-g", "250", "-keyint_min", "250", "-sc_threshold", "0", "-bf", "2",
        *mf.AUDIO_CODEC_ARGS["aac"], src,
    )  # fmt: skip
    lesson = media / "gop10-beeps-lesson.mp4"
    assert normalise(src, lesson, probe(src)).plan.is_remux
    return lesson


def bytes_read() -> int:
    """Bytes this process and its reaped children have read (Linux task I/O accounting)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def beep_onsets(path: Path) -> list[float]:
    samples = mf.read_samples(path)
    rate = mf.LESSON_RATE
    loud = np.flatnonzero(np.abs(samples) > 0.2)
    starts = loud[np.insert(np.diff(loud) > rate // 10, 0, True)]
    return [i / rate for i in starts]


def test_mid_group_clip_of_a_long_sparse_lesson_is_exact_in_sync_and_reads_only_its_window(
    beeping_gop10_lesson: Path, tmp_path: Path
) -> None:
    """IDRs at 40 and 50 s: 6.7 s head re-encoded, the last group's 1.7 s copied. Sound in step
    with the picture to a frame, and the renderer reads only around the clip: its readers
    (packet list, head, copy, sound, join) each take a few seconds of the 90, together about two
    thirds of one reading of the whole file."""
    start, end = 43.32, 51.72
    before = bytes_read()
    result = render_clip(beeping_gop10_lesson, tmp_path / "clip.mp4", start, end)
    read = bytes_read() - before
    shown = counters(tmp_path / "clip.mp4")
    # 43.32 s is frame 1083, 51.68 s frame 1292 (the counter shows numbers modulo 1024)
    assert shown == [i % 2**mf.COUNTER_BITS for i in range(1083, 1293)]
    assert result.frames == 210
    assert result.copied_frames == 43  # 50 s to the end: every run of the last group is whole
    assert decode_errors(tmp_path / "clip.mp4") == ""
    out = probe(tmp_path / "clip.mp4")
    assert out.duration == pytest.approx(end - start, abs=0.04)
    onsets = beep_onsets(tmp_path / "clip.mp4")
    want = [s - start for s in range(44, 52)]
    assert len(onsets) == len(want)
    # copied AAC packets: within half of one (11 ms) of the picture, well inside a frame
    assert max(abs(a - b) for a, b in zip(onsets, want, strict=True)) < 0.015
    assert read < beeping_gop10_lesson.stat().st_size


def stream_durations(path: Path) -> tuple[float, float]:
    """(video, audio) stream durations as the container states them."""
    cmd = [
        "ffprobe",
        "-v",
        "error",
        "-show_entries",
        "stream=codec_type,duration",
        "-of",
        "csv=p=0",
    ]
    rows = subprocess.run([*cmd, str(path)], capture_output=True, check=True).stdout.decode()
    found = dict(line.split(",")[:2] for line in rows.split())
    return float(found["video"]), float(found["audio"])


def test_clip_one_frame_after_a_keyframe_of_a_10s_gop_lesson_is_exact_and_plays(
    gop10_counter: mf.VideoSpec, tmp_path: Path
) -> None:
    """The worst start on a 10 s GOP: 249 frames before the next IDR re-encoded (the long-end
    preset and CRF), then copied. Every frame there, none extra, no decode error, the sound as
    long as the picture to a frame."""
    lesson = tmp_path / "lesson.mp4"
    assert normalise(gop10_counter.path, lesson, probe(gop10_counter.path)).plan.is_remux
    dst = tmp_path / "clip.mp4"
    result = render_clip(lesson, dst, 10.04, 25.0)
    assert counters(dst) == list(range(251, 625))
    # 10.04-19.96 s re-encoded (249 frames), 20-24.92 s copied, 24.96 s (a B-frame) re-encoded
    assert (result.frames, result.copied_frames) == (374, 124)
    assert decode_errors(dst) == ""
    video, audio = stream_durations(dst)
    assert video == pytest.approx(374 / 25, abs=0.04)
    assert audio == pytest.approx(video, abs=0.04)
