"""Normalise, and the documented outcome for every kind of input a teacher may upload.

The table of every kind of upload and its documented outcome is in docs/inputs.md; each
row has a test here or in test_probe.py.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline.errors import FfmpegError
from pipeline.normalise import (
    NormaliseOptions,
    NormaliseResult,
    build_command,
    fit_size,
    normalise,
    output_name,
    plan_normalise,
    truncation_warning,
)
from pipeline.probe import AudioStream, ProbeResult, VideoStream, probe
from tests import mediafactory as mf
from tests.pipeline.conftest import SHARED_SPEECH, SHARED_VIDEO, stray_files

VIDEO = VideoStream(
    codec="h264",
    profile="High",
    pix_fmt="yuv420p",
    width=1280,
    height=720,
    display_width=1280,
    display_height=720,
    fps=25.0,
    rotation=0,
    variable_frame_rate=False,
    max_keyframe_interval=2.0,
)
AUDIO = AudioStream(codec="aac", profile="LC", sample_rate=48000, channels=2)
READY = ProbeResult("mov,mp4,m4a,3gp,3g2,mj2", 600.0, 10**8, 0.0, VIDEO, AUDIO)


def with_video(**changes: Any) -> ProbeResult:
    return dataclasses.replace(READY, video=dataclasses.replace(VIDEO, **changes))


def test_plan_remuxes_browser_ready_source() -> None:
    plan = plan_normalise(READY)
    assert plan.copy_video and plan.copy_audio and plan.is_remux
    assert plan.reasons == ()
    assert (
        build_command(Path("in.mp4"), Path("out.mp4"), READY, plan, NormaliseOptions()).count(
            "copy"
        )
        == 2
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"codec": "hevc"}, "hevc"),
        ({"pix_fmt": "yuv420p10le"}, "profile"),
        ({"rotation": 90}, "rotated"),
        ({"variable_frame_rate": True}, "variable"),
        ({"width": 1920, "height": 1080, "display_width": 1920, "display_height": 1080}, "1920"),
    ],
)
def test_plan_transcodes_video_but_copies_fitting_audio(changes: dict, reason: str) -> None:
    plan = plan_normalise(with_video(**changes))
    assert not plan.copy_video
    assert plan.copy_audio
    assert any(reason in r for r in plan.reasons)


@pytest.mark.parametrize("gap", [10.0, 45.0, None])
def test_plan_remuxes_whatever_the_keyframe_spacing(gap: float | None) -> None:
    assert plan_normalise(with_video(max_keyframe_interval=gap)).is_remux


def test_plan_encodes_audio_but_copies_fitting_video() -> None:
    info = dataclasses.replace(READY, audio=dataclasses.replace(AUDIO, codec="opus", profile=""))
    plan = plan_normalise(info)
    assert plan.copy_video and not plan.copy_audio


def test_plan_scales_and_caps_frame_rate() -> None:
    big = with_video(width=1920, height=1080, display_width=1920, display_height=1080, fps=59.94)
    plan = plan_normalise(big)
    assert (plan.width, plan.height, plan.fps) == (1280, 720, 30.0)
    cmd = build_command(Path("a.mov"), Path("b.mp4"), big, plan, NormaliseOptions())
    assert "scale=1280:720:flags=bilinear,setsar=1" in cmd
    assert "expr:gte(t,n_forced*2)" in cmd
    assert "+faststart" in cmd


def test_sources_above_the_box_get_the_cheaper_capped_encode() -> None:
    phone = with_video(
        codec="hevc", width=1920, height=1080, display_width=1920, display_height=1080
    )
    plan = plan_normalise(phone)
    assert (plan.preset, plan.maxrate, plan.bufsize) == ("ultrafast", "3M", "6M")
    cmd = build_command(Path("a.mov"), Path("b.mp4"), phone, plan, NormaliseOptions())
    assert cmd[cmd.index("-preset") + 1] == "ultrafast"
    assert cmd[cmd.index("-maxrate") + 1] == "3M"
    assert cmd[cmd.index("-bufsize") + 1] == "6M"


def test_sources_within_the_box_keep_the_quality_preset_without_a_cap() -> None:
    small_hevc = with_video(codec="hevc")
    plan = plan_normalise(small_hevc)
    assert (plan.preset, plan.maxrate) == ("veryfast", "")
    cmd = build_command(Path("a.mov"), Path("b.mp4"), small_hevc, plan, NormaliseOptions())
    assert cmd[cmd.index("-preset") + 1] == "veryfast"
    assert "-maxrate" not in cmd
    assert plan_normalise(READY).preset == ""


def test_plan_audio_only_makes_m4a() -> None:
    info = dataclasses.replace(READY, video=None)
    assert plan_normalise(info).container == "m4a"
    assert output_name(info) == "lesson.m4a"
    assert output_name(READY) == "lesson.mp4"


def test_fit_size_keeps_shape_and_turns_box_for_portrait() -> None:
    assert fit_size(1920, 1080, 1280, 720) == (1280, 720)
    assert fit_size(1080, 1920, 1280, 720) == (720, 1280)
    assert fit_size(321, 241, 1280, 720) == (320, 240)
    assert fit_size(640, 480, 1280, 720) == (640, 480)


def test_truncation_warning_reads_like_a_clock() -> None:
    assert truncation_warning(600.0, 250.0, 0.95) == "truncated: readable up to 4:10 of 10:00"
    assert truncation_warning(600.0, 599.0, 0.95) is None


def _streams(path: Path) -> dict[str, dict]:
    info = probe(path)
    out: dict[str, dict] = {}
    if info.video:
        out["video"] = dataclasses.asdict(info.video)
    if info.audio:
        out["audio"] = dataclasses.asdict(info.audio)
    return out


def is_faststart(path: Path) -> bool:
    data = path.read_bytes()
    return 0 <= data.find(b"moov") < data.find(b"mdat")


def test_remux_copies_and_moves_index_to_front(h264_video: mf.VideoSpec, tmp_path: Path) -> None:
    info = probe(h264_video.path)
    dst = tmp_path / "lesson.mp4"
    seen: list[float] = []
    result = normalise(h264_video.path, dst, info, on_progress=seen.append)
    assert result.plan.is_remux
    assert result.duration == pytest.approx(3.0, abs=0.05)
    assert is_faststart(dst)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    assert NormaliseResult.from_dict(result.to_dict()) == result
    assert stray_files(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "vcodec", "acodec"),
    [("hevc.mp4", "hevc", "aac"), ("mjpeg.avi", "mjpeg", "pcm"), ("vp8.webm", "vp8", "vorbis")],
)
def test_other_codecs_become_h264_aac(
    media: Path, tmp_path: Path, name: str, vcodec: str, acodec: str
) -> None:
    spec = mf.make_video(media / name, vcodec=vcodec, acodec=acodec)
    dst = tmp_path / "lesson.mp4"
    result = normalise(spec.path, dst, probe(spec.path))
    assert not result.plan.copy_video
    out = probe(dst)
    assert out.video is not None and out.audio is not None
    assert (out.video.codec, out.video.pix_fmt, out.audio.codec) == ("h264", "yuv420p", "aac")
    assert out.video.max_keyframe_interval is not None
    assert out.video.max_keyframe_interval <= 2.0 + 0.05
    assert out.duration == pytest.approx(3.0, abs=0.1)
    assert is_faststart(dst)


def test_1080p_is_scaled_to_720p(tmp_path: Path) -> None:
    src = SHARED_VIDEO / "counter.mp4"
    dst = tmp_path / "lesson.mp4"
    normalise(src, dst, probe(src))
    out = probe(dst).video
    assert out is not None
    assert (out.width, out.height) == (1280, 720)


def test_rotated_video_is_turned_upright(
    rotated_video: mf.VideoSpec, unrotated_twin: mf.VideoSpec, tmp_path: Path
) -> None:
    dst = tmp_path / "lesson.mp4"
    normalise(rotated_video.path, dst, probe(rotated_video.path))
    out = probe(dst).video
    assert out is not None
    assert (out.width, out.height, out.rotation) == (240, 320, 0)
    upright = mf.decode_gray_frames(dst, (240, 320))[0].astype(float)
    original = mf.decode_gray_frames(unrotated_twin.path)[0].astype(float)
    clockwise = np.rot90(original, k=-1)
    counter = np.rot90(original, k=1)
    assert np.abs(upright - clockwise).mean() < 10
    assert np.abs(upright - counter).mean() > 30


def test_shared_rotated_file_is_upright(tmp_path: Path) -> None:
    src = SHARED_VIDEO / "issue-134-rotate.mp4"
    dst = tmp_path / "lesson.mp4"
    normalise(src, dst, probe(src))
    out = probe(dst)
    assert out.video is not None and out.has_audio
    assert (out.video.width, out.video.height, out.video.rotation) == (544, 1280, 0)


def _audio_video_durations(path: Path) -> list[float]:
    cmd = ["ffprobe", "-v", "error", "-show_entries", "stream=duration", "-of", "csv=p=0"]
    out = subprocess.run([*cmd, str(path)], capture_output=True, check=True).stdout.decode()
    return [float(x) for x in out.split()]


def test_variable_frame_rate_becomes_constant_in_sync(
    vfr_video: mf.VideoSpec, tmp_path: Path
) -> None:
    dst = tmp_path / "lesson.mp4"
    result = normalise(vfr_video.path, dst, probe(vfr_video.path))
    assert "variable frame rate" in result.plan.reasons
    out = probe(dst)
    assert out.video is not None
    assert not out.video.variable_frame_rate
    video_seconds, audio_seconds = _audio_video_durations(dst)
    assert video_seconds == pytest.approx(3.0, abs=0.1)
    assert audio_seconds == pytest.approx(video_seconds, abs=0.1)


def test_delayed_start_begins_at_zero(tmp_path: Path) -> None:
    src = SHARED_VIDEO / "delayed_start.mp4"
    dst = tmp_path / "lesson.mp4"
    result = normalise(src, dst, probe(src))
    assert result.warnings == ()
    out = probe(dst)
    assert out.start_time == pytest.approx(0.0, abs=0.01)
    assert out.duration == pytest.approx(0.96, abs=0.05)


def test_audio_only_becomes_m4a(tone_mp3: Path, tone_m4a: Path, tmp_path: Path) -> None:
    encoded = normalise(tone_mp3, tmp_path / "lesson.m4a", probe(tone_mp3))
    copied = normalise(tone_m4a, tmp_path / "copy.m4a", probe(tone_m4a))
    assert not encoded.plan.copy_audio and copied.plan.is_remux
    for path in (encoded.path, copied.path):
        out = probe(path)
        assert not out.has_video
        assert out.audio is not None and out.audio.codec == "aac"
        assert out.duration == pytest.approx(3.0, abs=0.1)


def test_shared_flac_speech_becomes_m4a(tmp_path: Path) -> None:
    src = SHARED_SPEECH / "jfk.flac"
    result = normalise(src, tmp_path / "lesson.m4a", probe(src))
    assert result.duration == pytest.approx(11.0, abs=0.1)


def test_video_without_sound_stays_silent(video_only: mf.VideoSpec, tmp_path: Path) -> None:
    dst = tmp_path / "lesson.mp4"
    result = normalise(video_only.path, dst, probe(video_only.path))
    assert result.plan.is_remux
    out = probe(dst)
    assert out.has_video and not out.has_audio


def test_silent_recording_is_a_normal_lesson(media: Path, tmp_path: Path) -> None:
    spec = mf.make_video(media / "silent.mp4", audio="silence")
    out = probe(normalise(spec.path, tmp_path / "lesson.mp4", probe(spec.path)).path)
    assert out.has_audio and out.has_video


def test_truncated_faststart_file_keeps_what_is_readable(media: Path, tmp_path: Path) -> None:
    whole = media / "faststart-whole.mp4"
    mf.make_video(whole, duration=10.0, gop=25, extra=["-movflags", "+faststart"])
    cut = tmp_path / "cut off.mp4"
    mf.truncate_copy(whole, cut, 0.4)
    info = probe(cut)
    assert info.duration == pytest.approx(10.0, abs=0.1)
    result = normalise(cut, tmp_path / "lesson.mp4", info)
    assert result.duration < 6.0
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("truncated: readable up to 0:0")
    assert result.warnings[0].endswith("of 0:10")


def test_unicode_name_with_spaces(h264_video: mf.VideoSpec, tmp_path: Path) -> None:
    src = tmp_path / "Année 7 – sciences naturelles.mp4"
    src.write_bytes(h264_video.path.read_bytes())
    dst = tmp_path / "out dir ü" / "lesson.mp4"
    assert normalise(src, dst, probe(src)).path.exists()


def test_failure_leaves_nothing_behind(tmp_path: Path) -> None:
    fake = tmp_path / "in" / "noise.mp4"
    fake.parent.mkdir()
    mf.write_random(fake)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(FfmpegError) as caught:
        normalise(fake, out_dir / "lesson.mp4", READY)
    assert caught.value.code == "ffmpeg_failed"
    assert caught.value.detail
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("source", ["gop10_counter", "scene_keyed_counter"])
def test_sparse_keyframe_sources_are_remuxed_not_transcoded(
    source: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    spec: mf.VideoSpec = request.getfixturevalue(source)
    info = probe(spec.path)
    assert info.video is not None and info.video.max_keyframe_interval is not None
    assert info.video.max_keyframe_interval >= 7.0  # sparse indeed
    result = normalise(spec.path, tmp_path / "lesson.mp4", info)
    assert result.plan.is_remux and result.plan.reasons == ()
    out = probe(result.path)
    assert out.video is not None
    assert out.video.max_keyframe_interval == pytest.approx(info.video.max_keyframe_interval)
