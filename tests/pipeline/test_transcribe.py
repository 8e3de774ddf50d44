"""The transcription stage: real tiny.en on real speech, silence and noise; errors; pure helpers.

Model tests share one loaded model and one jfk transcript per module, so the real model costs a
few seconds in all.
"""

from __future__ import annotations

import itertools
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import jiwer
import numpy as np
import pytest

from pipeline import transcribe as transcribe_module
from pipeline.errors import TranscriptionError
from pipeline.recovery import Stretch
from pipeline.transcribe import (
    JoinedClips,
    ModelSpec,
    SilenceGuard,
    SoundSettings,
    TranscribeOptions,
    VadSettings,
    _keep,
    _to_segment,
    default_model_path,
    hold_to_sound,
    load_model,
    padded_clips,
    sounding_clips,
    sounding_stretches,
    split_at_pauses,
    transcribe,
    vocabulary_from_lines,
)
from pipeline.transcript import Segment, Transcript, Word
from tests import mediafactory as mf

JFK_REFERENCE = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)
_NORMALISE = jiwer.Compose(
    [jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(), jiwer.Strip()]
)


def wer(reference: str, hypothesis: str) -> float:
    return float(jiwer.wer(_NORMALISE(reference), _NORMALISE(hypothesis)))


def lavfi_wav(dst: Path, source: str, seconds: float = 20.0) -> Path:
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-t", str(seconds)),
            *("-ac", "1", "-ar", "16000", str(dst)),
        ],
        check=True,
    )
    return dst


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return load_model(ModelSpec())


@pytest.fixture(scope="module")
def jfk(model, shared_media: Path) -> tuple[Transcript, list[float]]:  # type: ignore[no-untyped-def]
    progress: list[float] = []
    transcript = transcribe(
        shared_media / "speech" / "jfk.flac", model, on_progress=progress.append
    )
    return transcript, progress


@pytest.mark.model
def test_jfk_matches_its_reference(jfk: tuple[Transcript, list[float]]) -> None:
    transcript, _ = jfk
    assert wer(JFK_REFERENCE, transcript.text) <= 0.1, transcript.text
    assert transcript.language == "en"
    assert transcript.model == "tiny.en"
    assert transcript.duration == pytest.approx(11.0, abs=0.01)


@pytest.mark.model
def test_word_timestamps_are_ordered_and_inside_the_audio(
    jfk: tuple[Transcript, list[float]],
) -> None:
    transcript, _ = jfk
    words = transcript.words
    assert len(words) >= 20
    previous_end = 0.0
    for word in words:
        assert previous_end <= word.start <= word.end <= transcript.duration
        previous_end = word.end
    for segment in transcript.segments:
        assert segment.start == segment.words[0].start
        assert segment.end == segment.words[-1].end
    # "country" is the last word: the speech ends near 10.4 s of the 11 s file.
    assert words[-1].text.lower().startswith("country")
    assert 9.0 < words[-1].end <= 11.0


@pytest.mark.model
def test_progress_rises_to_one(jfk: tuple[Transcript, list[float]]) -> None:
    _, progress = jfk
    assert progress == sorted(progress)
    assert progress[-1] == 1.0
    assert all(0.0 <= p <= 1.0 for p in progress)
    assert len(progress) >= 2


@pytest.mark.model
@pytest.mark.parametrize(
    "options", [TranscribeOptions(), TranscribeOptions(vad=None)], ids=["vad", "sound"]
)
def test_no_words_on_the_squirrel_video(
    model, shared_media: Path, options: TranscribeOptions
) -> None:  # type: ignore[no-untyped-def]
    transcript = transcribe(shared_media / "video" / "squirrel.mp4", model, options)
    assert transcript.words == []
    assert transcript.text == ""
    assert transcript.duration > 9


