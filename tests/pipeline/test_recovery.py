"""Finding unheard stretches and merging a second look: the pure half of lost-passage recovery."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.recovery import (
    SILENT_DB,
    RecoveryOptions,
    Stretch,
    confident,
    frame_levels,
    merge_recovered,
    noise_floor,
    unheard_stretches,
)
from pipeline.transcript import Segment, Word

RATE = 16_000


def tone(seconds: float, amplitude: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def segment(*words: tuple[float, float, str]) -> Segment:
    ws = tuple(Word(a, b, text, 0.9) for a, b, text in words)
    return Segment(ws[0].start, ws[-1].end, " ".join(w.text for w in ws), ws)


def test_frame_levels_are_db_of_full_scale_and_silence_is_the_bottom() -> None:
    audio = np.concatenate([np.zeros(RATE, np.float32), tone(1.0, 1.0)])
    levels = frame_levels(audio, RATE, 0.1)
    assert len(levels) == 20
    assert levels[:10].tolist() == [SILENT_DB] * 10
    assert levels[10:] == pytest.approx(-3.01, abs=0.05)  # a full-scale sine's RMS


def test_floor_is_the_quiet_room_and_never_below_the_minimum() -> None:
    levels = np.array([-60.0] * 30 + [-20.0] * 70)
    assert noise_floor(levels) == -60.0
    assert noise_floor(np.full(50, SILENT_DB)) == RecoveryOptions().min_floor_db


def test_sound_with_no_word_near_it_is_a_stretch() -> None:
    # 0-5 s speech with words, 5-8 s room, 8-12 s sound nobody wrote down, 12-20 s room.
    levels = np.full(200, -60.0)
    levels[0:50] = -25.0
    levels[80:120] = -35.0
    words = [Word(0.1, 2.0, "open", 0.9), Word(2.2, 4.9, "books", 0.9)]
    assert unheard_stretches(levels, words, 20.0) == [Stretch(7.5, 12.5)]


def test_short_sounds_room_noise_and_written_speech_are_not_stretches() -> None:
    levels = np.full(200, -60.0)
    levels[30:45] = -20.0  # a 1.5 s clatter
    levels[100:160] = -25.0  # speech the first pass wrote down
    words = [Word(10.0, 13.0, "now", 0.9), Word(13.1, 16.0, "listen", 0.9)]
    assert unheard_stretches(levels, words, 20.0) == []
    steady = np.full(200, -30.0) + np.random.default_rng(3).normal(0, 2, 200)  # hum, fans
    assert unheard_stretches(steady, [], 20.0) == []


def test_phrases_separated_by_short_pauses_are_one_stretch() -> None:
    levels = np.full(300, -60.0)
    levels[50:75] = levels[83:110] = -30.0  # 0.8 s pause: one stretch
    levels[200:225] = -30.0  # 9 s later: another
    assert unheard_stretches(levels, [], 30.0) == [Stretch(4.5, 11.5), Stretch(19.5, 23.0)]


def test_stretches_stay_inside_the_recording() -> None:
    levels = np.full(40, -60.0)
    levels[0:6] = levels[20:40] = -20.0
    stretches = unheard_stretches(levels, [], 4.0, RecoveryOptions(min_sound_seconds=0.5))
    assert stretches == [Stretch(0.0, 1.1), Stretch(1.5, 4.0)]


@pytest.mark.parametrize(
    ("no_speech", "logprob", "compression", "kept"),
    [
        (0.1, -0.3, 1.5, True),
        (0.95, -0.75, 1.0, False),  # the model's "You" over noise
        (0.1, -1.2, 1.5, False),  # unsure words
        (0.1, -0.3, 3.1, False),  # a loop
    ],
)
def test_only_confident_speech_is_kept(
    no_speech: float, logprob: float, compression: float, kept: bool
) -> None:
    assert confident(no_speech, logprob, compression) is kept


def test_recovered_segments_join_in_time_order_without_doubling_words() -> None:
    first = [segment((0.0, 1.0, "open")), segment((10.0, 11.0, "close"))]
    again = [segment((0.8, 1.2, "pen"), (4.0, 5.0, "the"), (5.1, 6.0, "invention"))]
    merged = merge_recovered(first, [again[0]])
    assert [s.text for s in merged] == ["open", "the invention", "close"]
    assert merged[1].start == 4.0 and merged[1].end == 6.0
    whole = segment((4.0, 5.0, "printing"))
    assert merge_recovered(first, [whole])[1] is whole
