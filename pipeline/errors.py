"""Typed failures of the media pipeline, each with a stable machine-readable `code`.

    PipelineError                 code            meaning for the person who uploaded
    ├── EmptyFileError            empty_file      the file has no bytes
    ├── NotMediaError             not_media       not audio or video (text, PDF, image, noise)
    ├── NoStreamsError            no_streams      a media container with no audio or video in it
    ├── UnreadableMediaError      unreadable_media  a media file that cannot be decoded (truncated
    │                                             before its index, corrupted beyond repair)
    ├── MediaTooLongError         too_long        longer than the deployment allows
    ├── NoAudioError              no_audio        a stage needs sound and the recording has none
    ├── NoVideoError              no_video        a stage needs pictures and the recording has none
    ├── ClipRangeError            clip_out_of_range  a clip's start/end is outside the media or
    │                                             not in order
    ├── FfmpegError               ffmpeg_failed   ffmpeg exited non-zero for another reason
    ├── TranscriptionError        transcription_failed  the speech model failed
    ├── StageTimeoutError         stage_timeout   a tool ran past its time limit
    └── NoSpaceError              no_space        the disk filled while a stage wrote (the
                                                  server's problem, not the recording's)

Codes are part of the API: clients and tests match on them, so never rename one. `message` is
written for a teacher; `detail` keeps the technical tail (ffmpeg's stderr) for logs.
"""

from __future__ import annotations


class PipelineError(Exception):
    """A stage failed for a reason the uploader can be told about."""

    code = "pipeline_error"

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class EmptyFileError(PipelineError):
    code = "empty_file"


class NotMediaError(PipelineError):
    code = "not_media"


class NoStreamsError(PipelineError):
    code = "no_streams"


class UnreadableMediaError(PipelineError):
    code = "unreadable_media"


class MediaTooLongError(PipelineError):
    code = "too_long"


class NoAudioError(PipelineError):
    code = "no_audio"


class NoVideoError(PipelineError):
    code = "no_video"


class ClipRangeError(PipelineError):
    code = "clip_out_of_range"


class FfmpegError(PipelineError):
    code = "ffmpeg_failed"


class TranscriptionError(PipelineError):
    code = "transcription_failed"


class StageTimeoutError(PipelineError):
    code = "stage_timeout"


class NoSpaceError(PipelineError):
    """Raised instead of OSError(ENOSPC), and for ffmpeg's "No space left on device", so callers
    catch one type rather than match errno values or ffmpeg's words."""

    code = "no_space"


ALL_ERRORS: tuple[type[PipelineError], ...] = (
    EmptyFileError,
    NotMediaError,
    NoStreamsError,
    UnreadableMediaError,
    MediaTooLongError,
    NoAudioError,
    NoVideoError,
    ClipRangeError,
    FfmpegError,
    TranscriptionError,
    StageTimeoutError,
    NoSpaceError,
)
