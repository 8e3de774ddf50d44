"""`clipcoach process`: every output for good input; for bad, one clear line and nothing written.

Outcomes per input (the documented contract; docs/inputs.md has the full table):

    input                               outcome
    spoken lesson (H.264/AAC MP4)       all outputs; transcript has the spoken words
    jfk.flac (audio only)               lesson.m4a, transcript matching the reference, no pictures
    squirrel.mp4 (sound, no speech)     all outputs; the transcript has no words
    video without sound                 lesson.mp4 and pictures; no transcript, a note says why
    zero bytes / text / PDF as .mp4     exit 1, "error: ... [empty_file|not_media]", no OUT made
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jiwer
import pytest
from typer.testing import CliRunner

from tests import mediafactory
from workers.cli import app

TRANSCRIPTS = ("transcript.json", "transcript.vtt", "transcript.srt", "transcript.txt")
MEDIA_SUFFIXES = {".mp4", ".flac", ".mp3", ".wav"}
ALL_VIDEO_OUTPUTS = {
    "lesson.mp4", "probe.json", "transcript.json", "transcript.vtt", "transcript.srt",
    "transcript.txt", "segments.json", "speakers.json", "poster.jpg", "sprite.jpg",
    "thumbnails.vtt",
}  # fmt: skip


def _normalise_text(text: str) -> str:
    return re.sub(r"[^a-z' ]+", " ", text.lower()).strip()


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLIPCOACH_DATA_DIR": str(cwd / "data")}
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


@pytest.mark.parametrize(
    ("maker", "code"),
    [
        (lambda p: p.write_bytes(b""), "empty_file"),
        (mediafactory.write_text, "not_media"),
        (mediafactory.write_pdf, "not_media"),
        (mediafactory.write_random, "not_media"),
    ],
    ids=["zero-bytes", "text", "pdf", "random-bytes"],
)
def test_bad_input_exits_with_one_line_and_writes_nothing(
    tmp_path: Path, maker: object, code: str
) -> None:
    bad = tmp_path / "Lesson 3 – Année.mp4"
    maker(bad)  # type: ignore[operator]
    out = tmp_path / "out" / "lesson 3"
    existing = tmp_path / "existing"
    existing.mkdir()
    for target in (out, existing):
        result = _run_cli("process", str(bad), "--out", str(target), cwd=tmp_path)
        assert result.returncode == 1
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error:") and f"[{code}]" in lines[0]
        assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "out").exists(), "a failed run must not even create OUT"
    assert list(existing.iterdir()) == [], "a folder that was there stays, and stays empty"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = _run_cli("process", str(tmp_path / "nope.mp4"), "--out", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert "no such file" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.model
def test_spoken_lesson_gets_every_output(tmp_path: Path) -> None:
    speech = tmp_path / "speech.wav"
    mediafactory.make_speech(
        speech,
        ["Today we are learning about fractions.", "Turn to your partner and explain a half."],
        pause=2.0,
    )
    lesson = tmp_path / "lesson with spaces ü.mp4"
    mediafactory.add_video_to_audio(speech, lesson)
    out = tmp_path / "out"
    result = _run_cli("process", str(lesson), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert ALL_VIDEO_OUTPUTS <= _files(out)
    assert not [name for name in _files(out) if name.startswith(".")], "temporary files left"
    text = (out / "transcript.txt").read_text().lower()
    assert "fractions" in text and "partner" in text
    segments = json.loads((out / "segments.json").read_text())
    assert segments and all({"start", "end", "title", "text"} <= set(s) for s in segments)
    assert (out / "transcript.vtt").read_text().startswith("WEBVTT")


def _one_of_each_kind(shared_media: Path, skip: set[str]) -> list[Path]:
    """Every shared video, and per audio file suffix the largest shared recording."""
    media = sorted(p for p in shared_media.glob("*/*") if p.suffix in MEDIA_SUFFIXES)
    videos = [p for p in media if p.parent.name == "video" and p.name not in skip]
    audio: dict[str, Path] = {}
    for path in media:
        if path.parent.name != "video" and path.name not in skip:
            best = audio.get(path.suffix)
            if best is None or path.stat().st_size > best.stat().st_size:
                audio[path.suffix] = path
    return videos + sorted(audio.values())


@pytest.mark.model
def test_shared_recordings(shared_media: Path, tmp_path: Path) -> None:
    """Real recordings through the same stage code, in one process (the model loads once)."""
    runner = CliRunner()
    reference = {
        json.loads(line)["file"]: json.loads(line)["reference"]
        for line in (shared_media / "manifest.jsonl").read_text().splitlines()
    }

    out = tmp_path / "jfk"
    result = runner.invoke(
        app, ["process", str(shared_media / "speech/jfk.flac"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert {"lesson.m4a", "transcript.json", "transcript.vtt", "segments.json"} <= _files(out)
    assert "lesson.mp4" not in _files(out) and "sprite.jpg" not in _files(out)
    said = _normalise_text((out / "transcript.txt").read_text())
    assert jiwer.wer(_normalise_text(reference["speech/jfk.flac"]), said) <= 0.1

    out = tmp_path / "squirrel"
    result = runner.invoke(
        app, ["process", str(shared_media / "video/squirrel.mp4"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert ALL_VIDEO_OUTPUTS <= _files(out)
    assert json.loads((out / "transcript.json").read_text())["segments"] == []

    # Every other shared video, and the largest shared recording of each other audio container
    # (the speech clips are many takes of one kind; their words are the WER benchmark's, not
    # this test's): each gets the outputs its kind of media calls for.
    audio_outputs = {"lesson.m4a", "probe.json", "segments.json", *TRANSCRIPTS}
    processed = 2
    for path in _one_of_each_kind(shared_media, skip={"jfk.flac", "squirrel.mp4"}):
        out = tmp_path / path.name
        result = runner.invoke(app, ["process", str(path), "--out", str(out)])
        assert result.exit_code == 0, f"{path.name}: {result.output}"
        expected = ALL_VIDEO_OUTPUTS if path.parent.name == "video" else audio_outputs
        if (
            path.parent.name == "video"
            and not json.loads((out / "probe.json").read_text())["audio"]
        ):
            # no sound: no transcript (nor the speakers made from it), a note
            expected = ALL_VIDEO_OUTPUTS - {*TRANSCRIPTS, "speakers.json"}
        assert expected <= _files(out), f"{path.name}: missing {expected - _files(out)}"
        processed += 1
    assert processed >= 9, f"expected every kind of shared recording, processed {processed}"
