"""Which files are recordings, and where each one's transcripts go under OUT (mirroring the
input tree).

A file's content is judged by the API's own sniffer (`models.mediatype`), so a file the batch
takes is one an upload would take too; this module adds only the rule by name (a media suffix is
taken without looking inside) and the layout of the outputs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from models.mediatype import SNIFF_BYTES, NotARecordingError, sniff

log = logging.getLogger(__name__)

MEDIA_SUFFIXES = frozenset(
    {
        # video
        ".mp4", ".m4v", ".mov", ".qt", ".mkv", ".webm", ".avi", ".wmv", ".asf", ".flv", ".mpg",
        ".mpeg", ".m2v", ".ts", ".mts", ".m2ts", ".3gp", ".3g2", ".ogv", ".mxf", ".dv", ".vob",
        ".hevc", ".h264",
        # audio
        ".mp3", ".m4a", ".aac", ".wav", ".flac", ".ogg", ".oga", ".opus", ".wma", ".aif", ".aiff",
        ".amr", ".caf", ".mka", ".ac3",
    }
)  # fmt: skip
"""Files with these suffixes are taken as recordings without looking inside: a PDF renamed
`.mp4` is then reported as "not media" rather than silently passed over, which is what a coach
who put it in the folder wants to know."""


def sniff_media(head: bytes) -> bool:
    """Whether the first bytes of a file look like a recording, by the API's own rule
    (`models.mediatype`), so a file the batch takes is one an upload would take too.

    Used for files whose name does not say what they are (no suffix, `.dat`, a camera's own
    suffix); ffprobe has the final word later.
    """
    try:
        sniff(head)
    except NotARecordingError:
        return False
    return True


def is_recording(path: Path) -> bool:
    """A media suffix, or content that sniffs as media."""
    if path.suffix.lower() in MEDIA_SUFFIXES:
        return True
    try:
        with open(path, "rb") as handle:
            return sniff_media(handle.read(SNIFF_BYTES))
    except OSError:
        return False


@dataclass(frozen=True)
class Recording:
    """One input file and where its transcripts go: OUT/<out_stem>.<format>."""

    path: Path
    rel: PurePosixPath
    """The file's place in the input tree, as shown to the coach."""
    out_stem: PurePosixPath

    def output(self, out: Path, fmt: str) -> Path:
        return out / f"{self.out_stem}.{fmt}"


def _walk(root: Path, recursive: bool, skip: Path | None) -> Iterator[Path]:
    """Files under `root` in a stable order, leaving out hidden entries and the output folder."""
    try:
        entries = sorted(root.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        log.warning("cannot list %s: %s", root, exc)
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if skip is not None and entry.resolve() == skip:
            continue
        if entry.is_dir():
            if recursive and not entry.is_symlink():  # a linked folder could loop back
                yield from _walk(entry, recursive, skip)
        elif entry.is_file():
            yield entry


def find_recordings(
    paths: Sequence[Path], *, recursive: bool = False, out: Path | None = None
) -> list[Recording]:
    """The recordings named by `paths`, each with an output place that mirrors the input tree.

    A file named on the command line is always taken (if it is not media, the summary says so).
    Inside folders, files are taken by suffix or content. With one folder argument its contents
    map straight onto OUT; with several arguments each folder keeps its own name under OUT so
    two folders' `lesson1.mp4` do not collide.
    """
    skip = out.resolve() if out is not None else None
    single_folder = len(paths) == 1 and paths[0].is_dir()
    found: list[tuple[Path, PurePosixPath]] = []
    seen: set[Path] = set()
    for root in paths:
        if root.is_dir():
            base = PurePosixPath() if single_folder else PurePosixPath(root.resolve().name)
            for file in _walk(root, recursive, skip):
                if is_recording(file) and file.resolve() not in seen:
                    seen.add(file.resolve())
                    found.append((file, base / file.relative_to(root).as_posix()))
        elif root.resolve() not in seen:
            seen.add(root.resolve())
            found.append((root, PurePosixPath(root.name)))
    return _assign_outputs(found)


def _assign_outputs(found: Iterable[tuple[Path, PurePosixPath]]) -> list[Recording]:
    """Output stems: `a/lesson.mp4` -> `a/lesson`, unless two inputs would share one.

    `lesson.mp4` beside `lesson.m4a` keep their suffixes (`lesson.mp4.vtt`); any remaining clash
    (the same name under two arguments) gets a counter.
    """
    items = list(found)
    stems: dict[PurePosixPath, int] = {}
    for _, rel in items:
        stem = rel.with_suffix("")
        stems[stem] = stems.get(stem, 0) + 1
    taken: set[PurePosixPath] = set()
    recordings = []
    for path, rel in items:
        stem = rel.with_suffix("") if stems[rel.with_suffix("")] == 1 else rel
        candidate, n = stem, 1
        while candidate in taken:
            n += 1
            candidate = stem.with_name(f"{stem.name}-{n}")
        taken.add(candidate)
        recordings.append(Recording(path=path, rel=rel, out_stem=candidate))
    return recordings
