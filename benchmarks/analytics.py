"""Talk analytics (issue 18): question rules, wait time on real transcription, and the cost of an
hour's analytics beside the hour's transcription.

1. Question detection and open/closed on the labelled lists in tests/data/analytics: the list
   the rules were written against (questions.csv, 241 lines) and one written after them and never
   tuned on (questions_holdout.csv, 50 lines); each as written and with the question marks
   removed (Whisper does not always write them).
2. Wait time on generated lessons (espeak-ng voices, sox silences of known length), transcribed
   for real with the bundled tiny.en through `pipeline.transcribe.transcribe`: the error of each
   question's wait, with word edges from voice activity (what the worker stores) and from the
   word timings alone.
3. Time: `pipeline.voice.speech_regions` and `pipeline.analytics.analyse` over a 60-minute
   lesson (the generated lessons repeated), beside transcription of a 5-minute one (scaled to 60)
   and the 60-minute transcribe stage measured in benchmarks/RESULTS.md (1.60 min). Goal: at most
   a tenth.

Run: `nice -n 10 .venv/bin/python -m benchmarks.analytics` (about two minutes on 2 cores);
writes benchmarks/analytics_results.md.

`--hour` instead measures, in one process and one run, what the worker does with a speech-dense
60-minute lesson (`hour_lesson`: LJSpeech's reader teaching, JFK answering 6 dB quieter, short
pauses): the transcription (tiny.en, its VAD pass included), then the analytics the worker adds
from the transcript and that pass: speech.json, the teacher/pupil split (`write_speakers`) and
`analytics_of`; CPU seconds of each (process time, every thread) beside wall, and the ratio
(goal at most 0.1). For the record it also times the separate Silero pass the analytics ran
before they read the transcription's. Writes benchmarks/analytics_hour.md (about 10 minutes of
CPU; `--minutes` for a shorter lesson).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import lessonmedia as mf
from pipeline.analytics import analyse, is_question, kind_of
from pipeline.lesson import AUDIO, analytics_of, speech_regions_of, write_speakers
from pipeline.speakers import SpeakerSplit, default_encoder
from pipeline.transcribe import load_model, transcribe
from pipeline.transcript import Segment, Transcript
from pipeline.voice import speech_regions

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "analytics"
RESULTS = Path(__file__).resolve().parent / "analytics_results.md"
HOUR_RESULTS = Path(__file__).resolve().parent / "analytics_hour.md"
SPEECH = Path(__file__).resolve().parents[1] / "tests" / "data" / "speech"
RESULTS_TRANSCRIBE_60_MIN = 96.0
"""The 60-minute transcribe stage in benchmarks/RESULTS.md (1.60 min, 720p H.264/AAC)."""

LESSONS: list[tuple[list[tuple[str, str]], list[float]]] = [
    (
        [
            ("en-gb", "Good morning everyone, today we are looking at fractions."),
            ("en-gb", "What is a half of twelve?"),
            ("en-us+f3", "Six."),
            ("en-gb", "Well done. Why do you think the bottom number matters?"),
            ("en-us+f3", "Because it tells you how many parts there are."),
            ("en-gb", "Can anyone tell me what a quarter of eight is?"),
            ("en-us+f3", "Two."),
            ("en-gb", "Brilliant, let's try some more."),
        ],
        [1.0, 3.5, 1.0, 5.0, 1.0, 2.0, 1.5],
    ),
    (
        [
            ("en-us", "Right, eyes on me please. We are going to talk about plants."),
            ("en-us", "What do plants need to grow?"),
            ("en-gb+m3", "Sunlight and water."),
            ("en-us", "Good. How do you know that plants need light?"),
            ("en-gb+m3", "Because the one in the cupboard died."),
            ("en-us", "Is that a fair test?"),
            ("en-gb+f2", "No, it was colder in there."),
            ("en-us", "Interesting. What would you change next time?"),
            ("en-gb+f2", "Put them both in the same place."),
        ],
        [1.2, 2.5, 0.8, 4.0, 1.0, 1.5, 1.0, 3.0],
    ),
]


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="") as fh:
        return list(csv.DictReader(fh))


def _pr(pairs: Sequence[tuple[bool, bool]]) -> tuple[float, float]:
    tp = sum(p and t for p, t in pairs)
    return tp / max(sum(p for p, _ in pairs), 1), tp / max(sum(t for _, t in pairs), 1)


def question_scores(name: str, strip: bool) -> dict[str, Any]:
    rows = _rows(name)

    def text(r: dict[str, str]) -> str:
        return r["text"].replace("?", "") if strip else r["text"]

    detect = [(is_question(text(r)), r["is_question"] == "1") for r in rows]
    questions = [r for r in rows if r["is_question"] == "1"]
    kinds = [(kind_of(text(r)), r["kind"]) for r in questions]
    open_pr = _pr([(k == "open", t == "open") for k, t in kinds])
    closed_pr = _pr([(k == "closed", t == "closed") for k, t in kinds])
    return {
        "list": name,
        "question marks": "removed" if strip else "as written",
        "lines": len(rows),
        "questions": len(questions),
        "precision": _pr(detect)[0],
        "recall": _pr(detect)[1],
        "open/closed accuracy": sum(k == t for k, t in kinds) / len(kinds),
        "open P/R": open_pr,
        "closed P/R": closed_pr,
    }


def wait_errors(work: Path) -> tuple[list[dict[str, Any]], list[Path], float, float]:
    """Per question: true wait, measured with and without voice edges. Also the lesson files,
    the seconds of audio and the transcription time of them all."""
    rows: list[dict[str, Any]] = []
    files: list[Path] = []
    audio_seconds = transcribe_seconds = 0.0
    model = load_model()
    for n, (lines, silences) in enumerate(LESSONS, 1):
        audio = work / f"dialogue{n}.wav"
        spans = mf.make_dialogue(audio, lines, silences)
        files.append(audio)
        audio_seconds += spans[-1].end
        started = time.perf_counter()
        transcript = transcribe(audio, model)
        transcribe_seconds += time.perf_counter() - started
        with_voice = analyse(transcript, speech=speech_regions(audio))
        words_only = analyse(transcript)
        for i, (_, text) in enumerate(lines):
            if not text.endswith("?"):
                continue
            found = min(with_voice.questions, key=lambda q: abs(q.end - spans[i].end))
            alone = min(words_only.questions, key=lambda q: abs(q.start - found.start))
            rows.append(
                {
                    "lesson": n,
                    "question": text,
                    "true wait": silences[i],
                    "with voice edges": found.wait,
                    "words alone": alone.wait,
                    "detected as": found.text,
                }
            )
        rows[-1]["questions found"] = len(with_voice.questions)
    return rows, files, audio_seconds, transcribe_seconds


def _hour_of(transcript: Transcript, regions: list[tuple[float, float]], length: float,
             repeats: int) -> tuple[Transcript, list[tuple[float, float]]]:  # fmt: skip
    segments: list[Segment] = []
    spans: list[tuple[float, float]] = []
    for k in range(repeats):
        off = k * length
        for s in transcript.segments:
            words = tuple(replace(w, start=w.start + off, end=w.end + off) for w in s.words)
            segments.append(Segment(s.start + off, s.end + off, s.text, words))
        spans.extend((a + off, b + off) for a, b in regions)
    return Transcript("en", length * repeats, tuple(segments)), spans


def _cpu(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def timing(work: Path, files: list[Path]) -> dict[str, Any]:
    """An hour: the two dialogues joined (with their silences) and repeated to 60 minutes."""
    pair = work / "pair.wav"
    subprocess.run(["sox", *map(str, files), str(pair)], check=True)
    length = float(subprocess.run(["soxi", "-D", str(pair)], capture_output=True, text=True,
                                  check=True).stdout)  # fmt: skip
    repeats = int(3600 // length) + 1
    hour = work / "hour.wav"
    subprocess.run(["sox", *([str(pair)] * repeats), str(hour)], check=True)
    five = work / "five.wav"
    subprocess.run(["sox", str(hour), str(five), "trim", "0", "300"], check=True)

    model = load_model()
    t_wall, t_cpu, transcript = _cpu(lambda: transcribe(pair, model))
    five_wall, five_cpu, _ = _cpu(lambda: transcribe(five, model))
    vad_wall, vad_cpu, regions = _cpu(lambda: speech_regions(hour))
    pair_regions = [(a, b) for a, b in regions if b <= length]
    big, spans = _hour_of(transcript, pair_regions, length, repeats)
    an_wall, an_cpu, result = _cpu(lambda: analyse(big, speech=spans))
    return {
        "hour seconds": length * repeats,
        "words": len(big.words),
        "questions": len(result.questions),
        "vad wall": vad_wall,
        "vad cpu": vad_cpu,
        "analyse wall": an_wall,
        "analyse cpu": an_cpu,
        "five min transcribe wall": five_wall,
        "five min transcribe cpu": five_cpu,
        "sixty min transcribe wall (x12)": five_wall * 12,
        "pair transcribe wall": t_wall,
        "pair transcribe cpu": t_cpu,
    }


def _f(x: float, places: int = 2) -> str:
    return f"{x:.{places}f}"


def write(scores: list[dict[str, Any]], waits: list[dict[str, Any]], t: dict[str, Any],
          started: str, took: float) -> str:  # fmt: skip
    out = [
        "# Talk analytics (issue 18)",
        "",
        f"Written by `python -m benchmarks.analytics` at {started} UTC, took {took / 60:.1f} min; "
        f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
        f"({platform.machine()}), shared with other engineers' work.",
        "",
        "## Questions and open/closed (rules in `pipeline/analytics.py`)",
        "",
        "| list | question marks | lines | questions | precision | recall | open/closed "
        "accuracy | open P / R | closed P / R |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        out.append(
            f"| {s['list']} | {s['question marks']} | {s['lines']} | {s['questions']} | "
            f"{_f(s['precision'], 3)} | {_f(s['recall'], 3)} | "
            f"{_f(s['open/closed accuracy'], 3)} | "
            f"{_f(s['open P/R'][0], 3)} / {_f(s['open P/R'][1], 3)} | "
            f"{_f(s['closed P/R'][0], 3)} / {_f(s['closed P/R'][1], 3)} |"
        )
    out += [
        "",
        "questions.csv is the list the rules were written against; questions_holdout.csv was "
        "written after them and not tuned on.",
        "",
        "## Wait time on generated lessons, transcribed for real (tiny.en)",
        "",
        "| lesson | question | true wait | with voice edges (stored) | error | words alone | "
        "error |",
        "|---|---|---|---|---|---|---|",
    ]
    for w in waits:
        e1 = w["with voice edges"] - w["true wait"]
        e2 = w["words alone"] - w["true wait"]
        out.append(
            f"| {w['lesson']} | {w['question']} | {_f(w['true wait'])} s | "
            f"{_f(w['with voice edges'])} s | {e1:+.2f} s | {_f(w['words alone'])} s | "
            f"{e2:+.2f} s |"
        )
    worst = max(abs(w["with voice edges"] - w["true wait"]) for w in waits)
    worst_alone = max(abs(w["words alone"] - w["true wait"]) for w in waits)
    found = sum(w.get("questions found", 0) for w in waits)
    out += [
        "",
        f"Worst error: **{worst:.2f} s** with voice edges (goal 0.2 s), {worst_alone:.2f} s "
        f"from word timings alone. Questions detected in the transcripts: {found} "
        f"(spoken: {len(waits)}).",
        "",
        "## An hour's analytics beside its transcription",
        "",
        f"A {t['hour seconds'] / 60:.1f}-minute lesson ({t['words']} words, "
        f"{t['questions']} questions): the two generated lessons repeated.",
        "",
        "| step | wall | CPU |",
        "|---|---|---|",
        f"| speech regions (Silero VAD), 60 min of audio | {_f(t['vad wall'])} s | "
        f"{_f(t['vad cpu'])} s |",
        f"| `analyse`, 60 min transcript | {_f(t['analyse wall'], 3)} s | "
        f"{_f(t['analyse cpu'], 3)} s |",
        f"| transcription, 5 min of the same audio | {_f(t['five min transcribe wall'])} s | "
        f"{_f(t['five min transcribe cpu'])} s |",
        "",
    ]
    analytics = t["vad wall"] + t["analyse wall"]
    scaled = t["sixty min transcribe wall (x12)"]
    out += [
        f"Analytics of 60 minutes: **{analytics:.1f} s** wall. Against transcription of 60 "
        f"minutes, scaled from the 5-minute run: {scaled:.0f} s, ratio "
        f"**{analytics / scaled:.3f}**; against the 60-minute transcribe stage in RESULTS.md "
        f"({RESULTS_TRANSCRIBE_60_MIN:.0f} s, a lesson with more silence): ratio "
        f"**{analytics / RESULTS_TRANSCRIBE_60_MIN:.3f}**. Goal at most 0.1.",
        "",
    ]
    return "\n".join(out)


def hour_lesson(path: Path, minutes: float = 60.0) -> list[mf.Turn]:
    """A speech-dense lesson written to `path` (16 kHz WAV): LJSpeech's reader (15 clips, 2-10 s)
    teaching, JFK's 11 s answering 6 dB quieter after every third clip, 0.6 s pauses, repeated
    to `minutes`. Returns the turns (speaker "teacher" or "pupil")."""
    teacher = [
        mf.trim_silence(mf.read_samples(SPEECH / f"LJ001-{k:04d}.flac")) for k in range(1, 16)
    ]
    pupil = mf.trim_silence(mf.read_samples(SPEECH / "jfk.flac")) * np.float32(10 ** (-6 / 20))
    turns: list[tuple[str, np.ndarray]] = []
    total = 0.0
    while total < minutes * 60:
        for k, clip in enumerate(teacher):
            turns.append(("teacher", clip))
            if k % 3 == 2:
                turns.append(("pupil", pupil))
        total = sum(len(c) for _, c in turns) / mf.LESSON_RATE + 0.6 * len(turns)
    samples, spans = mf.join_turns(turns, gap=0.6)
    samples = samples[: int(minutes * 60 * mf.LESSON_RATE)]
    mf.write_wav(path, samples)
    end = len(samples) / mf.LESSON_RATE
    return [mf.Turn(t.speaker, t.start, min(t.end, end)) for t in spans if t.start < end]


def labelled_right(turns: list[mf.Turn], split: SpeakerSplit, duration: float) -> float:
    """Share of the true speech time (10 ms steps) that the split labels with its speaker."""
    steps = int(duration * 100)
    truth = np.full(steps, "", dtype=object)
    found = np.full(steps, "", dtype=object)
    for t in turns:
        truth[int(t.start * 100) : int(t.end * 100)] = t.speaker
    for turn in split.turns:
        found[int(turn.start * 100) : int(turn.end * 100)] = turn.label
    speech = truth != ""
    return float(np.mean(found[speech] == truth[speech]))


def hour_costs(work: Path, minutes: float) -> dict[str, Any]:
    """The worker's transcribe-stage work on `hour_lesson`, step by step, in this process."""
    audio = work / AUDIO
    turns = hour_lesson(audio, minutes)
    # What a worker loads once per process, not per lesson, loaded before the clocks start.
    model = load_model()
    default_encoder()
    import sklearn.cluster  # noqa: F401 - imported once per worker, on its first split

    t_wall, t_cpu, transcript = _cpu(lambda: transcribe(audio, model))
    s_wall, s_cpu, speech = _cpu(lambda: speech_regions_of(transcript, audio))
    k_wall, k_cpu, _ = _cpu(lambda: write_speakers(work, transcript))
    split = SpeakerSplit.from_dict(json.loads((work / "speakers.json").read_text()))
    (work / "speech.json").write_text(json.dumps(speech))
    a_wall, a_cpu, result = _cpu(lambda: analytics_of(work, transcript, transcript.duration))
    v_wall, v_cpu, separate = _cpu(lambda: speech_regions(audio))
    stored = speech["regions"]
    return {
        "minutes": transcript.duration / 60,
        "speech minutes": sum(t.end - t.start for t in turns) / 60,
        "words": len(transcript.words),
        "questions": len(result.get("questions", [])),
        "transcribe wall": t_wall,
        "transcribe cpu": t_cpu,
        "speech.json wall": s_wall,
        "speech.json cpu": s_cpu,
        "split wall": k_wall,
        "split cpu": k_cpu,
        "analyse wall": a_wall,
        "analyse cpu": a_cpu,
        "separate vad wall": v_wall,
        "separate vad cpu": v_cpu,
        "regions stored": len(stored),
        "regions separate pass": len(separate),
        "speech s stored": sum(b - a for a, b in stored),
        "speech s separate pass": sum(b - a for a, b in separate),
        "voices": split.voices,
        "labelled right": labelled_right(turns, split, transcript.duration),
        "load at end": os.getloadavg(),
    }