@pytest.mark.model
@pytest.mark.parametrize(
    "source",
    [
        "anullsrc=r=16000:cl=mono",
        "anoisesrc=r=16000:c=pink:a=0.3:seed=7",
        "anoisesrc=r=16000:c=brown:a=0.05:seed=3",
        "aevalsrc='0.2*sin(2*PI*50*t)+0.08*sin(2*PI*150*t)+0.04*sin(2*PI*250*t)':s=16000",
    ],
    ids=["silence", "pink-noise", "brown-room-noise", "mains-hum"],
)
@pytest.mark.parametrize(
    "options", [TranscribeOptions(), TranscribeOptions(vad=None)], ids=["vad", "sound"]
)
def test_no_words_on_silence_or_noise(
    model, tmp_path: Path, source: str, options: TranscribeOptions
) -> None:  # type: ignore[no-untyped-def]
    transcript = transcribe(lavfi_wav(tmp_path / "quiet.wav", source), model, options)
    assert transcript.words == []
    assert transcript.duration == pytest.approx(20.0)


def hoarse_passage_lesson(speech: Path, dst: Path) -> tuple[float, float]:
    """Clear read speech, then a quieter, breathy, muffled speaker after a pause, then clear
    speech again, over faint room noise; returns where the muffled passage lies (seconds)."""
    rate = mf.LESSON_RATE

    def pause(seconds: float) -> np.ndarray:
        return np.zeros(int(seconds * rate), dtype=np.float32)

    before = [mf.read_samples(speech / "LJ001-0001.flac"), pause(3.0)]
    before += [mf.read_samples(speech / "LJ001-0003.flac"), pause(2.0)]
    passage = [mf.hoarse(speech / "LJ001-0005.flac", gain_db=-6.0), pause(0.8)]
    passage += [mf.hoarse(speech / "LJ001-0009.flac", gain_db=-6.0)]
    after = [pause(2.0), mf.read_samples(speech / "LJ001-0010.flac"), pause(3.0)]
    after += [mf.read_samples(speech / "jfk.flac")]
    audio = np.concatenate([*before, *passage, *after])
    room = np.random.default_rng(1).normal(0.0, 0.002, len(audio)).astype(np.float32)
    mf.write_wav(dst, audio + room)
    start = sum(len(a) for a in before) / rate
    return start, start + sum(len(a) for a in passage) / rate


