from __future__ import annotations

import wave
from pathlib import Path

import pytest

from pipeline.audio import AudioOptions, AudioResult, build_command, extract_audio
from pipeline.errors import NoAudioError
from tests import mediafactory as mf
from tests.pipeline.conftest import SHARED_SPEECH, stray_files


def _format(path: Path) -> tuple[int, int, int]:
    with wave.open(str(path)) as fh:
        return fh.getframerate(), fh.getnchannels(), fh.getsampwidth()


def test_video_gives_16k_mono_wav(h264_video: mf.VideoSpec, tmp_path: Path) -> None:
    result = extract_audio(h264_video.path, tmp_path / "audio.wav")
    assert _format(result.path) == (16000, 1, 2)
    assert result.duration == pytest.approx(3.0, abs=0.05)
    assert AudioResult.from_dict(result.to_dict()) == result


def test_audio_only_source(tmp_path: Path) -> None:
    result = extract_audio(SHARED_SPEECH / "stereo_diarization.wav", tmp_path / "a.wav")
    assert _format(result.path) == (16000, 1, 2)
    assert result.duration == pytest.approx(5.0, abs=0.05)


def test_command_reads_only_the_sound() -> None:
    cmd = build_command(Path("in.mp4"), Path("out.wav"), AudioOptions())
    assert "-vn" in cmd
    assert cmd[cmd.index("-ar") + 1] == "16000"


def test_video_without_sound_is_a_clear_error(video_only: mf.VideoSpec, tmp_path: Path) -> None:
    with pytest.raises(NoAudioError) as caught:
        extract_audio(video_only.path, tmp_path / "audio.wav")
    assert caught.value.code == "no_audio"
    assert list(tmp_path.iterdir()) == []
    assert stray_files(tmp_path) == []
