"""A lesson's processing as a small graph of stages over one working folder.

The same stage functions serve `clipcoach process` (every stage in one folder, two at a time) and
the Celery workers (one stage per task, inputs fetched from storage into a scratch folder). Each
stage reads and writes files with fixed names, so a stage can be re-run, on any machine, from
its inputs alone:

    source.* ─► probe ─► probe.json
      │           ├─► normalise ─► lesson.mp4 | lesson.m4a
      │           ├─► thumbnails ─► poster.jpg, sprite.jpg, thumbnails.vtt
      │           ├─► scenes ─► scenes.json
      └───────────┴─► audio ─► audio.wav ─► transcribe ─► transcript.{json,vtt,srt,txt},
                                                               speech.json, speakers.json
                          segment (after transcribe, thumbnails, scenes) ─► segments.json,
                                                                            analytics.json

Everything but the browser copy reads the source itself, not the normalised file: audio, so
transcription (the long pole) starts while the video is still being normalised and the two
branches keep both cores busy; pictures and scenes, so that when the video must be transcoded
(HEVC phone video, odd codecs: minutes of work) the transcript, the suggested clips and the
poster are ready long before the browser copy is. Only `normalise` stands between those and a
fully ready lesson. (ffmpeg starts the source's timestamps at 0 as the normalised copy does, so
tile and scene times hold for both; a sparse-keyframe source is sampled cheaply, see
`pipeline.frames`.)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import MediaTooLongError, NoSpaceError, PipelineError
from pipeline.tools import NO_SPACE_MESSAGE, no_space

if TYPE_CHECKING:
    from pipeline.probe import ProbeResult
    from pipeline.transcribe import Transcriber
    from pipeline.transcript import Transcript

StageProgress = Callable[[str, float], None]
"""Called with a stage name and the fraction of that stage done."""

SOURCE_STEM = "source"
PROBE = "probe.json"
NORMALISED = "normalise.json"
AUDIO = "audio.wav"
TRANSCRIPT_FILES = ("transcript.json", "transcript.vtt", "transcript.srt", "transcript.txt")
THUMBNAIL_FILES = ("poster.jpg", "sprite.jpg", "thumbnails.vtt")
SCENES = "scenes.json"
SEGMENTS = "segments.json"
SPEECH_REGIONS = "speech.json"
"""Where the audio holds speech (pipeline.voice), made with the transcript: analytics read it."""
SPEAKERS = "speakers.json"
"""Who spoke when (pipeline.speakers), made with the transcript over its words' times:
{"turns": [{"start", "end", "label", "confidence"}], "confidence": ..., ...}; no turns when the
split could not run (the analytics then count all speech as one)."""
ANALYTICS = "analytics.json"
"""The talk analytics (pipeline.analytics), made with the candidate clips from the transcript."""


@dataclass(frozen=True)
class StageSpec:
    name: str
    after: tuple[str, ...]
    inputs: tuple[str, ...]
    """Files the stage reads; `source` means the original recording, `media` the normalised one."""
    queue: str
    weight: float
    """Share of a typical lesson's processing time, for the overall progress figure."""


STAGES: dict[str, StageSpec] = {
    s.name: s
    for s in (
        StageSpec("probe", (), ("source",), "media", 1),
        StageSpec("normalise", ("probe",), ("source", PROBE), "media", 12),
        StageSpec("audio", ("probe",), ("source", PROBE), "media", 3),
        StageSpec("transcribe", ("audio",), (AUDIO,), "transcribe", 60),
        StageSpec("thumbnails", ("probe",), ("source", PROBE), "media", 6),
        StageSpec("scenes", ("probe",), ("source", PROBE), "media", 6),
        StageSpec(
            "segment",
            ("transcribe", "thumbnails", "scenes"),
            (PROBE, "transcript.json", SCENES, SPEECH_REGIONS, SPEAKERS),
            "media",
            2,
        ),
    )
}

TRANSCRIPTION_STAGES = ("audio", "transcribe", "segment")
"""The stages that depend on the transcription settings, so transcribing a lesson again runs
them and no others. Audio too: it is skipped while transcription is off, so it may never have
been made."""


@dataclass(frozen=True)
class LessonOptions:
    """Everything a lesson's stages may be tuned by; built by the caller from settings."""

    transcribe: bool = True
    max_duration: float = 4 * 3600
    stage_timeout: float = 3 * 3600
    probe: Any = None
    normalise: Any = None
    transcription: Any = None
    thumbnails: Any = None
    scenes: Any = None
    segments: Any = None
    speakers: Any = None


@dataclass
class StageOutcome:
    """What a stage made: files to keep and facts to record on the lesson."""

    outputs: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    skipped: str | None = None
    """Why the stage had nothing to do (no audio, no video, transcription switched off)."""


def source_path(workdir: Path) -> Path:
    """The original recording in `workdir`, whatever its extension."""
    found = sorted(workdir.glob(f"{SOURCE_STEM}*"))
    if not found:
        raise FileNotFoundError(f"no {SOURCE_STEM}.* in {workdir}")
    return found[0]


