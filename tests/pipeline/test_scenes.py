from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import NoVideoError
from pipeline.scenes import (
    SceneOptions,
    SceneResult,
    fade_cuts,
    frame_score,
    hard_cuts,
    scene_scores,
)
from tests import mediafactory as mf
from tests.pipeline.conftest import SHARED_VIDEO

RNG = np.random.default_rng(3)


def test_same_picture_scores_zero_and_new_picture_scores_high() -> None:
    a = RNG.integers(0, 256, (36, 64, 3), dtype=np.uint8)
    b = np.zeros_like(a)
    b[..., 2] = 220  # a red picture
    assert frame_score(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frame_score(a, b) > 0.6


def test_fading_grey_is_not_a_cut() -> None:
    darker = np.full((36, 64, 3), 120, dtype=np.uint8)
    lighter = np.full((36, 64, 3), 130, dtype=np.uint8)
    assert frame_score(darker, lighter) < 0.1


def test_hard_cuts_respect_threshold_gap_and_darkness() -> None:
    times = [0.0, 1.0, 1.5, 4.0, 6.0]
    scores = [0.0, 0.9, 0.9, 0.2, 0.9]
    levels = [100.0, 100.0, 100.0, 100.0, 5.0]
    assert hard_cuts(times, scores, levels, SceneOptions()) == [1.0]


def test_fade_cuts_mark_middle_of_black_stretch() -> None:
    times = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    levels = [5.0, 100.0, 4.0, 3.0, 100.0, 2.0]
    assert fade_cuts(times, levels, 20.0) == [2.5]


def test_hard_cuts_found_on_keyframes(media: Path, cuts_video: mf.VideoSpec) -> None:
    # a keyframe every second and one at each cut (x264's scene-cut detection): trusted alone
    extra = ["-preset", "veryfast", "-g", "25"]
    path = media / "cuts-keyed.mp4"
    spec = mf.make_video(path, duration=10.0, cut_times=cuts_video.cut_times, extra=extra)
    result = scene_scores(spec.path)
    assert result.sampling == "keyframes"
    assert len(result.cuts) == len(cuts_video.cut_times)
    for found, expected in zip(result.cuts, cuts_video.cut_times, strict=True):
        assert found == pytest.approx(expected, abs=0.1)
    assert len(result.times) < 20  # keyframes only, not all 250 frames
    assert SceneResult.from_dict(result.to_dict()) == result


def test_hard_cuts_found_by_sampling_between_sparse_keyframes(
    cuts_lesson: Path, cuts_video: mf.VideoSpec
) -> None:
    result = scene_scores(cuts_lesson)
    assert result.sampling == "fps=4"
    assert result.cuts == pytest.approx(cuts_video.cut_times, abs=0.5)


def test_steady_shot_has_no_cuts(h264_video: mf.VideoSpec) -> None:
    assert scene_scores(h264_video.path).cuts == ()


@pytest.mark.parametrize(
    ("options", "sampling", "tolerance"),
    [
        (SceneOptions(sample_fps=25, max_keyframe_gap=0), "fps=25", 0.1),
        (SceneOptions(), "keyframes", 1.0),  # its keyframes are 0.12 s apart
        (SceneOptions(max_keyframe_gap=0), "fps=4", 1.0),  # the rate sparse sources get
    ],
)
def test_fades_match_manifest_scene_starts(
    options: SceneOptions, sampling: str, tolerance: float
) -> None:
    result = scene_scores(SHARED_VIDEO / "fades.mp4", options)
    assert result.sampling == sampling
    expected = [84 / 25, 167 / 25]  # manifest: scene starts at frames 0, 84, 167
    assert result.cuts == pytest.approx(expected, abs=tolerance)


SPARSE_CUTS = (3.3, 7.7, 13.1)
SPARSE_SOURCES = {
    "keyframe every 10 s": ["-g", "250", "-keyint_min", "250", "-sc_threshold", "0"],
    "keyframes only at scene changes": [
        *("-g", "100000", "-sc_threshold", "0"),
        *("-force_key_frames", ",".join(f"{t:g}" for t in SPARSE_CUTS)),
    ],
}


@pytest.mark.parametrize("name", list(SPARSE_SOURCES))
def test_sparse_keyframes_still_find_each_cut_within_a_second(media: Path, name: str) -> None:
    path = media / f"sparse-cuts-{len(name)}.mp4"
    spec = mf.make_video(
        path, duration=16.0, fps=25, cut_times=SPARSE_CUTS, extra=SPARSE_SOURCES[name]
    )
    result = scene_scores(spec.path)
    assert result.sampling == "fps=4"
    assert len(result.cuts) == len(SPARSE_CUTS)
    for found, expected in zip(result.cuts, SPARSE_CUTS, strict=True):
        assert abs(found - expected) <= 1.0
    assert max(b - a for a, b in itertools.pairwise(result.times)) <= 0.3


def test_audio_only_has_no_scenes(tone_m4a: Path) -> None:
    with pytest.raises(NoVideoError):
        scene_scores(tone_m4a)