@pytest.mark.model
def test_a_quiet_muffled_passage_between_clear_ones_is_not_lost(
    model, shared_media: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The hoarse speaker's words appear: VAD cuts them, and the second look re-decodes the
    stretch of clear sound left wordless.

    Reference: "the invention of movable metal letters in the middle of the fifteenth century
    may justly be considered as the invention of the art of printing. Printing, then, for our
    purpose, may be considered as the art of making books by means of movable types."
    """
    lesson = tmp_path / "lesson.wav"
    start, end = hoarse_passage_lesson(shared_media / "speech", lesson)
    transcript = transcribe(lesson, model)
    heard = [w for w in transcript.words if start - 0.5 <= w.start <= end + 0.5]
    said = _NORMALISE(" ".join(w.text for w in heard)).split()
    expected = ["invention", "movable", "metal", "letters", "century", "printing", "purpose"]
    assert [w for w in expected if w not in said] == [], said
    assert len(said) >= 30, said
    everything = _NORMALISE(transcript.text)
    assert "chinese" in everything and "letterpress" in everything and "country" in everything
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)


@pytest.mark.model
def test_without_vad_whisper_invents_words_in_silence(model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Why the model is never handed silence: with the sound cut (and VAD) and the guard off,
    the same silence is not empty."""
    silence = lavfi_wav(tmp_path / "silence.wav", "anullsrc=r=16000:cl=mono", seconds=30)
    options = TranscribeOptions(vad=None, sound=None, guard=None)
    assert transcribe(silence, model, options).words != []


@pytest.mark.model
def test_vocabulary_reaches_the_model(model, shared_media: Path) -> None:  # type: ignore[no-untyped-def]
    audio = shared_media / "speech" / "hotwords.mp3"
    plain = transcribe(audio, model)
    hinted = transcribe(audio, model, TranscribeOptions(vocabulary=["ComfyUI"]))  # type: ignore[arg-type]
    assert "ComfyUI" not in plain.text
    assert "ComfyUI" in hinted.text
    assert hinted.options["vocabulary"] == ["ComfyUI"]


@pytest.mark.model
def test_pupil_names_reach_the_model_and_stay_out_of_the_options(model, shared_media: Path) -> None:  # type: ignore[no-untyped-def]
    audio = shared_media / "speech" / "hotwords.mp3"
    hinted = transcribe(audio, model, TranscribeOptions(pupil_names=("ComfyUI",)))
    assert "ComfyUI" in hinted.text  # the class list's names are hotwords too
    assert "pupil_names" not in hinted.options and hinted.options["vocabulary"] == []
    assert "ComfyUI" not in json.dumps(hinted.options)


@pytest.mark.model
def test_a_class_list_makes_the_model_write_the_names_and_redaction_find_them(
    model, shared_media: Path
) -> None:  # type: ignore[no-untyped-def]
    """Generated speech (espeak-ng) praising Aisha and calling on Jayden. Without the class
    list tiny.en writes "Asia", which no matching would take for Aisha; with the names as
    hotwords it writes both, and both are replaced and silenced."""
    from pipeline.pupilnames import name_list
    from pipeline.redact import name_silences, shown_transcript

    audio = shared_media / "speech" / "pupil_names.flac"
    names = name_list(["Aisha", "Jayden"])
    plain = transcribe(audio, model)
    assert "Aisha" not in plain.text
    hinted = transcribe(audio, model, TranscribeOptions(pupil_names=("Aisha", "Jayden")))
    assert "Aisha" in hinted.text and "Jayden" in hinted.text
    shown = shown_transcript(hinted, (), names).text
    assert "Aisha" not in shown and "Jayden" not in shown and shown.count("[pupil]") == 2
    silences = name_silences(hinted, (), names, 0.0, hinted.duration)
    assert len(silences) == 2 and all(0.3 < e - s < 1.2 for s, e in silences)
    assert 2.0 < silences[0][0] < 3.5 and 4.5 < silences[1][0] < 5.5


def test_model_is_loaded_once_per_process() -> None:
    assert load_model(ModelSpec()) is load_model(ModelSpec())
    assert load_model.cache_info().currsize >= 1


def test_default_model_is_the_bundled_tiny_en() -> None:
    path = default_model_path()
    assert (path / "model.bin").is_file()
    assert ModelSpec().label == "tiny.en"
    assert ModelSpec(str(path)).label == "tiny.en"
    assert ModelSpec("/models/whisper-small-en").label == "whisper-small-en"
    assert ModelSpec("small.en").label == "small.en"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("/no/such/model", "speech model folder not found: /no/such/model"),
        ("small.en", "'small.en' is not on this machine"),
    ],
)
def test_a_missing_model_is_a_clear_transcription_error(name: str, message: str) -> None:
    with pytest.raises(TranscriptionError, match=message) as caught:
        load_model(ModelSpec(name))
    assert caught.value.code == "transcription_failed"


def test_a_folder_without_weights_is_a_clear_transcription_error(tmp_path: Path) -> None:
    with pytest.raises(TranscriptionError, match=r"no model\.bin"):
        load_model(ModelSpec(str(tmp_path)))


def test_corrupt_weights_are_a_transcription_error(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"not a model")
    with pytest.raises(TranscriptionError, match="could not load the speech model") as caught:
        load_model(ModelSpec(str(tmp_path)))
    assert caught.value.detail


@pytest.mark.parametrize(
    "content", [b"", b"%PDF-1.4 not audio at all\n" * 50, bytes(range(256)) * 40]
)
def test_a_file_that_is_not_audio_is_a_transcription_error(
    model,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    content: bytes,
) -> None:
    bogus = tmp_path / "lesson.wav"
    bogus.write_bytes(content)
    with pytest.raises(TranscriptionError, match=r"could not read audio from lesson\.wav") as err:
        transcribe(bogus, model)
    assert err.value.code == "transcription_failed"
    assert err.value.detail


def test_a_missing_file_is_a_transcription_error(model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TranscriptionError, match="not found"):
        transcribe(tmp_path / "gone.wav", model)


