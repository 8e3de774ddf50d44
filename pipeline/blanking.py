"""Blanking moments in a stored lesson: every file processing made, rewritten in one folder.

The worker (workers/blank_tasks.py) fetches a lesson's files into a scratch folder under the
names processing gave them (pipeline.lesson), calls `blank_lesson_files`, and stores what it
says it rewrote. Nothing here reads storage or the database.

    source.*           black and silent in the ranges (only the groups of pictures holding
                       them re-encoded, pipeline.redact); a source whose picture cannot be
                       copied around a moment (HEVC, MJPEG, rotated...) is replaced by the
                       blanked browser copy instead of being re-encoded whole
    lesson.mp4|.m4a    the browser copy, the same way
    audio.wav          extracted again from the blanked source (it feeds transcription)
    poster.jpg, sprite.jpg, thumbnails.vtt   made again from the blanked browser copy
    transcript.*, transcripts/v*/transcript.*  every word said (even partly) in a range removed
    probe.json, scenes.json   made again from the blanked source (its size, maybe its name and
                       codecs, changed; the black stretch is a scene of its own)
    speech.json, speakers.json   the ranges cut out of the speech regions and speaker turns
    segments.json, analytics.json   made again from the blanked transcript and scenes
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.lesson import (
    ANALYTICS,
    AUDIO,
    PROBE,
    SCENES,
    SEGMENTS,
    SPEAKERS,
    SPEECH_REGIONS,
    THUMBNAIL_FILES,
    LessonOptions,
    run_stage,
)
from pipeline.redact import BlankOptions, Range, blank_recording, hide_words, merge_ranges
from pipeline.tools import atomic_output

if TYPE_CHECKING:
    from pipeline.probe import ProbeResult

TRANSCRIPTS_DIR = "transcripts"
COPYABLE_CONTAINERS = ("mov", "mp4")


@dataclass
class BlankedFiles:
    """What `blank_lesson_files` rewrote (names relative to the folder) and how."""

    rewritten: list[str] = field(default_factory=list)
    source: str | None = None
    """The blanked source's name (it may differ from the original's: `source.mp4`)."""
    source_from_browser_copy: bool = False
    words_removed: int = 0
    copied_frames: int = 0
    frames: int = 0
    version_words: dict[str, int] = field(default_factory=dict)
    """Words left in each kept transcript version, by its folder name (`v1`)."""


def cut_out(spans: Sequence[Range], ranges: Sequence[Range]) -> list[Range]:
    """`spans` without any time inside `ranges` (a span is shortened or split)."""
    out: list[Range] = []
    for start, end in spans:
        pieces = [(start, end)]
        for b_start, b_end in ranges:
            pieces = [
                piece
                for s, e in pieces
                for piece in ((s, min(e, b_start)), (max(s, b_end), e))
                if piece[1] - piece[0] > 1e-6
            ]
        out += [(round(s, 3), round(e, 3)) for s, e in pieces]
    return out


def _write_json(path: Path, data: Any) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


def _source(workdir: Path) -> Path | None:
    found = sorted(p for p in workdir.glob("source*") if p.is_file())
    return found[0] if found else None


def _copies_around(info: ProbeResult) -> bool:
    """Whether the picture can be copied around a moment (H.264 in MP4 framing, upright);
    sound alone can always be blanked cheaply."""
    video = info.video
    if video is None:
        return True
    in_mp4 = any(name in info.format_name.split(",") for name in COPYABLE_CONTAINERS)
    return video.codec == "h264" and not video.rotation and in_mp4


def _blank_transcript(path: Path, ranges: Sequence[Range]) -> tuple[int, int]:
    """Rewrite transcript.json at `path` and its sibling formats; (words removed, words left)."""
    from pipeline.captions import FORMATS, write_transcript_files
    from pipeline.transcript import Transcript

    transcript = Transcript.from_dict(json.loads(path.read_text(encoding="utf-8")))
    hidden = hide_words(transcript, ranges)
    present = [f for f in FORMATS if (path.parent / f"transcript.{f}").exists()]
    write_transcript_files(hidden, path.parent, present)
    return len(transcript.words) - len(hidden.words), len(hidden.words)


def blank_lesson_files(
    workdir: Path,
    media_name: str,
    ranges: Sequence[Range],
    options: LessonOptions = LessonOptions(),
    blank_options: BlankOptions = BlankOptions(),
) -> BlankedFiles:
    """Blank `ranges` (lesson seconds) in every file of `workdir` (see the module docstring)."""
    from pipeline.probe import ProbeOptions, probe

    merged = merge_ranges(ranges)
    done = BlankedFiles()
    media = workdir / media_name
    staged = workdir / ".blanked"
    staged.mkdir(exist_ok=True)
    new_media = staged / media_name
    result = blank_recording(media, new_media, merged, blank_options)
    done.frames, done.copied_frames = result.frames, result.copied_frames

    source = _source(workdir)
    if source is not None:
        info = probe(source, ProbeOptions(scan_packets=False))
        suffix = ".mp4" if info.video is not None else ".m4a"
        new_source = staged / f"source{suffix}"
        if _copies_around(info):
            blank_recording(source, new_source, merged, blank_options, probe=info)
        else:
            new_source.write_bytes(new_media.read_bytes())
            done.source_from_browser_copy = True
        source.unlink()
        new_source.replace(workdir / new_source.name)
        done.source = new_source.name
        done.rewritten.append(new_source.name)
    new_media.replace(media)
    done.rewritten.append(media_name)

    if done.source is not None:  # what describes or scores the source, from the new one
        for stage, output in (("probe", PROBE), ("scenes", SCENES)):
            if (workdir / output).exists():
                done.rewritten += run_stage(stage, workdir, options).outputs

    if (workdir / AUDIO).exists() and done.source is not None:
        from pipeline.audio import extract_audio

        extract_audio(workdir / done.source, workdir / AUDIO)
        done.rewritten.append(AUDIO)

    if (workdir / THUMBNAIL_FILES[0]).exists() and media_name.endswith(".mp4"):
        from pipeline.thumbnails import ThumbnailOptions, make_thumbnails

        make_thumbnails(media, workdir, options.thumbnails or ThumbnailOptions())
        done.rewritten += list(THUMBNAIL_FILES)

    current = workdir / "transcript.json"
    if current.exists():
        removed, _ = _blank_transcript(current, merged)
        done.words_removed = removed
        done.rewritten += sorted(p.name for p in workdir.glob("transcript.*"))
    for version in sorted((workdir / TRANSCRIPTS_DIR).glob("v*/transcript.json")):
        _, left = _blank_transcript(version, merged)
        done.version_words[version.parent.name] = left
        done.rewritten += sorted(
            p.relative_to(workdir).as_posix() for p in version.parent.glob("transcript.*")
        )

    for name, key in ((SPEECH_REGIONS, "regions"), (SPEAKERS, "turns")):
        path = workdir / name
        if not path.exists():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        if key == "regions":
            data["regions"] = [list(r) for r in cut_out(data.get("regions", []), merged)]
        else:
            data["turns"] = [
                {**turn, "start": s, "end": e}
                for turn in data.get("turns", [])
                for s, e in cut_out([(turn["start"], turn["end"])], merged)
            ]
        _write_json(path, data)
        done.rewritten.append(name)

    if (workdir / PROBE).exists() and (workdir / SEGMENTS).exists():
        (workdir / ANALYTICS).unlink(missing_ok=True)
        outcome = run_stage("segment", workdir, options)
        done.rewritten += outcome.outputs
    return done
