"""A clip worker on S3 storage fetches only the lesson's bytes the clip needs (pipeline.window),
from the real S3 server, and renders exactly the clip the whole file gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.storage import open_storage
from pipeline.clip import ClipOptions, render_clip
from pipeline.normalise import normalise
from pipeline.probe import probe
from pipeline.window import fetch_window
from tests import mediafactory as mf


@pytest.fixture(scope="module")
def long_gop10_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 s of numbered frames under camera-like noise (picture bytes dominate), an IDR every
    10 s, B-frames, AAC; written by ffmpeg with its index at the end."""
    src = tmp_path_factory.mktemp("window") / "recording.mp4"
    bars = f"if(mod(floor(N/pow(2,floor(X*{mf.COUNTER_BITS}/W))),2),235,16)"
    mf.ffmpeg(
        "-f", "lavfi", "-i", "nullsrc=s=320x240:r=25",
        "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000",
        "-filter_complex", f"[0:v]trim=end_frame=3000,geq=lum='{bars}':cb=128:cr=128,"
        "noise=alls=40:allf=t[v]",
        "-map", "[v]", "-map", "1:a", "-t", "120", *mf.VIDEO_CODEC_ARGS["h264"],
        "-g", "250", "-keyint_min", "250", "-sc_threshold", "0", "-bf", "2",
        *mf.AUDIO_CODEC_ARGS["aac"], src,
    )  # fmt: skip
    return src


@pytest.mark.parametrize("faststart", [True, False], ids=["stored lesson", "index at the end"])
@pytest.mark.parametrize("edit_list", [False, True], ids=["smart cut", "edit list"])
def test_clip_from_the_fetched_window_equals_the_clip_from_the_whole_file(
    long_gop10_recording: Path, s3_url: str, tmp_path: Path, faststart: bool, edit_list: bool
) -> None:
    source = long_gop10_recording
    if faststart:
        source = tmp_path / "lesson.mp4"
        assert normalise(long_gop10_recording, source, probe(long_gop10_recording)).plan.is_remux
    storage = open_storage(s3_url)
    key = "lessons/l1/lesson.mp4"
    storage.put_file(key, source, "video/mp4")
    start, end = 61.32, 67.0
    window = fetch_window(
        lambda first, last: storage.open_range(key, first, last),
        storage.size(key),
        tmp_path / "window.mp4",
        start,
        end,
    )
    size = source.stat().st_size
    assert not window.whole
    assert window.size == size
    # the keyframes at 50 and 70 s bound the window: about a sixth of the file, plus the index
    assert window.fetched < 0.35 * size
    options = ClipOptions(edit_list=edit_list)
    from_window = render_clip(window.path, tmp_path / "from-window.mp4", start, end, options)
    whole = render_clip(source, tmp_path / "from-whole.mp4", start, end, options)
    assert from_window.frames == whole.frames == 142
    shown = [mf.read_counter(f) for f in mf.decode_gray_frames(from_window.path)]
    assert shown == [i % 2**mf.COUNTER_BITS for i in range(1533, 1675)]
    assert shown == [mf.read_counter(f) for f in mf.decode_gray_frames(whole.path)]
    assert mf.read_samples(from_window.path).tolist() == mf.read_samples(whole.path).tolist()


def test_a_container_without_an_mp4_index_is_fetched_whole(
    long_gop10_recording: Path, s3_url: str, tmp_path: Path
) -> None:
    mkv = tmp_path / "lesson.mkv"
    mf.ffmpeg("-i", long_gop10_recording, "-c", "copy", mkv)
    storage = open_storage(s3_url)
    storage.put_file("lessons/l2/lesson.mkv", mkv)
    window = fetch_window(
        lambda first, last: storage.open_range("lessons/l2/lesson.mkv", first, last),
        storage.size("lessons/l2/lesson.mkv"),
        tmp_path / "window.mkv",
        10.0,
        20.0,
    )
    assert window.whole
    # the whole object, plus the block PyAV read to find it is not MP4
    assert mkv.stat().st_size <= window.fetched <= mkv.stat().st_size + 1024 * 1024
    assert window.path.read_bytes() == mkv.read_bytes()