@pytest.mark.model
def test_the_vad_cut_is_faster_whispers_own_and_its_pass_gives_the_speech_regions(
    model,
    jfk: tuple[Transcript, list[float]],
    shared_media: Path,
) -> None:
    """We run Silero once and cut as `vad_filter` does, so the same pass also gives the
    analytics' speech edges (`Transcript.speech`): the words must be what faster-whisper writes
    with its own cut, and the regions what a separate pass finds."""
    from pipeline.voice import speech_regions

    path = shared_media / "speech" / "jfk.flac"
    ours, _ = jfk
    fw_segments, _info = model.transcribe(
        transcribe_module.decode_audio(path),
        language="en",
        beam_size=5,
        best_of=5,
        word_timestamps=True,
        vad_filter=True,
        vad_parameters=VadSettings().as_parameters(),
    )
    theirs = [w for s in fw_segments for w in s.words]
    assert [w.text for w in ours.words] == [w.word.strip() for w in theirs]
    assert [w.start for w in ours.words] == pytest.approx([w.start for w in theirs], abs=0.011)
    assert ours.speech is not None and list(ours.speech) == speech_regions(path)
    assert "speech" not in ours.to_dict()

    # Window by window (here 4 s windows), each window's regions land at their own times.
    windowed = transcribe(path, model, TranscribeOptions(window_seconds=4.0, recovery=None))
    assert windowed.speech is not None
    whole = sum(b - a for a, b in ours.speech)
    assert sum(b - a for a, b in windowed.speech) == pytest.approx(whole, abs=0.5)
    starts = [a for a, _ in windowed.speech]
    assert starts == sorted(starts) and windowed.speech[-1][1] <= windowed.duration
    assert all(any(a < e and s < b for s, e in ours.speech) for a, b in windowed.speech)

    assert transcribe(path, model, TranscribeOptions(vad=None, recovery=None)).speech is None


def test_options_keep_vocabulary_immutable_and_refuse_batching_without_vad() -> None:
    options = TranscribeOptions(vocabulary=[" phonics ", "SENCO", "", "  ", "phonics"])  # type: ignore[arg-type]
    assert options.vocabulary == ("phonics", "SENCO")
    hash(options)
    with pytest.raises(ValueError, match="needs VAD"):
        TranscribeOptions(vad=None, batch_size=8)
    assert TranscribeOptions().vad == VadSettings()
    assert TranscribeOptions().sound == SoundSettings()  # used only when vad is None
    assert TranscribeOptions(vad=VadSettings(), batch_size=8).batch_size == 8


def test_only_sound_above_the_floor_is_handed_to_the_model() -> None:
    """A quiet burst 25 dB under full scale over faint room noise is decoded, with its pad;
    the noise itself, however long, never is."""
    rate = 16_000
    rng = np.random.default_rng(5)
    room = rng.normal(0.0, 0.001, 20 * rate).astype(np.float32)
    burst = 0.05 * np.sin(2 * np.pi * 220 * np.arange(3 * rate) / rate).astype(np.float32)
    lesson = room.copy()
    lesson[8 * rate : 11 * rate] += burst
    clips = sounding_clips(lesson, SoundSettings())
    assert clips == [pytest.approx(7.5, abs=0.15), pytest.approx(11.5, abs=0.15)]
    assert sounding_clips(room, SoundSettings()) == []
    assert sounding_clips(np.zeros(10 * rate, np.float32), SoundSettings()) == []


def test_a_short_answer_after_a_pause_is_a_stretch_of_its_own() -> None:
    """A 0.45 s answer 3.5 s after a question and 1 s before the next line is not bridged into
    either (bridged, the model dropped it); pads stop halfway across a short gap."""
    rate = 16_000
    rng = np.random.default_rng(2)
    lesson = rng.normal(0.0, 0.001, 12 * rate).astype(np.float32)

    def tone(start: float, seconds: float) -> None:
        t = np.arange(int(seconds * rate)) / rate
        lesson[int(start * rate) : int(start * rate) + len(t)] += 0.05 * np.sin(2 * np.pi * 220 * t)

    tone(1.0, 2.0)  # the question, 1.0-3.0
    tone(6.5, 0.45)  # the answer, 6.5-6.95
    tone(7.95, 2.0)  # the next line, 1 s later
    stretches = sounding_stretches(lesson, SoundSettings())
    assert [(s.start, s.end) for s in stretches] == [
        (pytest.approx(1.0, abs=0.1), pytest.approx(3.0, abs=0.1)),
        (pytest.approx(6.5, abs=0.1), pytest.approx(7.0, abs=0.1)),
        (pytest.approx(7.9, abs=0.1), pytest.approx(10.0, abs=0.1)),
    ]
    clips = padded_clips(stretches, 0.5, 12.0)
    assert clips[1].start == pytest.approx(stretches[1].start - 0.5)
    assert clips[1].end == pytest.approx((stretches[1].end + stretches[2].start) / 2)
    assert clips[1].end == clips[2].start  # no audio decoded twice
    assert all(a.end <= b.start for a, b in itertools.pairwise(clips))


