"""Long-form transcription: whole generated lessons, our stage beside both faster-whisper peers.

Short clips transcribed alone cannot show a lost passage: on a long lesson the VAD and the
decoder's carried-over text decide what is heard, and one hoarse speaker after a pause can
vanish. This module builds lessons of 5, 15 and 30 minutes from every referenced clip of real
speech in `tests/data/speech` (repeated, shuffled with a fixed seed), with what classrooms do
to a recording:

- pauses of 1-10 s between utterances, and long silences (group work, 30-90 s) now and then;
- passages 3-10 dB quieter or 3-6 dB louder than the rest;
- a hoarse, muffled speaker (breathy, low-passed, quieter: `benchmarks.lessonmedia.hoarse`);
- narrowband passages (telephone band, resampled through 8 kHz);
- room noise throughout (brown, ~-60 dBFS) and pink noise under some passages (15-20 dB SNR).

Every utterance keeps its reference and its time. Each system is scored on the whole lesson:

- corpus WER: all errors over all reference words (utterance references joined in order);
- passage coverage: the share of utterances with at least half their reference words
  recognised among the words written in the utterance's own time (+-1 s);
- words over silence: words written in the long silences and in the middle of long pauses.

Time-aligned scores need word times, which faster-whisper gives only with
`word_timestamps=True` (its segment times run across pauses), so both peers run with that one
option added to their defaults; it also changes where the decoder seeks next a little.

Run: `nice -n 10 .venv/bin/python -m benchmarks.longform` (`--minutes 5 15 30`; `--sweep` adds
our candidate options to the same run; `--systems` picks some by name).
The lessons are cached in benchmarks/work/longform/.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import jiwer
import numpy as np

from benchmarks import lessonmedia as mf
from benchmarks.wer import WORK, SpeechCase, _plain_model, _table, load_cases, machine, normalise
from pipeline.transcribe import (
    ModelSpec,
    SoundSettings,
    TranscribeOptions,
    VadSettings,
    default_model_path,
    load_model,
    transcribe,
)

LONGFORM = WORK / "longform"
RATE = mf.LESSON_RATE
MINUTES = (5, 15, 30)
EXCLUDED = {"stereo_diarization.wav"}
"""Two people speaking at once: no system transcribes both, and it is not a lesson condition."""

KINDS = ("clear", "clear", "quiet", "loud", "hoarse", "narrowband", "noisy", "quiet")


@dataclass(frozen=True)
class Utterance:
    start: float
    end: float
    reference: str
    kind: str
    source: str


@dataclass(frozen=True)
class Lesson:
    path: Path
    duration: float
    utterances: tuple[Utterance, ...]
    silences: tuple[tuple[float, float], ...]
    """Stretches with no speech in them that a system must leave empty."""


@dataclass(frozen=True)
class TimedWord:
    start: float
    end: float
    text: str


TimedTranscriber = Callable[[Path], list[TimedWord]]


def _treat(case: SpeechCase, kind: str, rng: random.Random) -> np.ndarray:
    if kind == "hoarse":
        return mf.hoarse(case.path, gain_db=-rng.uniform(3.0, 6.0))
    if kind == "narrowband":
        band = "highpass=f=300,lowpass=f=3400,aresample=8000"
        return mf.read_samples(case.path, band)
    samples = mf.read_samples(case.path)
    if kind == "quiet":
        samples = samples * 10 ** (-rng.uniform(3.0, 10.0) / 20)
    elif kind == "loud":
        samples = samples * 10 ** (rng.uniform(3.0, 6.0) / 20)
    elif kind == "noisy":
        pink = _noise("pink", len(samples), rng.randrange(1 << 16))
        snr = rng.uniform(15.0, 20.0)
        gain = 10 ** ((mf.level_db(samples) - snr - mf.level_db(pink)) / 20)
        samples = samples + gain * pink
    return np.asarray(np.clip(samples, -1.0, 1.0), dtype=np.float32)


def _noise(colour: str, count: int, seed: int) -> np.ndarray:
    """Coloured noise with unit RMS, by shaping white noise's spectrum (1/f pink, 1/f^2 brown)."""
    white = np.random.default_rng(seed).normal(0.0, 1.0, count)
    spectrum = np.fft.rfft(white)
    f = np.fft.rfftfreq(count, 1 / RATE)
    f[0] = f[1] if count > 1 else 1.0
    spectrum /= np.sqrt(f) if colour == "pink" else f
    shaped = np.fft.irfft(spectrum, count)
    return np.asarray(shaped / (np.sqrt(np.mean(shaped**2)) + 1e-12), dtype=np.float32)


