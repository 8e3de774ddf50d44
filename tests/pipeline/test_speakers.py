"""Teacher talk and pupil talk: the voice encoder against Resemblyzer with torch, the pure
steps of the split, and the split itself on a generated two-voice lesson of real speakers.

The reference figures below were computed once with resemblyzer 0.1.4 and torch 2.13 in a
throwaway virtualenv (librosa 0.11 for the mel spectrogram) on tests/data/speech/jfk.flac as
`read_samples` decodes it; torch is never installed beside the project.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import PipelineError
from pipeline.speakers import (
    FRAME,
    PUPIL,
    SAMPLE_RATE,
    TEACHER,
    WINDOW,
    SpeakerModelUnavailableError,
    SpeakerSplit,
    Turn,
    VoiceEncoder,
    default_encoder,
    load_torch_state,
    mel_frames,
    merge_turns,
    read_wav,
    segments_of,
    speech_regions,
    split_lesson_audio,
    split_speakers,
    volume_gain,
    weights_path,
    windows_over,
)
from tests.mediafactory import join_turns, read_samples, trim_silence, voiced_frames, write_wav

SPEECH = Path(__file__).resolve().parents[1] / "data" / "speech"

# librosa.feature.melspectrogram(y, sr=16000, n_fft=400, hop_length=160, n_mels=40)[:8, 350]
REF_MEL_350 = [
    0.0102555,
    0.0537435,
    0.0877076,
    0.2980824,
    0.0527484,
    0.0129893,
    3.4616117,
    6.8179417,
]
# VoiceEncoder()(mels[300:460]): its eight largest components, and the cosine to mels[0:160]'s
REF_TOP = [192, 109, 158, 212, 255, 73, 178, 203]
REF_TOP_VALUES = [0.29471, 0.207788, 0.198454, 0.183902, 0.183848, 0.178507, 0.173428, 0.1697]
REF_COSINE = 0.748927


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    """jfk.flac raised to -30 dBFS, as Resemblyzer's preprocess_wav does (no silence trimming)."""
    x = read_samples(SPEECH / "jfk.flac")
    return x * np.float32(volume_gain(x))


def test_mel_frames_match_librosa(jfk: np.ndarray) -> None:
    mel = mel_frames(jfk)
    assert mel.shape == (1 + len(jfk) // 160, 40)
    np.testing.assert_allclose(mel[350, :8], REF_MEL_350, rtol=1e-4)
    # Block by block, the gain applied to the power, is the same spectrogram.
    raw = (jfk / np.float32(volume_gain(read_samples(SPEECH / "jfk.flac")))).astype(np.float32)
    np.testing.assert_allclose(
        mel_frames(raw, volume_gain(raw), block=7), mel, rtol=1e-4, atol=1e-6
    )


def test_volume_is_raised_to_minus_30_dbfs_never_lowered() -> None:
    quiet = np.full(16000, 0.001, np.float32)  # -60 dBFS
    assert 20 * np.log10(0.001 * volume_gain(quiet)) == pytest.approx(-30.0)
    assert volume_gain(np.full(16000, 0.5, np.float32)) == 1.0
    assert volume_gain(np.zeros(10, np.float32)) == 1.0


def test_encoder_matches_resemblyzer_with_torch(jfk: np.ndarray) -> None:
    mel = mel_frames(jfk)
    first, second = default_encoder().embed(np.stack([mel[0:160], mel[300:460]]))
    assert list(np.argsort(-second)[:8]) == REF_TOP
    np.testing.assert_allclose(second[REF_TOP], REF_TOP_VALUES, atol=1e-5)
    assert float(first @ second) == pytest.approx(REF_COSINE, abs=1e-5)
    assert np.linalg.norm(second) == pytest.approx(1.0, abs=1e-6)
    assert second.min() >= 0.0  # ReLU before the norm


def test_weights_are_read_from_the_package_without_torch() -> None:
    state = load_torch_state(weights_path())
    assert state["lstm.weight_ih_l0"].shape == (1024, 40)
    assert state["lstm.weight_hh_l2"].shape == (1024, 256)
    assert state["linear.weight"].shape == (256, 256)
    assert all(a.dtype == np.float32 for a in state.values())


def _legacy_file(path: Path, obj: object) -> None:
    with path.open("wb") as fh:
        for part in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}, obj, []):
            pickle.dump(part, fh, protocol=2)


def test_a_checkpoint_that_names_other_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    _legacy_file(path, {"model_state": {"x": print}})  # a global outside the allowed few
    with pytest.raises(SpeakerModelUnavailableError, match="cannot be read"):
        VoiceEncoder.from_path(path)