def test_joined_clips_map_times_back_onto_the_recording() -> None:
    """The sound cut decodes its clips joined end to end; each word goes back into the clip its
    middle falls in, whole."""
    joined = JoinedClips((Stretch(2.0, 4.0), Stretch(10.0, 11.0), Stretch(20.0, 23.0)))
    rate = 16_000
    audio = np.arange(30 * rate, dtype=np.float32)
    samples = joined.samples(audio)
    assert len(samples) == 6 * rate
    assert samples[2 * rate] == audio[10 * rate]  # the second clip follows the first
    raw = FakeSegment(
        1.5,
        3.4,
        " eight. Well",
        [FakeWord(1.5, 1.9, " eight."), FakeWord(1.95, 2.3, " Well"), FakeWord(2.9, 3.4, " done")],
    )
    restored = joined.restore(raw)
    assert [(w.start, w.end) for w in restored.words] == [
        (3.5, 3.9),
        (9.95, 10.3),  # its middle (2.125) is in the second clip: all of it goes there
        (19.9, 20.4),  # its middle (3.15) is in the third
    ]
    assert (restored.start, restored.end) == (3.5, 20.4)


def test_a_word_ends_where_its_sound_does() -> None:
    """The model runs a passage's last word on into the pause; it is held to its stretch's
    sound (plus a short tail), other words are left alone."""
    sound = [Stretch(10.0, 14.0), Stretch(20.0, 22.0)]
    words = (Word(13.2, 13.6, "two"), Word(13.6, 15.9, "sixths."), Word(20.1, 20.5, "Now"))
    held = hold_to_sound(Segment(13.2, 20.5, "two sixths. Now", words), sound, 0.2)
    assert [(w.start, w.end) for w in held.words] == [(13.2, 13.6), (13.6, 14.2), (20.1, 20.5)]
    assert held.end == 20.5
    untouched = Segment(20.1, 20.5, "Now", words[2:])
    assert hold_to_sound(untouched, sound, 0.2) is untouched
    assert hold_to_sound(untouched, [], 0.2) is untouched


def test_vocabulary_file_lines() -> None:
    lines = ["# school terms", "phonics", "", "SENCO  # special needs co-ordinator", "phonics"]
    assert vocabulary_from_lines(lines) == ("phonics", "SENCO")


@dataclass
class FakeWord:
    start: float
    end: float
    word: str
    probability: float = 0.9


@dataclass
class FakeSegment:
    start: float
    end: float
    text: str
    words: list[FakeWord]
    no_speech_prob: float = 0.05
    avg_logprob: float = -0.3


def test_guard_drops_confident_no_speech_with_unsure_words() -> None:
    guard = SilenceGuard(no_speech_prob=0.9, avg_logprob=-0.7)
    you = FakeSegment(0, 1, " You", [FakeWord(0, 1, " You")], 0.95, -0.84)
    year = FakeSegment(7, 8, " 1455.", [FakeWord(7, 8, " 1455.")], 0.87, -0.62)
    assert not _keep(you, guard)
    assert _keep(year, guard)
    assert _keep(you, None)
    assert not _keep(FakeSegment(0, 1, " ", []), None)


