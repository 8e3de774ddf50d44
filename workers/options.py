"""Turning settings (and a lesson's own overrides) into the pipeline's option objects."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from models.mediatype import sniff_extension
from models.settings import Settings
from pipeline.lesson import LessonOptions


def model_spec(settings: Settings, overrides: dict[str, Any] | None = None) -> Any:
    from pipeline.transcribe import ModelSpec, default_model_path

    name = (overrides or {}).get("model") or settings.model or str(default_model_path())
    spec = ModelSpec(name_or_path=name, device=settings.device, compute_type=settings.compute_type)
    if settings.cpu_threads:
        spec = dataclasses.replace(spec, cpu_threads=settings.cpu_threads)
    return spec


def lesson_options(
    settings: Settings,
    overrides: dict[str, Any] | None = None,
    *,
    transcribe: bool = True,
    pupil_names: tuple[str, ...] = (),
) -> LessonOptions:
    """Options for one lesson: deployment settings, then the lesson's own language/vocabulary,
    and the names on the class lists that apply to it (hotwords, not recorded)."""
    from pipeline.probe import ProbeOptions
    from pipeline.transcribe import TranscribeOptions

    overrides = overrides or {}
    vocabulary = overrides.get("vocabulary") or settings.vocabulary
    return LessonOptions(
        transcribe=transcribe,
        max_duration=settings.max_duration_seconds,
        stage_timeout=settings.stage_timeout_seconds,
        probe=ProbeOptions(sniff=sniff_extension),
        transcription=TranscribeOptions(
            language=overrides.get("language") or settings.language,
            vocabulary=tuple(vocabulary),
            pupil_names=pupil_names,
        ),
    )


def vocabulary_file(path: Path) -> list[str]:
    """The terms of a vocabulary file given on the command line, read by the pipeline's one rule
    (one term a line; `# comments` and blank lines are not hotwords)."""
    from pipeline.transcribe import vocabulary_from_lines

    return list(vocabulary_from_lines(path.read_text().splitlines()))