def test_a_checkpoint_without_the_network_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.pt"
    _legacy_file(path, {"model_state": {}})
    with pytest.raises(SpeakerModelUnavailableError, match="lacks"):
        VoiceEncoder.from_path(path)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(SpeakerModelUnavailableError):
        VoiceEncoder.from_path(tmp_path / "junk.pt")


# pure steps


def test_speech_regions_join_words_across_short_gaps() -> None:
    words = [(2.0, 2.4), (0.0, 0.5), (0.6, 1.0), (1.5, 1.5), (2.5, 3.0), (5.0, 4.0)]
    assert speech_regions(words, merge_gap=0.3) == [(0.0, 1.0), (2.0, 3.0)]


def test_segments_cut_long_regions_evenly() -> None:
    assert segments_of([(0.0, 1.0), (10.0, 19.0)], 3.0) == [
        (0.0, 1.0),
        (10.0, 13.0),
        (13.0, 16.0),
        (16.0, 19.0),
    ]


def test_windows_cover_a_segment_to_its_end() -> None:
    wins = windows_over((1.0, 4.0), 0.5)
    assert wins[0] == (1.0, 1.0 + WINDOW)
    assert wins[-1] == pytest.approx((4.0 - WINDOW, 4.0))
    assert all(b - a == pytest.approx(WINDOW) for a, b in wins)
    assert windows_over((2.0, 2.5), 0.5) == [(2.0, 2.5)]  # a short answer is its own window
    assert windows_over((1.0, 4.0), 0.5, most=1) == [pytest.approx((1.7, 1.7 + WINDOW))]
    spread = windows_over((1.0, 4.0), 0.5, most=2)
    assert spread == [wins[0], wins[-1]]


def test_mel_frames_of_some_ranges_are_those_of_the_whole(jfk: np.ndarray) -> None:
    """The split makes only the frames its windows need: the same numbers, zero elsewhere."""
    whole = mel_frames(jfk)
    some = mel_frames(jfk, only=[(0, 50), (40, 120), (300, 460), (len(whole) - 5, len(whole) + 9)])
    for a, b in ((0, 120), (300, 460), (len(whole) - 5, len(whole))):
        np.testing.assert_allclose(some[a:b], whole[a:b], rtol=1e-5, atol=1e-7)
    assert not some[120:300].any() and not some[460:-5].any()


def test_neighbouring_segments_of_one_side_merge() -> None:
    turns = merge_turns(
        [(0.0, 3.0), (3.0, 6.0), (6.5, 7.0), (9.0, 12.0)],
        [True, True, False, True],
        [1.0, 0.5, 0.8, 0.9],
        gap=0.3,
    )
    assert turns == [
        Turn(0.0, 6.0, TEACHER, 0.75),
        Turn(6.5, 7.0, PUPIL, 0.8),
        Turn(9.0, 12.0, TEACHER, 0.9),
    ]


def test_no_speech_gives_an_empty_split() -> None:
    split = split_speakers(np.zeros(SAMPLE_RATE * 2, np.float32), [])
    assert split.turns == () and split.voices == 0


def test_silence_and_slivers_of_speech_are_labelled_without_error() -> None:
    """Word timings can be a frame long or run past the end; digital silence has no level."""
    split = split_speakers(
        np.zeros(SAMPLE_RATE * 5, np.float32), [(1.0, 1.004), (1.5, 1.512), (3.0, 4.0), (4.99, 9)]
    )
    assert [t.label for t in split.turns] == [TEACHER] * len(split.turns)
    assert split.turns[-1].end <= 5.0
    assert all(0.0 <= t.confidence <= 1.0 for t in split.turns)


def test_split_round_trips_through_json() -> None:
    split = SpeakerSplit((Turn(0.0, 1.5, TEACHER, 0.9), Turn(2.0, 2.4, PUPIL, 0.4)), 0.8, 2)
    again = SpeakerSplit.from_dict(split.to_dict())
    assert again == SpeakerSplit(split.turns, 0.8, 2, options={})
    assert again.as_tuples() == [(0.0, 1.5, TEACHER), (2.0, 2.4, PUPIL)]


