"""Blanking a stored lesson's files in one folder (pipeline.blanking): the browser copy and the
source black and silent inside, every transcript version without the words, speech regions cut."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.blanking import blank_lesson_files, cut_out
from pipeline.captions import write_transcript_files
from pipeline.lesson import PROBE, SCENES, LessonOptions, run_stage
from pipeline.transcript import Segment, Transcript, Word
from tests import mediafactory as mf


def test_cut_out_shortens_and_splits_spans() -> None:
    assert cut_out([(0.0, 10.0)], [(2.0, 3.0), (5.0, 6.0)]) == [(0.0, 2.0), (3.0, 5.0), (6.0, 10.0)]
    assert cut_out([(2.5, 2.8), (4.0, 5.0)], [(2.0, 3.0)]) == [(4.0, 5.0)]


def test_every_stored_file_loses_the_moment(tmp_path: Path) -> None:
    work = tmp_path / "lesson"
    work.mkdir()
    mf.make_counter_video(work / "lesson.mp4", frames=100, fps=25, gop=25)
    (work / "source.mp4").write_bytes((work / "lesson.mp4").read_bytes())
    words = (Word(0.5, 0.9, "Well"), Word(1.6, 1.9, "Amira"), Word(3.0, 3.4, "right"))
    transcript = Transcript("en", 4.0, (Segment(0.5, 3.4, "Well Amira right", words),))
    write_transcript_files(transcript, work)
    (work / "transcripts" / "v1").mkdir(parents=True)
    write_transcript_files(transcript, work / "transcripts" / "v1", ("json", "txt"))
    (work / "speech.json").write_text(json.dumps({"regions": [[0.4, 3.5]], "options": {}}))

    done = blank_lesson_files(work, "lesson.mp4", [(1.5, 2.0)])

    assert done.source == "source.mp4" and not done.source_from_browser_copy
    for name in ("lesson.mp4", "source.mp4"):
        frames = mf.decode_gray_frames(work / name)
        assert len(frames) == 100
        assert all(frames[i].mean() < 8 for i in range(38, 50)), name
        assert all(mf.read_counter(frames[i]) == i for i in (*range(1, 37), *range(51, 100)))
    assert done.words_removed == 1
    for folder in (work, work / "transcripts" / "v1"):
        for path in folder.glob("transcript.*"):
            assert "Amira" not in path.read_text(), path
            assert "right" in path.read_text(), path
    assert done.version_words == {"v1": 2}
    regions = json.loads((work / "speech.json").read_text())["regions"]
    assert regions == [[0.4, 1.5], [2.0, 3.5]]


def test_the_probe_and_the_scene_scores_follow_the_blanked_source(tmp_path: Path) -> None:
    """Left as they were, probe.json would describe a source that is gone (its size, or its
    name and codecs when the browser copy replaced it) and the candidate clips would be cut from
    scenes of pictures nobody can see any more."""
    work = tmp_path / "lesson"
    work.mkdir()
    mf.make_counter_video(work / "lesson.mp4", frames=200, fps=25, gop=25)
    (work / "source.mp4").write_bytes((work / "lesson.mp4").read_bytes())
    for stage in ("probe", "scenes"):
        run_stage(stage, work, LessonOptions())
    before, old_size = _scores(work), json.loads((work / PROBE).read_text())["size"]
    assert before[4.0] > 0.3 and before[5.0] > 0.3  # the counter changes at every keyframe

    done = blank_lesson_files(work, "lesson.mp4", [(2.5, 5.5)])

    assert done.source == "source.mp4" and {PROBE, SCENES} <= set(done.rewritten)
    probed = json.loads((work / PROBE).read_text())
    assert probed["size"] == (work / "source.mp4").stat().st_size != old_size
    after = _scores(work)
    inside = [score for t, score in after.items() if 3.0 <= t < 5.5]  # black after black
    assert len(inside) >= 2 and max(inside) < 0.05, after


def _scores(work: Path) -> dict[float, float]:
    scenes = json.loads((work / SCENES).read_text())
    return dict(zip(scenes["times"], scenes["scores"], strict=True))
