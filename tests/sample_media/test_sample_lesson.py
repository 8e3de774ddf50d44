"""The committed sample lesson matches its script: format, size, scene times, and speech."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path
from typing import Any

import jiwer
import pytest

from pipeline.transcribe import ModelSpec, load_model, transcribe

SAMPLE = Path(__file__).resolve().parents[2] / "sample_media"


@pytest.fixture(scope="module")
def script() -> dict[str, Any]:
    return dict(json.loads((SAMPLE / "lesson_script.json").read_text()))


@pytest.fixture(scope="module")
def probe() -> dict[str, Any]:
    out = subprocess.run(
        [
            *("ffprobe", "-v", "error", "-show_format", "-show_streams"),
            *("-of", "json", str(SAMPLE / "lesson.mp4")),
        ],
        check=True,
        capture_output=True,
    )
    return dict(json.loads(out.stdout))


def test_lesson_is_a_small_browser_ready_mp4(probe: dict[str, Any], script: dict[str, Any]) -> None:
    streams = {s["codec_type"]: s for s in probe["streams"]}
    assert streams["video"]["codec_name"] == "h264"
    assert streams["video"]["height"] <= 720
    assert streams["audio"]["codec_name"] == "aac"
    assert (SAMPLE / "lesson.mp4").stat().st_size < 5_000_000
    assert 120 <= float(probe["format"]["duration"]) <= 240
    assert float(probe["format"]["duration"]) == pytest.approx(script["duration"], abs=0.3)


def test_script_times_are_consistent(script: dict[str, Any]) -> None:
    scenes, passages = script["scenes"], script["passages"]
    assert [s["title"] for s in scenes] == [
        "Starter",
        "Main activity",
        "Question time",
        "Independent practice",
        "Plenary",
    ]
    assert scenes[0]["start"] == 0
    for before, after in itertools.pairwise(scenes):
        assert before["end"] == after["start"]
    previous_end = 0.0
    for passage in passages:
        scene = next(s for s in scenes if s["title"] == passage["section"])
        assert scene["start"] <= passage["start"] < passage["end"] <= scene["end"]
        assert passage["start"] >= previous_end
        previous_end = passage["end"]
    text = (SAMPLE / "lesson_script.txt").read_text()
    assert all(p["text"] in text for p in passages)


@pytest.mark.model
def test_tiny_en_transcribes_the_lesson_where_the_script_says(script: dict[str, Any]) -> None:
    transcript = transcribe(SAMPLE / "lesson.mp4", load_model(ModelSpec()))
    normalise = jiwer.Compose(
        [
            jiwer.ToLowerCase(),
            jiwer.RemovePunctuation(),
            jiwer.RemoveMultipleSpaces(),
            jiwer.Strip(),
        ]
    )
    hyphens_as_spaces = transcript.text.replace("-", " ")
    assert jiwer.wer(normalise(script["reference"]), normalise(hyphens_as_spaces)) <= 0.1
    # Every word lies in (or within a second of) a spoken passage: none in the long pauses.
    for word in transcript.words:
        assert any(
            p["start"] - 1.0 <= word.start and word.end <= p["end"] + 1.0
            for p in script["passages"]
        ), word
