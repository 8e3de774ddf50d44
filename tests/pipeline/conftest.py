"""Generated media shared by the pipeline tests, made once per session and never modified.

Tests that write outputs use their own `tmp_path`; inputs here are read-only by convention.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.normalise import normalise
from pipeline.probe import probe
from tests import mediafactory as mf

SHARED_VIDEO = Path(__file__).resolve().parents[1] / "data" / "video"
SHARED_SPEECH = SHARED_VIDEO.parent / "speech"


def stray_files(folder: Path) -> list[str]:
    """Hidden temporaries a failed stage would have left behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def h264_video(media: Path) -> mf.VideoSpec:
    """H.264/AAC, keyframes every second: already browser-ready."""
    return mf.make_video(media / "h264.mp4", gop=25)


@pytest.fixture(scope="session")
def video_only(media: Path) -> mf.VideoSpec:
    return mf.make_video(media / "video only.mp4", acodec=None, gop=25)


@pytest.fixture(scope="session")
def rotated_video(media: Path) -> mf.VideoSpec:
    return mf.make_video(media / "phone.mp4", rotation=90)


@pytest.fixture(scope="session")
def unrotated_twin(media: Path) -> mf.VideoSpec:
    """The same picture as `rotated_video` without rotation metadata."""
    return mf.make_video(media / "phone-unrotated.mp4")


@pytest.fixture(scope="session")
def vfr_video(media: Path) -> mf.VideoSpec:
    return mf.make_vfr_video(media / "vfr.mp4")


@pytest.fixture(scope="session")
def counter_video(media: Path) -> mf.VideoSpec:
    """100 numbered frames at 25 fps, keyframes every 25 frames, B-frames."""
    return mf.make_counter_video(media / "counter.mp4")


@pytest.fixture(scope="session")
def counter_lesson(media: Path, counter_video: mf.VideoSpec) -> Path:
    dst = media / "counter-lesson.mp4"
    normalise(counter_video.path, dst, probe(counter_video.path))
    return dst


@pytest.fixture(scope="session")
def open_gop_lesson(media: Path) -> Path:
    """Like `counter_lesson` but open-GOP (keyframes every 24 frames), which normalise remuxes."""
    spec = mf.make_counter_video(media / "counter-open-gop.mp4", gop=24, open_gop=True)
    dst = media / "counter-open-gop-lesson.mp4"
    normalise(spec.path, dst, probe(spec.path))
    return dst


@pytest.fixture(scope="session")
def open_gop_clean_keys_lesson(media: Path) -> Path:
    """Open-GOP with keyframes every 25 frames: each follows a P-frame, so it has no leading
    pictures, but it is a non-IDR I-frame (a copy cannot start there)."""
    spec = mf.make_counter_video(media / "counter-open-gop-25.mp4", gop=25, open_gop=True)
    dst = media / "counter-open-gop-25-lesson.mp4"
    normalise(spec.path, dst, probe(spec.path))
    return dst


@pytest.fixture(scope="session")
def cuts_video(media: Path) -> mf.VideoSpec:
    return mf.make_video(media / "cuts.mp4", duration=10.0, cut_times=(2.5, 5.2, 7.7))


@pytest.fixture(scope="session")
def cuts_lesson(media: Path, cuts_video: mf.VideoSpec) -> Path:
    dst = media / "cuts-lesson.mp4"
    normalise(cuts_video.path, dst, probe(cuts_video.path))
    return dst


@pytest.fixture(scope="session")
def tone_m4a(media: Path) -> Path:
    path = media / "tone.m4a"
    mf.make_tone(path)
    return path


@pytest.fixture(scope="session")
def tone_mp3(media: Path) -> Path:
    path = media / "tone.mp3"
    mf.make_tone(path, acodec="mp3")
    return path


@pytest.fixture(scope="session")
def gop10_counter(media: Path) -> mf.VideoSpec:
    """A camera-style source: 30 s at 25 fps, a keyframe every 10 s, none at scene changes."""
    return mf.make_counter_video(media / "gop10.mp4", frames=750, gop=250)


@pytest.fixture(scope="session")
def scene_keyed_counter(media: Path) -> mf.VideoSpec:
    """Keyframes only where an encoder saw scene changes: at 0, 7.2 and 19.6 s of 24 s."""
    return mf.make_counter_video(media / "scene-keyed.mp4", frames=600, keyframes_at=(7.2, 19.6))
