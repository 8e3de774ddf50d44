from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from models.mediatype import sniff_extension
from pipeline.errors import (
    EmptyFileError,
    NoStreamsError,
    NotMediaError,
    PipelineError,
    UnreadableMediaError,
)
from pipeline.probe import ProbeOptions, ProbeResult, packet_stats, parse_rotation, probe
from tests import mediafactory as mf
from tests.pipeline.conftest import SHARED_SPEECH, SHARED_VIDEO


def test_h264_video_is_described(h264_video: mf.VideoSpec) -> None:
    info = probe(h264_video.path)
    assert info.has_video and info.has_audio
    assert info.duration == pytest.approx(3.0, abs=0.05)
    assert info.video is not None and info.audio is not None
    assert (info.video.codec, info.video.width, info.video.height) == ("h264", 320, 240)
    assert info.video.fps == pytest.approx(25)
    assert info.video.rotation == 0
    assert not info.video.variable_frame_rate
    assert info.video.max_keyframe_interval == pytest.approx(1.0, abs=0.05)
    assert (info.audio.codec, info.audio.sample_rate) == ("aac", 48000)


def test_audio_only_and_video_only(tone_mp3: Path, video_only: mf.VideoSpec) -> None:
    audio = probe(tone_mp3)
    assert audio.has_audio and not audio.has_video
    video = probe(video_only.path)
    assert video.has_video and not video.has_audio


def test_rotation_gives_display_size(rotated_video: mf.VideoSpec) -> None:
    info = probe(rotated_video.path)
    assert info.video is not None
    assert info.video.rotation == 90
    assert (info.video.width, info.video.height) == (320, 240)
    assert (info.video.display_width, info.video.display_height) == (240, 320)


def test_shared_rotated_file() -> None:
    info = probe(SHARED_VIDEO / "issue-134-rotate.mp4")
    assert info.video is not None
    assert info.video.rotation == 90
    assert (info.video.display_width, info.video.display_height) == (544, 1280)


def test_variable_frame_rate_is_flagged(vfr_video: mf.VideoSpec, h264_video: mf.VideoSpec) -> None:
    vfr = probe(vfr_video.path).video
    cfr = probe(h264_video.path).video
    assert vfr is not None and cfr is not None
    assert vfr.variable_frame_rate
    assert not cfr.variable_frame_rate


def test_delayed_start_is_reported() -> None:
    info = probe(SHARED_VIDEO / "delayed_start.mp4")
    assert info.start_time == pytest.approx(1.075, abs=0.01)


def test_name_with_spaces_and_accents(h264_video: mf.VideoSpec, tmp_path: Path) -> None:
    odd = tmp_path / "Leçon de français – Year 7 ö.mp4"
    odd.write_bytes(h264_video.path.read_bytes())
    assert probe(odd).duration == pytest.approx(3.0, abs=0.05)


def test_round_trips_through_json(h264_video: mf.VideoSpec) -> None:
    info = probe(h264_video.path)
    assert ProbeResult.from_dict(info.to_dict()) == info


def _zero(path: Path) -> None:
    path.write_bytes(b"")


def _jpeg(path: Path) -> None:
    mf.make_image(path.with_suffix(".jpg"))
    path.with_suffix(".jpg").rename(path)


def _png(path: Path) -> None:
    mf.make_image(path.with_suffix(".png"))
    path.with_suffix(".png").rename(path)


def _truncated_moov_at_end(path: Path) -> None:
    source = path.with_name("whole.mp4")
    mf.make_video(source, duration=2.0)
    mf.truncate_copy(source, path, 0.5)


BAD_INPUTS = [
    ("zero bytes", _zero, EmptyFileError, "empty"),
    ("random bytes", mf.write_random, NotMediaError, "not a recording"),
    ("text renamed", mf.write_text, NotMediaError, "text file"),
    ("pdf renamed", mf.write_pdf, NotMediaError, "PDF"),
    ("jpeg renamed", _jpeg, NotMediaError, "JPEG picture"),
    ("png renamed", _png, NotMediaError, "PNG picture"),
    ("truncated before index", _truncated_moov_at_end, UnreadableMediaError, "truncated"),
]


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_is_rejected_with_a_reason(
    tmp_path: Path, make: object, error: type[PipelineError], words: str
) -> None:
    path = tmp_path / "lesson.mp4"
    make(path)  # type: ignore[operator]
    with pytest.raises(error) as caught:
        probe(path, ProbeOptions(sniff=sniff_extension))  # as the workers' probe stage runs it
    assert words.lower() in caught.value.message.lower()
    assert caught.value.code == error.code


def test_container_without_audio_or_video(tmp_path: Path) -> None:
    subs = tmp_path / "subs.srt"
    subs.write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n", encoding="utf-8")
    path = tmp_path / "subtitles only.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(subs), str(path)], check=True)
    with pytest.raises(NoStreamsError):
        probe(path)


def test_shared_speech_is_audio_only() -> None:
    info = probe(SHARED_SPEECH / "jfk.flac")
    assert not info.has_video
    assert info.duration == pytest.approx(11.0, abs=0.05)


def test_packet_stats_finds_keyframe_gap_and_vfr() -> None:
    regular = [f"{i * 0.04:.2f},{'K_' if i % 50 == 0 else '__'}" for i in range(200)]
    gap, vfr, median = packet_stats(regular)
    assert gap == pytest.approx(2.0)
    assert not vfr
    assert median == pytest.approx(0.04)
    irregular = [f"{t:.3f},__" for t in [0, 0.033, 0.066, 0.1, 0.2, 0.3, 0.4, 0.433, 0.5, 0.6]]
    assert packet_stats(irregular)[1]


def test_parse_rotation_reads_matrix_and_tag() -> None:
    assert parse_rotation({"side_data_list": [{"rotation": -90}]}) == 90
    assert parse_rotation({"side_data_list": [{"rotation": 90}]}) == 270
    assert parse_rotation({"tags": {"rotate": "180"}}) == 180
    assert parse_rotation({}) == 0


def test_without_a_sniff_ffprobe_alone_refuses_a_renamed_pdf(tmp_path: Path) -> None:
    path = tmp_path / "lesson.mp4"
    mf.write_pdf(path)
    with pytest.raises(NotMediaError, match="not a recording ffmpeg can read"):
        probe(path)