def test_read_wav_takes_the_pipelines_audio_only(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", np.full(1600, 0.5, np.float32))
    assert read_wav(tmp_path / "a.wav") == pytest.approx(np.full(1600, 0.5), abs=1e-4)
    write_wav(tmp_path / "b.wav", np.zeros(800, np.float32), rate=8000)
    with pytest.raises(PipelineError, match="16 kHz"):
        read_wav(tmp_path / "b.wav")


# the split on a lesson


def _pieces(path: Path, lengths: list[float], gain_db: float = 0.0) -> list[np.ndarray]:
    """Consecutive cuts of a recording, `lengths` seconds each, at `gain_db`."""
    voice = trim_silence(read_samples(path)) * np.float32(10 ** (gain_db / 20))
    out, at = [], 0
    for length in lengths:
        n = int(length * SAMPLE_RATE)
        out.append(voice[at : at + n])
        at += n
    return out


def _two_voice_lesson() -> tuple[np.ndarray, np.ndarray, list[tuple[float, float, str]]]:
    """LJSpeech's reader teaches (real read speech), JFK answers in short turns 6 dB quieter
    (further from the microphone): 40 s of audio. Returns the samples, the truth per 10 ms
    ("" for silence) and the voiced stretches with their speaker, as word timings would be."""
    teacher = [trim_silence(read_samples(SPEECH / f"LJ001-00{i:02d}.flac")) for i in (1, 3, 5, 9)]
    pupil = _pieces(SPEECH / "jfk.flac", [1.2, 2.5, 1.8, 3.0], gain_db=-6)
    samples, spans = join_turns(
        [(who, x) for pair in zip(teacher, pupil, strict=True) for who, x in
         zip((TEACHER, PUPIL), pair, strict=True)]
    )  # fmt: skip
    truth = np.full(int(np.ceil(len(samples) / 160)), "", dtype=object)
    voiced: list[tuple[float, float, str]] = []
    for span in spans:
        a = round(span.start / FRAME)
        piece = samples[a * 160 : round(span.end / FRAME) * 160]
        on = np.flatnonzero(voiced_frames(piece))
        truth[a + on] = span.speaker
        voiced += [((a + k) * FRAME, (a + k + 1) * FRAME, span.speaker) for k in on]
    return samples, truth, voiced


def test_teacher_and_pupil_split_on_a_two_voice_lesson(tmp_path: Path) -> None:
    samples, truth, voiced = _two_voice_lesson()
    assert len(samples) / SAMPLE_RATE < 60
    write_wav(tmp_path / "lesson.wav", samples)

    split = split_lesson_audio(tmp_path / "lesson.wav", [(a, b) for a, b, _ in voiced])

    said = np.full(len(truth), "", dtype=object)
    for turn in split.turns:
        said[round(turn.start / FRAME) : round(turn.end / FRAME)] = turn.label
    speech = truth != ""
    accuracy = np.mean(said[speech] == truth[speech])
    is_teacher, said_teacher = truth == TEACHER, said == TEACHER
    precision = np.sum(is_teacher & said_teacher) / np.sum(speech & said_teacher)
    recall = np.sum(is_teacher & said_teacher) / np.sum(is_teacher)
    assert accuracy >= 0.85, (accuracy, split.to_dict())
    assert precision >= 0.9 and recall >= 0.85, (precision, recall)
    assert split.voices >= 2
    assert 0.5 <= split.confidence <= 1.0
    assert {t.label for t in split.turns} == {TEACHER, PUPIL}


def test_the_transcribe_stage_stores_turns_that_the_analytics_split_talk_by(
    tmp_path: Path,
) -> None:
    """What the worker does after transcription: speakers.json beside the transcript, read by
    the analytics (pipeline.lesson.analytics_of), so teacher and pupil talk are counted apart."""
    from pipeline.lesson import AUDIO, SPEAKERS, analytics_of, write_speakers
    from pipeline.transcript import Segment, Transcript, Word

    samples, _, voiced = _two_voice_lesson()
    write_wav(tmp_path / AUDIO, samples)
    # Words of 0.3 s over each voiced stretch, as a transcript would time them.
    regions = speech_regions([(a, b) for a, b, _ in voiced], 0.05)
    owner = {round(a / FRAME): who for a, _, who in voiced}
    words = [
        Word(t, min(t + 0.3, end), "word")
        for start, end in regions
        for t in np.arange(start, end - 0.05, 0.3)
    ]
    truth = [owner.get(round(w.start / FRAME), PUPIL) for w in words]
    transcript = Transcript(
        "en", len(samples) / SAMPLE_RATE, (Segment(0, 40, "...", tuple(words)),)
    )

    assert write_speakers(tmp_path, transcript) == []
    stored = SpeakerSplit.from_dict(json.loads((tmp_path / SPEAKERS).read_text()))
    assert stored.voices >= 2
    analytics = analytics_of(tmp_path, transcript, transcript.duration)

    assert analytics["speakers"] is True
    assert analytics["speaker_confidence"] == pytest.approx(stored.confidence, abs=1e-3)
    talk = {t["label"]: t["words"] for t in analytics["talk"]}
    assert abs(talk[TEACHER] - truth.count(TEACHER)) <= 0.1 * len(words), (talk, len(words))
    assert abs(talk[PUPIL] - truth.count(PUPIL)) <= 0.1 * len(words), (talk, len(words))