def test_segment_times_are_clamped_into_the_audio_and_ordered() -> None:
    raw = FakeSegment(
        9.0,
        10.4,
        " ask what you",
        [FakeWord(9.5, 9.8, " ask"), FakeWord(9.4, 9.9, " what"), FakeWord(10.1, 10.4, " you")],
    )
    segment = _to_segment(raw, duration=10.2, floor=9.6)
    assert [(w.start, w.end, w.text) for w in segment.words] == [
        (9.6, 9.8, "ask"),
        (9.8, 9.9, "what"),
        (10.1, 10.2, "you"),
    ]
    assert (segment.start, segment.end, segment.text) == (9.6, 10.2, "ask what you")


def test_a_segment_is_split_where_its_words_pause() -> None:
    words = (Word(0, 0.4, "minute."), Word(6.4, 6.8, "Pens"), Word(6.9, 7.2, "down."))
    segment = Segment(0, 7.2, "minute. Pens down.", words)
    first, second = split_at_pauses(segment, 1.5)
    assert (first.text, first.start, first.end) == ("minute.", 0, 0.4)
    assert (second.text, second.start, second.end, second.words) == (
        "Pens down.",
        6.4,
        7.2,
        words[1:],
    )
    assert split_at_pauses(segment, None) == [segment]
    assert split_at_pauses(segment, 10.0) == [segment]


def test_window_cuts_fall_in_the_quietest_moment() -> None:
    """Cuts keep windows within their length and land in a pause, not through speech."""
    rate = transcribe_module.SAMPLE_RATE
    rng = np.random.default_rng(3)
    audio = (rng.standard_normal(95 * rate) * 0.3).astype(np.float32)
    audio[int(37.2 * rate) : int(37.6 * rate)] = 0.0  # the only pause before the 40 s limit
    audio[int(75.0 * rate) : int(75.5 * rate)] = 0.0  # and before the next one
    cuts = transcribe_module.window_cuts(audio, 40.0)
    assert cuts[0] == 0
    assert cuts[-1] == len(audio)
    assert all(b - a <= 40 * rate for a, b in itertools.pairwise(cuts))
    assert 37.2 <= cuts[1] / rate <= 37.6
    assert 75.0 <= cuts[2] / rate <= 75.5
    assert transcribe_module.window_cuts(audio, None) == [0, len(audio)]
    assert transcribe_module.window_cuts(audio[: 10 * rate], 40.0) == [0, 10 * rate]


@pytest.mark.model
def test_windowed_transcription_keeps_lesson_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recording longer than one window: words keep their place in the whole recording."""
    # The window ends just before the second phrase, which is then transcribed on its own.
    from tests import mediafactory

    speech = tmp_path / "long.wav"
    spans = mediafactory.make_speech(
        speech,
        ["Open your books at page twelve.", "Now work with your partner on the fractions."],
        pause=3.0,
    )
    model = load_model(ModelSpec())
    given: list[int] = []
    real = model.transcribe

    def spy(audio: np.ndarray, **kwargs: object) -> object:
        given.append(len(audio))
        return real(audio, **kwargs)

    monkeypatch.setattr(model, "transcribe", spy)
    # Each window goes through Silero once, whole (the model then gets its speech only).
    from pipeline import voice

    windows: list[int] = []
    real_vad = voice.speech_probabilities

    def vad_spy(audio: np.ndarray) -> np.ndarray:
        windows.append(len(audio))
        return real_vad(audio)

    monkeypatch.setattr(voice, "speech_probabilities", vad_spy)
    window = spans[1].start - 0.5
    # No second look: its re-decodes are extra calls that are not windows.
    options = TranscribeOptions(window_seconds=window, recovery=None)
    windowed = transcribe(speech, model, options)
    rate = transcribe_module.SAMPLE_RATE
    assert len(given) >= 2, "the model should see the recording in windows"
    assert len(windows) == len(given)
    assert all(n <= window * rate for n in windows) and all(n <= window * rate for n in given)
    assert abs(sum(windows) - windowed.duration * rate) <= rate // 1000  # duration is in ms
    said = windowed.text.lower()
    assert all(word in said for word in ("books", "page", "partner")), said
    late = [w for w in windowed.words if "partner" in w.text.lower()]
    assert late, windowed.text
    assert spans[1].start - 0.3 <= late[0].start <= spans[1].end
    starts = [w.start for w in windowed.words]
    assert starts == sorted(starts)
