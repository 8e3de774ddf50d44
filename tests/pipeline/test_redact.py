"""Blanking moments of a clip: the ranges a clip covers, the ffmpeg run that makes them black
and silent (checked by decoding the output), and the caption words left out."""

from __future__ import annotations

from pathlib import Path

from pipeline.redact import blank_command, blank_ranges, clip_ranges, hide_words
from pipeline.transcript import Segment, Transcript, Word
from tests import mediafactory as mf
from tests.mediafactory import frame_lumas, loudness


def test_clip_ranges_are_the_blanks_inside_the_clip_in_clip_time_merged() -> None:
    blanks = [(5.0, 6.0), (10.0, 12.0), (11.5, 13.0), (30.0, 31.0), (1.0, 2.0)]
    assert clip_ranges(blanks, 9.0, 20.0) == [(1.0, 4.0)]
    assert clip_ranges(blanks, 5.5, 10.5) == [(0.0, 0.5), (4.5, 5.0)]
    assert clip_ranges(blanks, 20.0, 25.0) == []
    assert clip_ranges([(2.0, 3.0)], 3.0, 4.0) == []  # touching is not covering


def test_the_command_blacks_the_picture_and_silences_the_sound_only_in_the_ranges() -> None:
    cmd = blank_command(
        Path("in.mp4"), Path("out.mp4"), [(1.0, 2.0), (3.5, 4.0)], video=True, audio=True
    )
    vf, af = cmd[cmd.index("-vf") + 1], cmd[cmd.index("-af") + 1]
    when = "between(t,1.000,1.9995)+between(t,3.500,3.9995)"
    assert vf == f"drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='{when}'"
    assert af == f"volume=0:enable='{when}'"
    sound_only = blank_command(Path("a"), Path("b"), [(0.0, 1.0)], video=False, audio=True)
    assert "-vf" not in sound_only and "0:v:0" not in sound_only


def test_a_rendered_clip_is_black_and_silent_in_the_range_and_untouched_outside(
    tmp_path: Path,
) -> None:
    clip = mf.make_video(tmp_path / "clip.mp4", duration=4.0, audio="tone").path
    out = blank_ranges(clip, tmp_path / "blanked.mp4", [(1.0, 2.0)])
    frames = frame_lumas(out)
    assert len(frames) == len(frame_lumas(clip))
    inside = [luma for t, luma in frames if 1.0 <= t < 2.0 - 0.001]
    outside = [luma for t, luma in frames if t < 0.96 or t >= 2.04]
    assert len(inside) >= 24 and len(outside) >= 70
    assert max(inside) < 20  # black (limited-range luma 16)
    assert min(outside) > 40  # the test picture
    quiet, before, after = loudness(out, [(1.05, 1.95), (0.1, 0.9), (2.1, 3.9)])
    assert quiet < 1e-3
    assert before > 0.05 and after > 0.05


def test_caption_words_inside_a_blank_are_left_out() -> None:
    words = (
        Word(0.0, 0.4, "Well"), Word(0.5, 0.9, "done"), Word(1.0, 1.4, "Amira"),
        Word(1.5, 1.9, "that"), Word(2.0, 2.4, "is"), Word(2.5, 2.9, "right"),
    )  # fmt: skip
    transcript = Transcript(
        "en",
        10.0,
        (
            Segment(0.0, 2.9, "Well done Amira that is right", words),
            Segment(4.0, 5.0, "No timings here", ()),
            Segment(7.0, 8.0, "Nor here", ()),
        ),
    )
    hidden = hide_words(transcript, [(0.95, 1.45), (4.5, 4.6)])
    assert [s.text for s in hidden.segments] == ["Well done that is right", "Nor here"]
    assert "Amira" not in {w.text for w in hidden.segments[0].words}
    assert hide_words(transcript, []) == transcript


def test_a_stored_recording_is_blanked_frame_exactly_and_the_rest_copied(tmp_path: Path) -> None:
    """Only the groups of pictures holding a moment are re-encoded: every frame keeps its
    number, the frames inside the ranges (and only those) are black, the sound is silent there."""
    from pipeline.redact import blank_recording

    src = mf.make_counter_video(tmp_path / "lesson.mp4", frames=250, fps=25, gop=50).path
    ranges = [(2.0, 3.0), (7.5, 7.9)]
    result = blank_recording(src, tmp_path / "blanked.mp4", ranges)
    assert not result.whole and result.frames == 250
    assert 100 <= result.copied_frames <= 150  # groups at 0-2, 4-6 and 8-10 s copied
    frames = mf.decode_gray_frames(result.path)
    assert len(frames) == 250
    for i, gray in enumerate(frames):
        if 50 <= i < 75 or 188 <= i < 198:
            assert gray.mean() < 8, i
        else:
            assert mf.read_counter(gray) == i, i
    quiet, other, before, after = loudness(
        result.path, [(2.05, 2.95), (7.55, 7.85), (0.1, 1.9), (3.1, 7.4)]
    )
    assert quiet < 1e-3 and other < 1e-3
    assert before > 0.05 and after > 0.05


def test_a_recording_without_copyable_keyframes_is_blanked_whole(tmp_path: Path) -> None:
    from pipeline.redact import blank_recording

    src = mf.make_video(tmp_path / "lesson.mkv", duration=2.0, vcodec="mpeg4").path
    result = blank_recording(src, tmp_path / "blanked.mp4", [(0.5, 1.0)])
    assert result.whole and result.copied_frames == 0
    frames = frame_lumas(result.path)
    assert max(luma for t, luma in frames if 0.5 <= t < 0.999) < 20
    assert min(luma for t, luma in frames if t < 0.46 or t >= 1.04) > 40


def test_a_copied_group_of_one_frame_survives_the_join(tmp_path: Path) -> None:
    """Groups of pictures can be one frame long (an encoder that starts one at each of two
    scene changes a frame apart): its copied part is smaller than the join's MPEG-TS probe
    wants and is padded (pipeline.clip.render_parts, shared with clips), not dropped."""
    from pipeline.redact import blank_recording

    src = mf.make_counter_video(tmp_path / "lesson.mp4", keyframes_at=(2.0, 2.04)).path
    result = blank_recording(src, tmp_path / "blanked.mp4", [(0.5, 1.0)])
    assert not result.whole and result.frames == 100
    assert result.copied_frames == 50  # the one-frame group at 2.0 s and the rest from 2.04 s
    frames = mf.decode_gray_frames(result.path)
    assert len(frames) == 100
    for i, gray in enumerate(frames):
        if 13 <= i < 25:  # 0.52 .. 0.96 s
            assert gray.mean() < 8, i
        else:
            assert mf.read_counter(gray) == i, i
