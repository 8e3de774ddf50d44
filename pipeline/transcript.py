"""The transcript data model shared by transcription, captions, segmentation and clips.

Times are seconds from the start of the lesson media as floats. A transcript is plain data: it can
be saved as JSON (`to_dict`/`from_dict`) and rebuilt without the model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    """One stretch of speech as the model returned it, roughly a sentence or a phrase."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcript:
    language: str
    duration: float
    segments: tuple[Segment, ...] = ()
    model: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    speech: tuple[tuple[float, float], ...] | None = field(default=None, compare=False)
    """Where the VAD pass that cut the audio for the model found speech, with the analytics'
    tight edges (`pipeline.voice`), so they need no second pass; None when no such pass ran (the
    sound cut, a batched or a stand-in transcriber). Kept in speech.json, not in `to_dict`."""

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["speech"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        segments = tuple(
            Segment(
                start=float(s["start"]),
                end=float(s["end"]),
                text=str(s["text"]),
                words=tuple(Word(**w) for w in s.get("words", ())),
            )
            for s in data.get("segments", ())
        )
        return cls(
            language=str(data.get("language", "")),
            duration=float(data.get("duration", 0.0)),
            segments=segments,
            model=str(data.get("model", "")),
            options=dict(data.get("options", {})),
        )
