from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.errors import NoVideoError
from pipeline.probe import probe
from pipeline.thumbnails import (
    ThumbnailOptions,
    ThumbnailResult,
    choose_interval,
    compose_sprite,
    make_thumbnails,
    pick_poster,
    thumbnail_cues,
)
from tests import mediafactory as mf


def test_cues_point_into_the_sprite_grid() -> None:
    vtt = thumbnail_cues([0.04, *[5.0 * i for i in range(1, 12)]], 57.5, 10, (160, 90))
    lines = vtt.splitlines()
    assert lines[0] == "WEBVTT"
    assert "00:00:00.000 --> 00:00:05.000" in lines
    assert "sprite.jpg#xywh=0,0,160,90" in lines
    assert "sprite.jpg#xywh=1440,0,160,90" in lines
    assert "sprite.jpg#xywh=160,90,160,90" in lines
    assert lines[-2] == "00:00:55.000 --> 00:00:57.500"


def test_interval_keeps_long_lessons_within_tile_budget() -> None:
    options = ThumbnailOptions()
    assert choose_interval(30.0, options) == 2.0
    hour = choose_interval(3600.0, options)
    assert 3600 / hour <= options.max_tiles
    assert choose_interval(3600.0, ThumbnailOptions(interval=7.0)) == 7.0


def test_poster_skips_black_tiles() -> None:
    black = np.zeros((3, 9, 16, 3), dtype=np.uint8)
    lively = np.random.default_rng(1).integers(0, 256, (1, 9, 16, 3), dtype=np.uint8)
    assert pick_poster(np.concatenate([black, lively, black]), 1.0) == 3


def test_sprite_lays_tiles_in_rows() -> None:
    tiles = np.stack([np.full((9, 16, 3), i, dtype=np.uint8) for i in range(12)])
    sheet = compose_sprite(tiles, 5)
    assert sheet.shape == (27, 80, 3)
    assert sheet[9, 16, 0] == 6


def test_thumbnails_of_a_lesson(media: Path, tmp_path: Path) -> None:
    spec = mf.make_video(media / "black-lead.mp4", duration=10.0, black_lead=2.0, gop=25)
    result = make_thumbnails(spec.path, tmp_path)
    assert (result.interval, result.count, result.tile_width, result.tile_height) == (
        2.0,
        5,
        160,
        120,
    )
    sprite = cv2.imread(str(result.sprite))
    assert sprite is not None
    assert sprite.shape == (120, 5 * 160, 3)
    poster = cv2.imread(str(result.poster))
    assert poster is not None
    assert poster.shape == (240, 320, 3)
    assert poster.mean() > 40  # the black opening is not the poster
    assert result.poster_time >= 2.0
    assert result.vtt.read_text().count("#xywh=") == 5
    assert ThumbnailResult.from_dict(result.to_dict()) == result
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "poster.jpg",
        "sprite.jpg",
        "thumbnails.vtt",
    ]


def test_portrait_tiles_keep_their_shape(rotated_video: mf.VideoSpec, tmp_path: Path) -> None:
    result = make_thumbnails(rotated_video.path, tmp_path, probe=probe(rotated_video.path))
    assert (result.tile_width, result.tile_height) == (160, 214)


def test_audio_only_has_no_thumbnails(tone_m4a: Path, tmp_path: Path) -> None:
    with pytest.raises(NoVideoError):
        make_thumbnails(tone_m4a, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("source", ["gop10_counter", "scene_keyed_counter"])
def test_sparse_keyframes_keep_the_tile_spacing(
    source: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    spec: mf.VideoSpec = request.getfixturevalue(source)
    result = make_thumbnails(spec.path, tmp_path)
    assert result.interval == 2.0
    expected = math.floor(spec.duration / 2.0)
    assert result.count in (expected, expected + 1)  # not one tile per keyframe (3)
    sprite = cv2.imread(str(result.sprite), cv2.IMREAD_GRAYSCALE)
    assert sprite is not None
    w, h = result.tile_width, result.tile_height
    for i in range(result.count):
        row, col = divmod(i, result.columns)
        tile = sprite[row * h : (row + 1) * h, col * w : (col + 1) * w]
        shown = mf.read_counter(cv2.resize(tile, (320, 240)))
        assert abs(shown - round(i * 2.0 * spec.fps)) <= 3  # the frame of the tile's time
    cues = result.vtt.read_text().split("\n\n")[1:]
    assert len(cues) == result.count
    assert cues[1].startswith("00:00:02.0")  # a picture within a B-frame run of 2 s