def read_probe(workdir: Path) -> ProbeResult:
    from pipeline.probe import ProbeResult

    return ProbeResult.from_dict(json.loads((workdir / PROBE).read_text()))


def read_transcript(workdir: Path) -> Transcript | None:
    from pipeline.transcript import Transcript

    path = workdir / "transcript.json"
    if not path.exists():
        return None
    return Transcript.from_dict(json.loads(path.read_text()))


def _write_json(path: Path, data: Any) -> None:
    from pipeline.tools import atomic_output

    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False))


def ready_stages(done: set[str], started: set[str]) -> list[str]:
    """Stages whose prerequisites are all finished (done or skipped) and that have not started."""
    return [
        name
        for name, spec in STAGES.items()
        if name not in started and all(dep in done for dep in spec.after)
    ]


def run_stage(
    name: str,
    workdir: Path,
    options: LessonOptions,
    *,
    transcriber: Transcriber | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> StageOutcome:
    """Run one stage in `workdir` and say what it made.

    Whatever the recording or a full disk causes is a PipelineError subclass (NoSpaceError for
    ENOSPC under any write of the stage's own); anything else raised is a bug."""
    try:
        return _RUNNERS[name](workdir, options, transcriber, on_progress)
    except OSError as exc:
        if not no_space(exc):
            raise
        raise NoSpaceError(NO_SPACE_MESSAGE, detail=str(exc)) from exc


def _probe(workdir: Path, options: LessonOptions, _m: Any, _p: Any) -> StageOutcome:
    from pipeline.probe import ProbeOptions, probe

    result = probe(source_path(workdir), options.probe or ProbeOptions())
    if result.duration and result.duration > options.max_duration:
        raise MediaTooLongError(
            f"The recording is {result.duration / 60:.0f} minutes long; this deployment accepts "
            f"up to {options.max_duration / 60:.0f} minutes."
        )
    _write_json(workdir / PROBE, result.to_dict())
    return StageOutcome(
        outputs=[PROBE],
        facts={
            "duration": result.duration,
            "has_video": result.has_video,
            "has_audio": result.has_audio,
        },
    )


def _normalise(
    workdir: Path, options: LessonOptions, _m: Any, progress: Callable[[float], None] | None
) -> StageOutcome:
    from pipeline.normalise import NormaliseOptions, normalise, output_name

    info = read_probe(workdir)
    dst = workdir / output_name(info)
    result = normalise(
        source_path(workdir),
        dst,
        info,
        options.normalise or NormaliseOptions(),
        on_progress=progress,
    )
    _write_json(workdir / NORMALISED, result.to_dict())
    return StageOutcome(
        outputs=[dst.name, NORMALISED],
        facts={"media": dst.name},
        warnings=list(result.warnings),
    )


def _audio(
    workdir: Path, options: LessonOptions, _m: Any, progress: Callable[[float], None] | None
) -> StageOutcome:
    from pipeline.audio import extract_audio

    info = read_probe(workdir)
    if not info.has_audio:
        return StageOutcome(skipped="This recording has no sound, so it has no transcript.")
    if not options.transcribe:
        return StageOutcome(skipped="Transcription is switched off for this lesson.")
    extract_audio(source_path(workdir), workdir / AUDIO, on_progress=progress)
    return StageOutcome(outputs=[AUDIO])


def _transcribe(
    workdir: Path,
    options: LessonOptions,
    transcriber: Transcriber | None,
    progress: Callable[[float], None] | None,
) -> StageOutcome:
    from pipeline.captions import write_transcript_files
    from pipeline.transcribe import TranscribeOptions

    if not options.transcribe:  # an audio file left from an earlier run is not a reason
        return StageOutcome(skipped="Transcription is switched off for this lesson.")
    if not (workdir / AUDIO).exists():
        return StageOutcome(skipped="No audio to transcribe.")
    if transcriber is None:
        raise PipelineError("transcription needs a transcriber")
    transcript = transcriber(
        workdir / AUDIO, options.transcription or TranscribeOptions(), on_progress=progress
    )
    files = write_transcript_files(transcript, workdir)
    _write_json(workdir / SPEECH_REGIONS, speech_regions_of(transcript, workdir / AUDIO))
    warnings = write_speakers(workdir, transcript, options.speakers)
    return StageOutcome(
        outputs=[*(p.name for p in files.values()), SPEECH_REGIONS, SPEAKERS],
        facts={"words": len(transcript.words)},
        warnings=warnings,
    )


def write_speakers(workdir: Path, transcript: Transcript, options: Any = None) -> list[str]:
    """speakers.json: teacher and pupil turns over the transcript's words in audio.wav. Always
    written (empty when the split cannot run) so an earlier transcript's turns never outlive it;
    a missing voice model is a warning, not a failed lesson."""
    from pipeline.speakers import (
        SpeakerModelUnavailableError,
        SpeakerOptions,
        SpeakerSplit,
        split_lesson_audio,
    )

    words = [(w.start, w.end) for w in transcript.words]
    warnings: list[str] = []
    try:
        split = split_lesson_audio(workdir / AUDIO, words, options or SpeakerOptions())
    except SpeakerModelUnavailableError as exc:
        split = SpeakerSplit()
        warnings.append(f"Teacher and pupil talk are not told apart: {exc.message}")
    _write_json(workdir / SPEAKERS, split.to_dict())
    return warnings


def speech_regions_of(transcript: Transcript, audio: Path) -> dict[str, Any]:
    """speech.json: the regions the transcription's own VAD pass found, or, when it ran none
    (the sound cut, another transcriber), those of a pass over `audio` made now."""
    from pipeline.voice import VoiceOptions, regions_to_dict, speech_regions

    options = VoiceOptions()
    if transcript.speech is not None:
        return regions_to_dict(transcript.speech, options)
    return regions_to_dict(speech_regions(audio, options), options)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.exists() else None


def _thumbnails(
    workdir: Path, options: LessonOptions, _m: Any, progress: Callable[[float], None] | None
) -> StageOutcome:
    from pipeline.thumbnails import ThumbnailOptions, make_thumbnails

    info = read_probe(workdir)
    if not info.has_video:
        return StageOutcome(skipped="Audio-only recording: no pictures to show.")
    make_thumbnails(
        source_path(workdir),
        workdir,
        options.thumbnails or ThumbnailOptions(),
        probe=info,
        on_progress=progress,
    )
    return StageOutcome(outputs=list(THUMBNAIL_FILES))


def _scenes(
    workdir: Path, options: LessonOptions, _m: Any, progress: Callable[[float], None] | None
) -> StageOutcome:
    from pipeline.scenes import SceneOptions, scene_scores

    info = read_probe(workdir)
    if not info.has_video:
        return StageOutcome(skipped="Audio-only recording: no scenes.")
    result = scene_scores(
        source_path(workdir), options.scenes or SceneOptions(), probe=info, on_progress=progress
    )
    _write_json(workdir / SCENES, result.to_dict())
    return StageOutcome(outputs=[SCENES])


def _segment(workdir: Path, options: LessonOptions, _m: Any, _p: Any) -> StageOutcome:
    from pipeline.scenes import SceneResult
    from pipeline.segment import SegmentOptions, segment

    info = read_probe(workdir)
    scenes_file = workdir / SCENES
    cuts: list[float] = []
    if scenes_file.exists():
        cuts = list(SceneResult.from_dict(json.loads(scenes_file.read_text())).cuts)
    transcript = read_transcript(workdir)
    clips = segment(transcript, cuts, info.duration or 0.0, options.segments or SegmentOptions())
    _write_json(workdir / SEGMENTS, [c.to_dict() for c in clips])
    outputs = [SEGMENTS]
    if transcript is not None:
        _write_json(workdir / ANALYTICS, analytics_of(workdir, transcript, info.duration))
        outputs.append(ANALYTICS)
    return StageOutcome(outputs=outputs, facts={"segments": len(clips)})


def analytics_of(workdir: Path, transcript: Transcript, duration: float | None) -> dict[str, Any]:
    """The talk analytics of the transcript, with the speech regions and speaker turns beside
    it in `workdir` when there are any."""
    from pipeline.analytics import of_lesson

    speech = _read_json(workdir / SPEECH_REGIONS)
    speakers = _read_json(workdir / SPEAKERS)
    return of_lesson(transcript, duration, speech, speakers).to_dict()


_RUNNERS: dict[str, Callable[..., StageOutcome]] = {
    "probe": _probe,
    "normalise": _normalise,
    "audio": _audio,
    "transcribe": _transcribe,
    "thumbnails": _thumbnails,
    "scenes": _scenes,
    "segment": _segment,
}


def run_all(
    workdir: Path,
    options: LessonOptions,
    *,
    transcriber: Transcriber | None = None,
    on_progress: StageProgress | None = None,
    parallel: int = 2,
) -> dict[str, StageOutcome]:
    """Run every stage in `workdir`, `parallel` at a time in dependency order.

    Threads are enough: the heavy work happens in ffmpeg processes and in CTranslate2, both of
    which run outside the GIL. The first failure stops new stages and is raised once the running
    ones finish, so nothing is left half-written.
    """
    outcomes: dict[str, StageOutcome] = {}
    lock = threading.Lock()

    def job(name: str) -> StageOutcome:
        def progress(fraction: float) -> None:
            if on_progress:
                with lock:
                    on_progress(name, fraction)

        progress(0.0)
        outcome = run_stage(name, workdir, options, transcriber=transcriber, on_progress=progress)
        progress(1.0)
        return outcome

    started: set[str] = set()
    running: dict[Future[StageOutcome], str] = {}
    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="stage") as pool:
        while True:
            if failure is None:
                for name in ready_stages(set(outcomes), started):
                    started.add(name)
                    running[pool.submit(job, name)] = name
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                try:
                    outcomes[name] = future.result()
                except BaseException as exc:  # noqa: BLE001 - re-raised below, after running stages finish
                    failure = failure or exc
    if failure is not None:
        raise failure
    return outcomes
