"""Stand-ins passed where the real thing is injected (no module is patched): transcribers for
`workers.runner.execute_stage(..., transcriber_for=...)` and `pipeline.lesson.run_stage`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.transcript import Segment, Transcript, Word

if TYPE_CHECKING:
    from pipeline.transcribe import ModelSpec, ProgressCallback, TranscribeOptions, Transcriber
    from workers.runner import TranscriberFor

SAMPLE = Path(__file__).resolve().parents[1] / "sample_media"


def script_transcript(
    audio: Path, options: TranscribeOptions, /, *, on_progress: ProgressCallback | None = None
) -> Transcript:
    """The sample lesson's own script, words spread over each passage (whatever the audio)."""
    script = json.loads((SAMPLE / "lesson_script.json").read_text())
    segments = []
    for passage in script["passages"]:
        words = passage["text"].split()
        step = (passage["end"] - passage["start"]) / len(words)
        timed = tuple(
            Word(
                round(passage["start"] + i * step, 3),
                round(passage["start"] + (i + 0.8) * step, 3),
                w,
            )
            for i, w in enumerate(words)
        )
        segments.append(Segment(passage["start"], passage["end"], passage["text"], timed))
    if on_progress:
        on_progress(1.0)
    return Transcript(
        language="en", duration=script["duration"], segments=tuple(segments), model="fake"
    )


def settings_transcript(
    audio: Path, options: TranscribeOptions, /, *, on_progress: ProgressCallback | None = None
) -> Transcript:
    """Says back the options it was run with ("Settings <language> <vocabulary...>"), so a test
    sees which options reached the transcriber."""
    words = ["Settings", options.language or "", *options.vocabulary]
    timed = tuple(Word(0.1 + i * 0.2, 0.25 + i * 0.2, w) for i, w in enumerate(words))
    return Transcript(
        language=options.language or "",
        duration=2.0,
        segments=(Segment(0.1, timed[-1].end, " ".join(words), timed),),
        model="fake",
        options=options.to_dict(),
    )


def always(transcriber: Transcriber) -> TranscriberFor:
    """A `transcriber_for` that gives `transcriber` whatever model the lesson names."""

    def make(_spec: ModelSpec) -> Transcriber:
        return transcriber

    return make
