"""Reading transcript.json without the pipeline: the web process needs only the word list.

The file is written by pipeline.captions (segments, each with words that carry start and end in
seconds). Clip word ranges index into the flat list of words, in order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TimedWord:
    start: float
    end: float
    text: str


def transcript_words(data: bytes | str | dict[str, Any]) -> list[TimedWord]:
    doc = json.loads(data) if isinstance(data, bytes | str) else data
    return [
        TimedWord(float(w["start"]), float(w["end"]), str(w.get("text", w.get("word", ""))))
        for segment in doc.get("segments", ())
        for w in segment.get("words", ())
    ]