def build_lesson(minutes: float, seed: int = 15, out_dir: Path = LONGFORM) -> Lesson:
    """Assemble (or reuse) a lesson of about `minutes` minutes; see the module docstring."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"lesson-{minutes:g}min-seed{seed}"
    wav, meta = stem.with_suffix(".wav"), stem.with_suffix(".json")
    if wav.exists() and meta.exists():
        data = json.loads(meta.read_text())
        return Lesson(
            wav,
            data["duration"],
            tuple(Utterance(**u) for u in data["utterances"]),
            tuple((a, b) for a, b in data["silences"]),
        )
    rng = random.Random(seed)
    cases = [c for c in load_cases() if c.path.name not in EXCLUDED]
    target = minutes * 60.0
    pieces: list[np.ndarray] = []
    utterances: list[Utterance] = []
    silences: list[tuple[float, float]] = []
    t = 1.0
    pieces.append(np.zeros(int(RATE), np.float32))
    order: list[SpeechCase] = []
    index = 0
    while t < target:
        if not order:
            order = cases[:]
            rng.shuffle(order)
        case = order.pop()
        kind = KINDS[index % len(KINDS)] if index % 5 else rng.choice(KINDS)
        index += 1
        samples = _treat(case, kind, rng)
        utterances.append(
            Utterance(t, t + len(samples) / RATE, case.reference, kind, case.path.name)
        )
        pieces.append(samples)
        t += len(samples) / RATE
        long_silence = index % 12 == 0
        pause = rng.uniform(30.0, 90.0) if long_silence else rng.uniform(1.0, 10.0)
        if pause >= 4.0:
            silences.append((t + 1.0, t + pause - 1.0))
        pieces.append(np.zeros(int(pause * RATE), np.float32))
        t += int(pause * RATE) / RATE
    audio = np.concatenate(pieces)
    room = _noise("brown", len(audio), seed) * 10 ** (-60 / 20)
    mf.write_wav(wav, audio + room)
    duration = len(audio) / RATE
    meta.write_text(
        json.dumps(
            {
                "duration": duration,
                "utterances": [asdict(u) for u in utterances],
                "silences": silences,
            }
        )
    )
    return Lesson(wav, duration, tuple(utterances), tuple(silences))


# --------------------------------------------------------------------------------------------
# The systems, each giving words with times.


def ours_timed(options: TranscribeOptions = TranscribeOptions()) -> TimedTranscriber:
    model = load_model(ModelSpec())

    def run(path: Path) -> list[TimedWord]:
        transcript = transcribe(path, model, options)
        return [TimedWord(w.start, w.end, w.text) for w in transcript.words]

    return run


def plain_timed(**kwargs: Any) -> TimedTranscriber:
    """`WhisperModel(path).transcribe(file, word_timestamps=True, **kwargs)`: every other
    option at its default, or with fw's own VAD."""
    model = _plain_model(str(default_model_path()))

    def run(path: Path) -> list[TimedWord]:
        segments, _info = model.transcribe(str(path), word_timestamps=True, **kwargs)
        return [TimedWord(w.start, w.end, w.word) for s in segments for w in s.words or ()]

    return run


# --------------------------------------------------------------------------------------------
# Scores.


@dataclass
class LongResult:
    system: str
    lesson: str
    errors: int
    ref_words: int
    covered: int
    utterances: int
    silence_words: int
    cpu_seconds: float
    seconds: float
    missed: list[str] = field(default_factory=list)
    load: str = ""
    """The 1-minute load average when the system finished (the machine is shared)."""

    @property
    def wer(self) -> float:
        return self.errors / self.ref_words if self.ref_words else 0.0

    @property
    def coverage(self) -> float:
        return self.covered / self.utterances if self.utterances else 0.0


def _hits(reference: str, hypothesis: str) -> tuple[int, int]:
    ref = normalise(reference).split()
    if not ref:
        return 0, 0
    out = jiwer.process_words(" ".join(ref), normalise(hypothesis) or "")
    return out.hits, len(ref)


def score_lesson(system: str, lesson: Lesson, words: Sequence[TimedWord]) -> LongResult:
    reference = " ".join(u.reference for u in lesson.utterances)
    hypothesis = " ".join(w.text for w in words)
    ref, hyp = normalise(reference), normalise(hypothesis)
    out = jiwer.process_words(ref, hyp or "")
    errors = out.substitutions + out.deletions + out.insertions
    covered, missed = 0, []
    for u in lesson.utterances:
        near = " ".join(
            w.text for w in words if u.start - 1.0 <= (w.start + w.end) / 2 <= u.end + 1.0
        )
        hits, total = _hits(u.reference, near)
        if total and hits * 2 >= total:
            covered += 1
        else:
            missed.append(f"{u.start:.0f}s {u.kind} {u.source}: {near[:60]!r}")
    silent = sum(
        1 for w in words if any(a <= (w.start + w.end) / 2 <= b for a, b in lesson.silences)
    )
    return LongResult(
        system,
        lesson.path.stem,
        errors,
        len(ref.split()),
        covered,
        len(lesson.utterances),
        silent,
        0.0,
        0.0,
        missed,
    )


