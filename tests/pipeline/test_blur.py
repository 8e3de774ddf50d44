"""Face blurring: box work as pure functions, then the real detector and renderer on real faces.

The faces are in tests/data/faces/city.jpg (Pexels licence, see its LICENSE.md), panned across so
they move; FACES below are hand-checked boxes of eight clearly visible faces in that photo.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.blur import (
    BlurOptions,
    Box,
    FaceDetector,
    blur_faces,
    frame_boxes,
    grow,
    hold,
    iou,
)
from pipeline.probe import ProbeOptions, probe
from tests.mediafactory import (
    FACES_CROP,
    FACES_PAN_PIXELS_PER_SECOND,
    decode_gray_frames,
    make_faces_video,
)

FACES = [  # x1, y1, x2, y2 in the photo
    (221, 106, 254, 145),
    (605, 155, 638, 197),
    (182, 116, 211, 151),
    (324, 127, 350, 160),
    (477, 159, 501, 192),
    (533, 135, 552, 159),
    (368, 135, 389, 160),
    (429, 140, 443, 159),
]
FPS = 25


def test_grow_widens_each_side_and_stays_in_the_frame() -> None:
    assert grow(Box(10, 20, 30, 60), 0.5, 100, 100) == Box(0, 0, 40, 80)
    assert grow(Box(90, 90, 100, 100), 1.0, 100, 100) == Box(80, 80, 100, 100)


def test_iou() -> None:
    assert iou(Box(0, 0, 10, 10), Box(0, 0, 10, 10)) == 1.0
    assert iou(Box(0, 0, 10, 10), Box(20, 20, 30, 30)) == 0.0
    assert iou(Box(0, 0, 10, 10), Box(5, 0, 15, 10)) == pytest.approx(1 / 3)


def test_hold_keeps_a_face_missed_for_up_to_keep_samples() -> None:
    face = Box(0, 0, 10, 10)
    samples: list[list[Box]] = [[face], [], [], []]
    held = hold(samples, keep=2)
    assert held[1] == [face]
    assert held[2] == [face]
    assert held[3] == []  # three samples without it: gone


def test_hold_does_not_double_a_face_found_again_nearby() -> None:
    held = hold([[Box(0, 0, 10, 10)], [Box(1, 0, 11, 10)]], keep=2)
    assert held[1] == [Box(1, 0, 11, 10)]


def test_frames_between_samples_cover_both_positions() -> None:
    before, after = [Box(0, 0, 10, 10)], [Box(50, 0, 60, 10)]
    assert frame_boxes(before, after) == [*before, *after]


@pytest.fixture(scope="module")
def faces_video(shared_media: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("faces")
    return make_faces_video(folder / "faces.mp4", shared_media / "faces" / "city.jpg")


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian: high for edges and texture, near zero once blurred."""
    return float(cv2.Laplacian(gray.astype(np.float64), cv2.CV_64F).var())


def face_in_frame(face: tuple[int, int, int, int], index: int) -> tuple[int, int, int, int]:
    shift = FACES_PAN_PIXELS_PER_SECOND * index / FPS
    top = FACES_CROP[2]
    x1, y1, x2, y2 = face
    return round(x1 - shift), y1 - top, round(x2 - shift), y2 - top


def test_detector_finds_the_faces_in_the_photo(shared_media: Path) -> None:
    photo = cv2.imread(str(shared_media / "faces" / "city.jpg"))
    assert photo is not None
    image = np.asarray(cv2.cvtColor(photo, cv2.COLOR_BGR2RGB), dtype=np.uint8)
    found = FaceDetector().detect(image)
    for face in FACES:
        assert any(iou(Box(*face), b) > 0.4 for b in found), face


def test_every_face_is_blurred_in_every_frame_and_the_rest_stays_sharp(
    faces_video: Path, tmp_path: Path
) -> None:
    out = tmp_path / "blurred.mp4"
    result = blur_faces(faces_video, out, BlurOptions(detect_every=5))
    info = probe(out, ProbeOptions(scan_packets=False))
    assert info.has_audio
    assert info.video is not None
    assert (info.video.width, info.video.height) == FACES_CROP[:2]
    size = FACES_CROP[:2]
    sharp, blurred = decode_gray_frames(faces_video, size), decode_gray_frames(out, size)
    assert len(blurred) == len(sharp) == result.frames == 100
    assert result.detections == 20
    for index, (before, after) in enumerate(zip(sharp, blurred, strict=True)):
        for face in FACES:
            x1, y1, x2, y2 = face_in_frame(face, index)
            if x1 < 0 or x2 > size[0]:
                continue
            ratio = sharpness(after[y1:y2, x1:x2]) / sharpness(before[y1:y2, x1:x2])
            assert ratio < 0.15, (index, face, ratio)
        # the crossing in the lower part of the picture holds no face: it keeps its detail
        ratio = sharpness(after[370:440]) / sharpness(before[370:440])
        assert ratio > 0.6, (index, ratio)