def write_hour(t: dict[str, Any], started: str, took: float, command: str) -> str:
    analytics_cpu = t["speech.json cpu"] + t["split cpu"] + t["analyse cpu"]
    analytics_wall = t["speech.json wall"] + t["split wall"] + t["analyse wall"]
    ratio = analytics_cpu / t["transcribe cpu"]
    load = "/".join(f"{x:.1f}" for x in t["load at end"])
    return "\n".join(
        [
            "# An hour's talk analytics beside its transcription (issue 18)",
            "",
            f"`{command}` at {started} UTC, took {took / 60:.1f} min, commit "
            f"{_commit()}; load average at the end {load} on {os.cpu_count()} cores, shared "
            "with other engineers' work (wall times are a rough guide; CPU seconds are process "
            "time over every thread).",
            "",
            f"The lesson: {t['minutes']:.1f} min, {t['speech minutes']:.1f} min of it speech "
            f"(LJSpeech's reader teaching, JFK answering 6 dB quieter), {t['words']} words "
            f"transcribed, {t['questions']} questions found.",
            "",
            "| step | wall | CPU |",
            "|---|---|---|",
            f"| transcription (tiny.en, one thread, with its Silero VAD pass) | "
            f"{_f(t['transcribe wall'], 1)} s | {_f(t['transcribe cpu'], 1)} s |",
            f"| speech.json from that pass | {_f(t['speech.json wall'], 3)} s | "
            f"{_f(t['speech.json cpu'], 3)} s |",
            f"| teacher/pupil split (`write_speakers`) | {_f(t['split wall'], 1)} s | "
            f"{_f(t['split cpu'], 1)} s |",
            f"| `analytics_of` | {_f(t['analyse wall'], 2)} s | {_f(t['analyse cpu'], 2)} s |",
            f"| **analytics, all** | {_f(analytics_wall, 1)} s | **{_f(analytics_cpu, 1)} s** |",
            f"| (not run by the worker any more) a separate Silero pass | "
            f"{_f(t['separate vad wall'], 1)} s | {_f(t['separate vad cpu'], 1)} s |",
            "",
            f"Analytics CPU over transcription CPU: **{ratio:.3f}** (goal at most 0.1: "
            f"**{'met' if ratio <= 0.1 else 'not met'}**).",
            "",
            f"Speech regions stored from the transcription's pass: {t['regions stored']} "
            f"({t['speech s stored']:.1f} s of speech); a separate pass over the whole file: "
            f"{t['regions separate pass']} ({t['speech s separate pass']:.1f} s). They differ "
            "only where a 10-minute transcription window's cut falls (Silero starts afresh "
            "there). The split found "
            f"{t['voices']} voices and labelled {t['labelled right']:.3f} of the speech time "
            "right.",
            "",
        ]
    )


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--hour", action="store_true", help="the hour's costs, nothing else")
    parser.add_argument("--minutes", type=float, default=60.0, help="with --hour")
    args = parser.parse_args()
    if args.hour:
        started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            costs = hour_costs(Path(tmp), args.minutes)
        command = "python -m benchmarks.analytics --hour" + (
            f" --minutes {args.minutes:g}" if args.minutes != 60 else ""
        )
        text = write_hour(costs, started, time.perf_counter() - t0, command)
        (args.out or HOUR_RESULTS).write_text(text)
        print(text)
        print(json.dumps(costs, indent=1))
        return
    args.out = args.out or RESULTS
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    t0 = time.perf_counter()
    scores = [
        question_scores(name, strip)
        for name in ("questions.csv", "questions_holdout.csv")
        for strip in (False, True)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        waits, files, _, _ = wait_errors(work)
        times = timing(work, files)
    text = write(scores, waits, times, started, time.perf_counter() - t0)
    args.out.write_text(text)
    print(text)
    print(json.dumps(times, indent=1))


if __name__ == "__main__":
    main()