def run_system(name: str, system: TimedTranscriber, lesson: Lesson) -> LongResult:
    started, cpu = time.perf_counter(), time.process_time()
    words = system(lesson.path)
    result = score_lesson(name, lesson, words)
    result.cpu_seconds = time.process_time() - cpu
    result.seconds = time.perf_counter() - started
    result.load = f"{os.getloadavg()[0]:.1f}"
    return result


def peers() -> dict[str, Callable[[], TimedTranscriber]]:
    """Ours and both peers, each made only when run (every peer loads its own model)."""
    return {
        "ours": ours_timed,
        "plain faster-whisper": plain_timed,
        "faster-whisper vad_filter=True": lambda: plain_timed(vad_filter=True),
    }


SOUND_CUT = "ours: sound cut (stretches joined, word ends held to the sound)"
VAD_CUT = "ours: VAD cut 0.35 / 2000 ms / 600 ms"


def sweep_configs() -> dict[str, TranscribeOptions]:
    """Both cuts by name (whatever the default is), then the sound cut with one change each
    (the knobs point 3 names); `--sweep-minutes` limits the one-change rows to short lessons."""
    base = replace(TranscribeOptions(), vad=None, sound=SoundSettings())
    sound = SoundSettings()
    return {
        SOUND_CUT: base,
        VAD_CUT: replace(base, vad=VadSettings()),
        "ours: sound cut, each stretch its own clip (not joined)": replace(
            base, sound=replace(sound, joined=False)
        ),
        "ours: sound cut, gaps up to 2 s bridged": replace(
            base, sound=replace(sound, bridge_seconds=2.0)
        ),
        "ours: sound cut, no second look": replace(base, recovery=None),
        "ours: sound cut, margin 6 dB": replace(base, sound=replace(sound, margin_db=6.0)),
        "ours: sound cut, condition_on_previous_text off": replace(
            base, condition_on_previous_text=False
        ),
    }


ALWAYS = ("ours", "plain faster-whisper", "faster-whisper vad_filter=True", SOUND_CUT, VAD_CUT)
"""Run on every lesson; the other sweep rows only up to `--sweep-minutes`."""


def results_table(results: Sequence[LongResult], lessons: dict[str, Lesson]) -> str:
    rows = [
        [
            f"{lessons[r.lesson].duration / 60:.1f} min, "
            f"{r.utterances} utterances, {r.ref_words} words",
            r.system,
            f"{r.wer:.3f}",
            f"{r.coverage:.1%} ({r.covered}/{r.utterances})",
            r.silence_words,
            f"{r.cpu_seconds:.0f}",
            f"{lessons[r.lesson].duration / r.cpu_seconds:.0f}x" if r.cpu_seconds else "",
            f"{r.seconds:.0f} s at load {r.load}",
        ]
        for r in results
    ]
    header = [
        "lesson",
        "system",
        "WER",
        "coverage",
        "words over silence",
        "CPU s",
        "audio s per CPU s",
        "wall",
    ]
    return _table(header, rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=list(MINUTES))
    parser.add_argument("--systems", nargs="+", default=None, help="subset of the system names")
    parser.add_argument(
        "--sweep", action="store_true", help="also run our candidate options beside the peers"
    )
    parser.add_argument(
        "--sweep-minutes",
        type=float,
        default=float("inf"),
        help="run the one-change sweep rows only on lessons up to this long",
    )
    args = parser.parse_args(argv)
    lessons = {(lesson := build_lesson(m)).path.stem: lesson for m in args.minutes}
    systems = peers()
    if args.sweep or args.systems:
        systems |= {
            name: functools.partial(ours_timed, options)
            for name, options in sweep_configs().items()
        }
    if args.systems:
        systems = {k: systems[k] for k in args.systems}  # in the order given
    results = []
    for lesson in lessons.values():
        for name, make in systems.items():
            if name not in ALWAYS and lesson.duration > args.sweep_minutes * 60 + 30:
                continue
            result = run_system(name, make(), lesson)
            results.append(result)
            print(
                f"{result.lesson} {name}: WER {result.wer:.3f} coverage {result.coverage:.1%} "
                f"silence {result.silence_words} cpu {result.cpu_seconds:.0f}s "
                f"wall {result.seconds:.0f}s load {result.load}",
                flush=True,
            )
            for line in result.missed:
                print("   missed", line, flush=True)
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine()}\n")
    print(results_table(results, lessons))


if __name__ == "__main__":
    main()
